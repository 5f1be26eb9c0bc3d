"""Faults injected into fbjax and what it must do about each: the cases behind tests/faults and
the runner (`python -m tests.faults.run`). Every function returns plain JSON-able records, one per
case, with `ok` and the message fbjax gave.

* kill_point:      SIGKILL the tiny pipeline at a point of one stage, rerun it, compare results
* corrupt_cases:   damage the latest checkpoint on disk; restore must fall back and say so
* enospc_cases:    a write that fails with ENOSPC; earlier files intact, the error names the file
* lock_cases:      a second writer on one folder is refused, and a killed holder leaves no lock
* bad_inputs:      invalid data and settings, each refused with one clear message, files unchanged
* multihost_kill:  one of two training processes killed; the other exits, clearly, in bounded time
* soak:            a long tiny training run's memory and step time (in a process of its own)
"""

import contextlib
import dataclasses
import errno
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import jax
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = os.path.join(ROOT, "experiments", "configs", "tiny_point_mass.py")
TINY_TABULAR = os.path.join(ROOT, "experiments", "configs", "tiny.py")

# Stage -> (the log line that starts it, the log line that ends it) in the pipeline's output.
STAGES = {"collect": ("=== collect", "=== train"), "train": ("=== train", "=== evaluate"),
          "evaluate": ("=== evaluate", "[oracle]"), "oracle": ("[oracle]", "=== report"),
          "report": ("=== report", "pipeline finished")}


def child_env() -> dict[str, str]:
    """The environment of every subprocess: the tests' persistent compilation cache, so a
    rerun costs its work, not its compiles."""
    env = dict(os.environ)
    env.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(ROOT, ".jax_cache"))
    env.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    return env


def pipeline_cmd(workdir, *overrides) -> list[str]:
    return [sys.executable, "-m", "experiments.pipeline", f"--config={TINY}",
            f"--config.workdir={workdir}", *overrides]


def run_pipeline(workdir, *overrides, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run(pipeline_cmd(workdir, *overrides), cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=child_env())


def outcome(workdir) -> dict[str, str]:
    """What a finished pipeline produced, made comparable across workdirs: every result row and
    the report's table and summary."""
    with open(os.path.join(workdir, "eval", "results.json")) as f:
        rows = json.load(f)["rows"]
    out = {"rows": json.dumps(rows, sort_keys=True)}
    for name in ("results.md", "summary.json"):
        with open(os.path.join(workdir, "report", name)) as f:
            out[name] = f.read()
    return out


def timed_run(workdir, kill_at: tuple[str, float] | None = None, timeout: float = 900):
    """Runs the pipeline, recording when each stage's start line appears; with kill_at =
    (stage, delay) SIGKILLs it `delay` seconds after that stage starts. Returns (returncode,
    {marker: seconds since start}, output lines, killed)."""
    proc = subprocess.Popen(pipeline_cmd(workdir), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=child_env())
    start, seen, lines, killed = time.perf_counter(), {}, [], threading.Event()
    markers = {m for pair in STAGES.values() for m in pair}

    def kill_later(delay):
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed.set()

    for line in proc.stdout:
        lines.append(line.rstrip())
        for marker in markers:
            if line.startswith(marker) and marker not in seen:
                seen[marker] = time.perf_counter() - start
                if kill_at is not None and marker == STAGES[kill_at[0]][0]:
                    threading.Thread(target=kill_later, args=(kill_at[1],), daemon=True).start()
        if time.perf_counter() - start > timeout:
            proc.kill()
    proc.wait()
    return proc.returncode, seen, lines, killed.is_set()


def stage_durations(seen: dict[str, float]) -> dict[str, float]:
    return {stage: seen[end] - seen[begin] for stage, (begin, end) in STAGES.items()
            if begin in seen and end in seen}


def kill_point(workdir, stage: str, delay: float, reference: dict[str, str]) -> dict:
    """SIGKILL a fresh pipeline `delay` s into `stage`, then run it again to the end: it must
    finish, leave a valid workdir and produce exactly the uninterrupted run's results."""
    from fbjax.pipeline.validate import validate

    code, _, lines, killed = timed_run(workdir, kill_at=(stage, delay))
    record = {"stage": stage, "delay_s": round(delay, 2), "killed": killed,
              "last_line_before_kill": lines[-1][:200] if lines else ""}
    if not killed:
        return {**record, "ok": None, "note": f"the run ended (code {code}) before the kill"}
    rerun = run_pipeline(workdir)
    record["rerun_returncode"] = rerun.returncode
    if rerun.returncode != 0:
        return {**record, "ok": False, "message": (rerun.stdout + rerun.stderr)[-1500:]}
    record["resumed"] = sorted(set(re.findall(r"(keeping it|resumed from step \d+)",
                                              rerun.stdout)))
    problems = [line for ok, line in validate(str(workdir)) if not ok]
    same = outcome(workdir) == reference
    return {**record, "ok": same and not problems, "results_equal_uninterrupted": same,
            "validator_problems": problems}


# ----------------------------------------------------------------- corrupted checkpoints --

ATTACKS = ("truncate", "flip", "delete", "empty")
# Files of an orbax step folder, by the role they play (a glob relative to the step).
CHECKPOINT_FILES = {
    "step metadata": "_CHECKPOINT_METADATA",
    "step commit marker": "commit_success.txt",
    "meta JSON": "meta/metadata",
    "state tree metadata": "state/_METADATA",
    "state manifest": "state/manifest.ocdbt",
    "state array data": "state/d/*",
    "state sharding": "state/_sharding",
    "state array metadata": "state/array_metadatas/process_0",
}


def _attack(path: str, attack: str) -> None:
    if attack == "truncate":
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) // 2)
    elif attack == "flip":
        data = bytearray(open(path, "rb").read())
        for i in range(len(data) // 3, len(data), max(1, len(data) // 7)):
            data[i] ^= 0x5A
        with open(path, "wb") as f:
            f.write(bytes(data))
    elif attack == "delete":
        os.remove(path)
    elif attack == "empty":
        open(path, "w").close()


def _tiny_states():
    from tests.helpers import continuous_agent, random_batch

    agent = continuous_agent()
    first = agent.init(jax.random.PRNGKey(0))
    second, _ = agent.update(first, random_batch(6, False), jax.random.PRNGKey(1))
    return agent, first, second


def _equal(a, b) -> bool:
    return all(np.array_equal(np.asarray(x), np.asarray(y))
               for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))


