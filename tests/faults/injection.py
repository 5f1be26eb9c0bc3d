"""Faults injected into fbjax and what it must do about each: the cases behind tests/faults and
the runner (`python -m tests.faults.run`). Every function returns plain JSON-able records, one per
case, with `ok` and the message fbjax gave. Processes here; files in tests/faults/disk.py
(corrupt_cases, enospc_cases) and tests/faults/inputs.py (bad_inputs).

* kill_point:      SIGKILL the tiny pipeline at a point of one stage, rerun it, compare results
* lock_cases:      a second writer on one folder is refused, and a killed holder leaves no lock
* multihost_kill:  one of two training processes killed; the other exits, clearly, in bounded time
* soak:            a long tiny training run's memory and step time (in a process of its own)
"""

import contextlib
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


def _first_line(text: str, containing: str) -> str:
    return next((line[:300] for line in text.splitlines() if containing in line), "")


def _last_line(text: str, containing: str) -> str:
    return _first_line("\n".join(reversed(text.splitlines())), containing)


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
    message = _last_line(second.stderr, "is in use by another fbjax process")
    ok = (second.returncode != 0 and bool(message) and first.returncode == 0
          and "pipeline finished" in rest and outcome(workdir) == reference)
    return {"case": "two pipelines on one workdir", "ok": ok, "message": message,
            "second_exit_s": round(refused_in, 1)}


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
