"""Faults on disk: damaged checkpoints (restore must fall back to the step before and say so) and
writes that fail with ENOSPC (earlier files intact, the error names the file)."""

import errno
import hashlib
import os
import shutil

import jax
import numpy as np

from tests.faults.injection import _first_line, outcome, run_pipeline

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
    # Compiled: op by op, this one update took most of the damaged-checkpoint test's time.
    second, _ = jax.jit(agent.update)(first, random_batch(6, False), jax.random.PRNGKey(1))
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

    _enospc_dataset(folder, case)
    _enospc_checkpoint(folder, case)
    return cases


def _enospc_dataset(folder, case) -> None:
    """1-2. A dataset shard, then a manifest, that cannot be written."""
    from fbjax.data import store

    data_dir = os.path.join(folder, "dataset")
    shutil.rmtree(data_dir, ignore_errors=True)
    store.save_dataset(data_dir, _small_dataset(), env="point_mass",
                       tasks=["reach_top_left"], collection={}, seed=0)
    before = store.read_dataset(data_dir).arrays()

    def unchanged(message, what):
        after = store.read_dataset(data_dir).arrays()
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


def _enospc_checkpoint(folder, case) -> None:
    """3. A checkpoint that cannot be written (orbax's Python-side file writes fail); 4. the
    run's config.json."""
    import etils.epath

    from fbjax.train import checkpoint as checkpoint_module
    from fbjax.train.checkpoint import Checkpointer

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
    config_before = open(os.path.join(run, "config.json")).read()

    def config_after(message):
        same = open(os.path.join(run, "config.json")).read() == config_before
        left = os.path.exists(os.path.join(run, "config.json.tmp"))
        return same and not left and "config.json" in message, {"config_intact": same}

    writer = Checkpointer(run)
    case("run config write", [(checkpoint_module.json, "dump", _enospc)],
         lambda: writer.write_config({"seed": 1}), config_after)
    writer.close()