def corrupt_cases(folder, roles=tuple(CHECKPOINT_FILES), attacks=ATTACKS) -> list[dict]:
    """Each attack on each file of the latest of two checkpoints, then a restore: it must give
    back exactly one of the saved states (step 2 if the damage did not touch its values, else
    step 1, saying so on stderr), never damaged values or a crash."""
    import glob
    import io
    from contextlib import redirect_stderr

    from fbjax.train.checkpoint import Checkpointer

    agent, first, second = _tiny_states()
    cases = []
    for role in roles:
        pattern = CHECKPOINT_FILES[role]
        for attack in attacks:
            run = os.path.join(folder, f"{role.replace(' ', '_')}_{attack}")
            shutil.rmtree(run, ignore_errors=True)
            writer = Checkpointer(run)
            writer.save(1, first, {"step": 1})
            writer.save(2, second, {"step": 2})
            writer.close()
            files = sorted(glob.glob(os.path.join(run, "2", pattern)), key=os.path.getsize)
            if not files:
                continue
            _attack(files[-1], attack)  # the largest file of that role
            said = io.StringIO()
            try:
                with redirect_stderr(said):
                    reader = Checkpointer(run)
                    state, meta = reader.restore(agent.init(jax.random.PRNGKey(5)))
                    reader.close()
                expected = second if meta["step"] == 2 else first
                ok = _equal(state, expected) and (meta["step"] == 2 or "falling back" in
                                                  said.getvalue())
                cases.append({"file": role, "attack": attack, "restored_step": meta["step"],
                              "ok": ok, "message": _first_line(said.getvalue(), "corrupt")})
            except Exception as e:  # noqa: BLE001 - a crash is the failure being counted
                cases.append({"file": role, "attack": attack, "ok": False,
                              "message": f"{type(e).__name__}: {str(e)[:300]}"})
    return cases


def _first_line(text: str, containing: str) -> str:
    return next((line[:300] for line in text.splitlines() if containing in line), "")


def _last_line(text: str, containing: str) -> str:
    return _first_line("\n".join(reversed(text.splitlines())), containing)


def corrupt_in_pipeline(workdir, reference: dict[str, str]) -> list[dict]:
    """A finished pipeline's last FB and oracle checkpoints truncated on disk; running the
    pipeline again must set them aside, retrain from the step before and reach the same results.
    """
    import glob

    cases = []
    for run in ("fb/seed_0", "oracle/seed_1"):
        folder = os.path.join(workdir, run)
        last = max(int(n) for n in os.listdir(folder) if n.isdigit())
        data = sorted(glob.glob(os.path.join(folder, str(last), "state", "d", "*")),
                      key=os.path.getsize)[-1]
        _attack(data, "truncate")
        rerun = run_pipeline(workdir)
        text = rerun.stdout + rerun.stderr
        ok = (rerun.returncode == 0 and outcome(workdir) == reference
              and os.path.isdir(os.path.join(folder, "corrupt", str(last))))
        cases.append({"run": run, "step": last, "ok": ok,
                      "message": _first_line(text, "corrupt")})
    return cases


# ---------------------------------------------------------------------------- ENOSPC --

def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _digest_tree(folder) -> str:
    h = hashlib.sha256()
    for root, dirs, files in sorted(os.walk(folder)):
        dirs.sort()
        for name in sorted(files):
            if name == ".lock":
                continue
            path = os.path.join(root, name)
            h.update(os.path.relpath(path, folder).encode())
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def _small_dataset(rows=6, seed=0):
    rng = np.random.default_rng(seed)
    return {"obs": rng.normal(size=(rows, 4)).astype(np.float32),
            "action": rng.uniform(-1, 1, (rows, 2)).astype(np.float32),
            "next_obs": rng.normal(size=(rows, 4)).astype(np.float32),
            "terminal": np.zeros(rows, np.float32), "start": np.zeros(rows, np.float32),
            "next_physics": rng.normal(size=(rows, 4))}


def enospc_cases(folder, monkeypatch_factory) -> list[dict]:
    """`monkeypatch_factory()` gives a context manager yielding an object with `setattr`
    (pytest's MonkeyPatch.context). Each case makes a write fail with ENOSPC mid-way."""
    import etils.epath

    from fbjax.data import store
    from fbjax.train.checkpoint import Checkpointer

    cases = []

    def case(name, patches, action, check_after):
        """Runs `action` with `patches` [(object, attribute, replacement)] in place, then
        `check_after(message)` on a disk that works again."""
        try:
            with monkeypatch_factory() as mp:
                for target, attribute, replacement in patches:
                    mp.setattr(target, attribute, replacement)
                action()
            cases.append({"case": name, "ok": False, "message": "no error raised"})
            return
        except Exception as e:  # noqa: BLE001 - the error raised is what is checked
            message = f"{type(e).__name__}: {e}"
        ok, detail = check_after(message)
        cases.append({"case": name, "ok": ok, "message": message[:400], **detail})

    # 1-2. A dataset shard, then a manifest, that cannot be written.
    data_dir = os.path.join(folder, "dataset")
    shutil.rmtree(data_dir, ignore_errors=True)
    store.save_dataset(data_dir, _small_dataset(), env="point_mass",
                       tasks=["reach_top_left"], collection={}, seed=0)
    before = store.read_dataset(data_dir)[0]

    def unchanged(message, what):
        after = store.read_dataset(data_dir)[0]
        leftovers = [n for n in os.listdir(data_dir) if n.endswith(".tmp")]
        ok = (all(np.array_equal(before[k], after[k]) for k in before) and not leftovers
              and what in message and "No space left" in message)
        return ok, {"dataset_intact": ok, "temporary_files_left": leftovers}

    def half_written_savez(file, **arrays):
        file.write(b"PK\x03\x04 half a shard")
        _enospc()

    case("dataset shard write", [(np, "savez_compressed", half_written_savez)],
         lambda: store.append_dataset(data_dir, _small_dataset(seed=1)),
         lambda m: unchanged(m, "shard_00001.npz"))
    case("dataset manifest write", [(store.json, "dump", _enospc)],
         lambda: store.append_dataset(data_dir, _small_dataset(seed=2)),
         lambda m: unchanged(m, "manifest.json"))

    # 3. A checkpoint that cannot be written (orbax's Python-side file writes fail).
    agent, first, second = _tiny_states()
    run = os.path.join(folder, "run")
    shutil.rmtree(run, ignore_errors=True)
    writer = Checkpointer(run)
    writer.save(1, first, {"step": 1})
    writer.write_config({"seed": 0})
    path_type = type(etils.epath.Path(run))

    def checkpoint_after(message):
        reader = Checkpointer(run, cleanup=True)
        state, meta = reader.restore(agent.init(jax.random.PRNGKey(5)))
        intact = meta["step"] == 1 and _equal(state, first)
        reader.save(2, second, {"step": 2})  # the disk has room again: saving works
        resaved = reader.restore(agent.init(jax.random.PRNGKey(5)))[1]["step"] == 2
        reader.close()
        ok = intact and resaved and "step 2" in message and "[1]" in message
        return ok, {"previous_checkpoint_intact": intact, "next_save_works": resaved}

    case("checkpoint write", [(path_type, "write_text", _enospc),
                              (path_type, "write_bytes", _enospc)],
         lambda: writer.save(2, second, {"step": 2}), checkpoint_after)
    writer.close()

    # 4. The run's config.json.
    config_before = open(os.path.join(run, "config.json")).read()

    def config_after(message):
        same = open(os.path.join(run, "config.json")).read() == config_before
        left = os.path.exists(os.path.join(run, "config.json.tmp"))
        return same and not left and "config.json" in message, {"config_intact": same}

    from fbjax.train import checkpoint as checkpoint_module
    writer = Checkpointer(run)
    case("run config write", [(checkpoint_module.json, "dump", _enospc)],
         lambda: writer.write_config({"seed": 1}), config_after)
    writer.close()
    return cases


# ------------------------------------------------------------------------------ locks --

HOLD = ("import sys, time; from fbjax.train.lock import folder_lock\n"
        "with folder_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(600)")


def lock_cases(folder) -> list[dict]:
    """Another process holds a folder: this one is refused, naming it; once that process is
    SIGKILLed the folder is free again (no stale lock)."""
    from fbjax.train.lock import FolderLocked, folder_lock

    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        try:
            with folder_lock(folder):
                refused = {"case": "second writer", "ok": False, "message": "not refused"}
        except FolderLocked as e:
            refused = {"case": "second writer", "ok": f"pid {holder.pid}" in str(e),
                       "message": str(e)}
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    try:
        with folder_lock(folder):
            freed = {"case": "holder killed", "ok": True, "message": "lock free after SIGKILL"}
    except FolderLocked as e:
        freed = {"case": "holder killed", "ok": False, "message": str(e)}
    return [refused, freed]


def two_pipelines(workdir, reference: dict[str, str]) -> dict:
    """A second pipeline started on a workdir a first one is running in is refused at once;
    the first finishes with the uninterrupted results."""
    first = subprocess.Popen(pipeline_cmd(workdir), cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=child_env())
    for line in first.stdout:
        if line.startswith("=== train"):
            break
    began = time.perf_counter()
    second = run_pipeline(workdir, timeout=300)
    refused_in = time.perf_counter() - began
    rest = first.communicate(timeout=900)[0]
    message = _last_line(second.stderr, "FolderLocked:")
    ok = (second.returncode != 0 and bool(message) and first.returncode == 0
          and "pipeline finished" in rest and outcome(workdir) == reference)
    return {"case": "two pipelines on one workdir", "ok": ok, "message": message,
            "second_exit_s": round(refused_in, 1)}


# ------------------------------------------------------------------------- bad inputs --

@dataclasses.dataclass
class BadInput:
    name: str
    action: object  # () -> None; must raise
    expect: tuple[str, ...]  # substrings the message must hold
    watch: str | None = None  # a folder whose files must not change


def bad_inputs(folder) -> list[dict]:
    """Invalid data and settings a user can give, each refused with an error whose message names
    the field or file and the value; files under `watch` unchanged."""
    import fbjax.envs as envs
    from fbjax.baselines.td3 import TD3Config
    from fbjax.configs import from_dict
    from fbjax.data import store
    from fbjax.data.store import check_domain
    from fbjax.fb.config import FBConfig
    from fbjax.pipeline.config import EvalConfig, ExperimentConfig
    from fbjax.train.checkpoint import read_config
    from fbjax.train.run import TrainConfig, train_run
    from fbjax.zol.search import ZOLConfig
    from tests.helpers import continuous_agent, random_batch

    def dataset(name, **changes):
        path = os.path.join(folder, name)
        shutil.rmtree(path, ignore_errors=True)
        arrays = {**_small_dataset(), **changes}
        store.save_dataset(path, arrays, env="point_mass", tasks=["reach_top_left"],
                           collection={}, seed=0)
        return path

    def edit_manifest(path, edit):
        with open(os.path.join(path, store.MANIFEST)) as f:
            manifest = json.load(f)
        edit(manifest)
        with open(os.path.join(path, store.MANIFEST), "w") as f:
            json.dump(manifest, f)

    truncated = dataset("truncated")
    shard = os.path.join(truncated, "shard_00000.npz")
    with open(shard, "r+b") as f:
        f.truncate(os.path.getsize(shard) // 2)
    nan = dataset("nan")
    arrays = dict(np.load(os.path.join(nan, "shard_00000.npz")))
    arrays["obs"][3, 1] = np.nan
    np.savez_compressed(os.path.join(nan, "shard_00000.npz"), **arrays)
    rows = dataset("rows")
    edit_manifest(rows, lambda m: m["shards"][0].update(rows=7))
    deleted = dataset("deleted")
    os.remove(os.path.join(deleted, "shard_00000.npz"))
    dtype = dataset("dtype")
    edit_manifest(dtype, lambda m: m["fields"]["obs"].update(dtype="float16"))
    other_env = dataset("labelled_walker")
    edit_manifest(other_env, lambda m: m.update(env="walker", tasks=["run"]))
    no_manifest = os.path.join(folder, "no_manifest")
    os.makedirs(no_manifest, exist_ok=True)

    # A cheetah dataset whose manifest says walker: same physics size (18) and actuators (6).
    cheetah = envs.make("cheetah")
    rng = np.random.default_rng(0)
    cheetah_arrays = {"obs": rng.normal(size=(6, cheetah.obs_dim)).astype(np.float32),
                      "next_obs": rng.normal(size=(6, cheetah.obs_dim)).astype(np.float32),
                      "action": rng.uniform(-1, 1, (6, cheetah.action_dim)).astype(np.float32),
                      "terminal": np.zeros(6, np.float32), "start": np.zeros(6, np.float32),
                      "next_physics": rng.normal(size=(6, cheetah.physics_dim))}

    def cheetah_as_walker():
        check_domain(cheetah_arrays, {"env": "walker", "tasks": ["run"]}, "cheetah_as_walker")

    # A run resumed with another z_dim, and one trained on fewer rows than a batch.
    run = os.path.join(folder, "run")
    shutil.rmtree(run, ignore_errors=True)
    agent = continuous_agent()
    batch = random_batch(64, False)
    quiet = TrainConfig(num_steps=1, steps_per_call=1, save_every=1)
    train_run(agent, batch, run, {"fb": {"z_dim": 8}}, quiet, 0, progress_fn=None)
    short = jax.tree.map(lambda v: v[:3], batch)
    config_json = os.path.join(folder, "broken_config")
    os.makedirs(config_json, exist_ok=True)
    with open(os.path.join(config_json, "config.json"), "w") as f:
        f.write('{"fb": {"z_dim": 8')

    def mjx(**values):
        return lambda: from_dict(ExperimentConfig, values, "config")

    cases = [
        BadInput("truncated shard", lambda: store.read_dataset(truncated),
                 ("shard_00000.npz", "truncated"), truncated),
        BadInput("NaN in a shard", lambda: store.read_dataset(nan), ("'obs'", "NaN", "row 3"),
                 nan),
        BadInput("manifest row count edited", lambda: store.read_dataset(rows),
                 ("6 rows", "says 7"), rows),
        BadInput("shard deleted", lambda: store.read_dataset(deleted), ("missing",), deleted),
        BadInput("manifest dtype edited", lambda: store.read_dataset(dtype),
                 ("'obs'", "float16"), dtype),
        BadInput("no manifest", lambda: store.read_dataset(no_manifest), ("no manifest",)),
        BadInput("point-mass data labelled walker",
                 lambda: check_domain(*store.read_dataset(other_env), other_env),
                 ("'obs'", "walker"), other_env),
        BadInput("dataset of another domain than the config",
                 lambda: check_domain(*store.read_dataset(other_env), other_env, "point_mass"),
                 ("walker", "point_mass"), other_env),
        BadInput("cheetah dataset labelled walker (same physics size)", cheetah_as_walker,
                 ("'obs'", "(17,)", "walker")),
        BadInput("resume with another z_dim",
                 lambda: train_run(agent, batch, run, {"fb": {"z_dim": 12}}, quiet, 0,
                                   progress_fn=None), ("fb.z_dim: 8 -> 12",), run),
        BadInput("batch larger than the dataset",
                 lambda: train_run(agent, short, os.path.join(folder, "short"), {}, quiet, 0,
                                   progress_fn=None), ("3 rows", "batch_size=")),
        BadInput("run config.json not JSON", lambda: read_config(config_json),
                 ("config.json", "not valid JSON"), config_json),
        BadInput("negative FB learning rate", lambda: FBConfig(lr_forward=-1e-4),
                 ("lr_forward=-0.0001",)),
        BadInput("zero TD3 learning rate", lambda: TD3Config(lr=0.0), ("TD3Config.lr", "0.0")),
        BadInput("negative ZOL learning rate", lambda: ZOLConfig(lr=-1.0), ("ZOLConfig.lr",)),
        BadInput("task not in the domain",
                 lambda: EvalConfig(tasks="reach_top_left,run").task_ids(
                     envs.make("point_mass").task_names), ("['run']", "reach_top_left")),
        BadInput("unknown method", lambda: EvalConfig(methods="fb,sac"), ("sac",)),
        BadInput("unknown domain", lambda: envs.make("pendulum"), ("pendulum",)),
        BadInput("save_every not a multiple of steps_per_call",
                 lambda: TrainConfig(steps_per_call=1000, save_every=10), ("save_every=10",)),
        BadInput("negative number of steps", lambda: TrainConfig(num_steps=-5),
                 ("num_steps", "-5")),
        BadInput("no training seeds", mjx(seeds=()), ("seeds",)),
        BadInput("unknown collection policy", mjx(collect={"policy": "expert"}), ("expert",)),
        BadInput("unknown config field", mjx(fb={"zdim": 8}), ("zdim",)),
        BadInput("wrong type for a field", mjx(fb={"z_dim": "big"}), ("z_dim", "big")),
        BadInput("unknown ZOL start set", lambda: ZOLConfig(starts="random"), ("random",)),
    ]
    out = []
    for case in cases:
        before = _digest_tree(case.watch) if case.watch else None
        try:
            case.action()
            out.append({"input": case.name, "ok": False, "message": "accepted (no error)"})
            continue
        except Exception as e:  # noqa: BLE001 - what was raised is the thing being checked
            message, error = f"{type(e).__name__}: {e}", e
        unchanged = case.watch is None or _digest_tree(case.watch) == before
        named = all(token in message for token in case.expect)
        # A programming error surfacing is not a refusal, even when its text happens to match.
        plain = not isinstance(error, (AttributeError, IndexError, KeyError, NameError,
                                       UnboundLocalError))
        out.append({"input": case.name, "ok": named and unchanged and plain,
                    "message": message[:400], "files_unchanged": unchanged})
    return out


# --------------------------------------------------------------- multi-process kill --

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def multihost_kill(workdir, victim: int, bound_s: float = 60.0) -> dict:
    """Two processes train one tabular FB; once training runs, process `victim` is SIGKILLed.
    The survivor must exit with an error within `bound_s` and say what happened."""
    address = f"127.0.0.1:{_free_port()}"
    shutil.rmtree(workdir, ignore_errors=True)
    cmd = [sys.executable, "-m", "experiments.train", f"--config={TINY_TABULAR}",
           "--config.policy_eval_steps=0", "--config.train.num_steps=10000000",
           "--config.train.steps_per_call=1000", "--config.train.save_every=1000000",
           f"--config.workdir={workdir}", f"--coordinator_address={address}",
           "--num_processes=2"]
    procs = [subprocess.Popen(cmd + [f"--process_id={i}"], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=child_env())
             for i in (0, 1)]
    survivor = procs[1 - victim]
    for line in procs[0].stdout:
        if "steps/s" in line:
            break
    procs[victim].send_signal(signal.SIGKILL)
    killed_at = time.perf_counter()
    procs[victim].wait()
    try:
        out = survivor.communicate(timeout=bound_s + 60)[0]
        waited = time.perf_counter() - killed_at
    except subprocess.TimeoutExpired:
        survivor.kill()
        out, waited = survivor.communicate()[0], None
    message = _first_line(out, "fbjax: process") or _first_line(out, "another task died")
    ok = (waited is not None and waited <= bound_s and survivor.returncode != 0
          and bool(message))
    return {"victim": victim, "ok": ok, "survivor_exit_s": None if waited is None else
            round(waited, 2), "survivor_returncode": survivor.returncode,
            "message": message or out[-600:]}


# ------------------------------------------------------------------------------ soak --

def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def soak(folder, num_steps: int = 200_000, steps_per_call: int = 1000) -> dict:
    """Tiny FB (the tiny point-mass config's sizes) trained `num_steps` updates in one process,
    with checkpoints and metrics as in a real run; RSS and time per chunk recorded. Drift: the
    RSS slope after warm-up (bytes per update) and the last tenth's median chunk time over the
    second tenth's."""
    from fbjax.fb.config import FBConfig
    from fbjax.fb.learner import FBAgent
    from fbjax.train.run import TrainConfig, train_run

    config = FBConfig(z_dim=8, backward_hidden=16, forward_hidden=16, actor_hidden=16,
                      batch_size=32)
    agent = FBAgent(config, 4, 2)
    rng = np.random.default_rng(0)
    rows = 10_000
    dataset = {"obs": rng.normal(size=(rows, 4)).astype(np.float32),
               "action": rng.uniform(-1, 1, (rows, 2)).astype(np.float32),
               "next_obs": rng.normal(size=(rows, 4)).astype(np.float32),
               "terminal": np.zeros(rows, np.float32), "start": np.zeros(rows, np.float32)}
    from fbjax.types import Transition
    dataset = Transition(**dataset)
    samples, last = [], [time.perf_counter()]

    def record(step, metrics):
        now = time.perf_counter()
        samples.append((step, now - last[0], _rss_mb()))
        last[0] = now

    shutil.rmtree(folder, ignore_errors=True)
    train = TrainConfig(num_steps=num_steps, steps_per_call=steps_per_call,
                        save_every=steps_per_call * 20, keep_checkpoints=2)
    began = time.perf_counter()
    train_run(agent, dataset, folder, {"soak": True}, train, 0, progress_fn=record)
    total = time.perf_counter() - began
    steps = np.array([s for s, _, _ in samples], float)
    times = np.array([t for _, t, _ in samples])
    rss = np.array([r for _, _, r in samples])
    warm = len(samples) // 10
    tenth = max(1, len(samples) // 10)
    slope = float(np.polyfit(steps[warm:], rss[warm:], 1)[0] * 2**20) if len(samples) > 3 else 0
    ratio = float(np.median(times[-tenth:]) / np.median(times[warm:warm + tenth]))
    return {"updates": num_steps, "seconds": round(total, 1),
            "updates_per_s": round(num_steps / total, 1),
            "rss_mb_after_warmup": round(float(rss[warm]), 1),
            "rss_mb_end": round(float(rss[-1]), 1),
            "rss_slope_bytes_per_update": round(slope, 2),
            "chunk_time_ratio_last_to_early": round(ratio, 3),
            "ok": slope < 100 and ratio < 1.25,
            "criterion": "RSS growth slope < 100 bytes/update (< 20 MB over 200k) and the last "
                         "tenth's median chunk time < 1.25x the second tenth's",
            "curve": [{"step": int(s), "chunk_s": round(float(t), 4), "rss_mb": round(float(r),
                                                                                        1)}
                      for s, t, r in samples[::max(1, len(samples) // 40)]]}


def soak_in_subprocess(folder, num_steps: int) -> dict:
    """`soak` in a fresh Python process, so its memory is the training's alone."""
    code = ("import json, sys; from tests.faults.injection import soak; "
            "print('SOAK ' + json.dumps(soak(sys.argv[1], int(sys.argv[2]))))")
    proc = subprocess.run([sys.executable, "-c", code, str(folder), str(num_steps)], cwd=ROOT,
                          capture_output=True, text=True, env=child_env(), timeout=3600)
    found = [line for line in proc.stdout.splitlines() if line.startswith("SOAK ")]
    if proc.returncode != 0 or not found:
        return {"ok": False, "message": (proc.stdout + proc.stderr)[-1500:]}
    return json.loads(found[-1][5:])


@contextlib.contextmanager
def monkeypatch_context():
    """pytest's MonkeyPatch outside pytest (for the runner)."""
    import pytest

    with pytest.MonkeyPatch.context() as mp:
        yield mp
