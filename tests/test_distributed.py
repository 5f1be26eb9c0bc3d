"""Multi-process training with jax.distributed on 127.0.0.1, and exact resume after SIGKILL."""

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow  # two training processes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = [sys.executable, "-m", "experiments.train",
         f"--config={os.path.join(ROOT, 'experiments', 'configs', 'tiny.py')}",
         "--config.policy_eval_steps=0"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _digest(stdout: str) -> str:
    found = re.findall(r"params digest ([0-9a-f]+)", stdout)
    assert found, stdout[-2000:]
    return found[-1]


def test_two_processes_train_on_their_shards_and_agree(tmp_path):
    address = f"127.0.0.1:{_free_port()}"
    procs = [subprocess.Popen(
        TRAIN + [f"--config.workdir={tmp_path}", f"--coordinator_address={address}",
                 "--num_processes=2", f"--process_id={i}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (0, 1)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, out[-2000:] + err[-3000:]
    assert "2 device(s), 2 process(es)" in outs[0][0]
    assert _digest(outs[0][0]) == _digest(outs[1][0])
    assert "steps/s" in outs[0][0] and "steps/s" not in outs[1][0]  # only process 0 logs
    assert (tmp_path / "results.json").exists() and (tmp_path / "control" / "20").exists()


def test_sigkill_after_a_checkpoint_then_resume_is_bit_exact(tmp_path):
    steps = ["--config.train.num_steps=20000", "--config.train.save_every=10000",
             "--config.train.steps_per_call=1000"]
    straight = subprocess.run(TRAIN + steps + [f"--config.workdir={tmp_path / 'straight'}"],
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert straight.returncode == 0, straight.stderr[-3000:]

    workdir = tmp_path / "killed"
    victim = subprocess.Popen(TRAIN + steps + [f"--config.workdir={workdir}"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = workdir / "control" / "10000"
    deadline = time.time() + 600
    while not checkpoint.exists() and victim.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    saved = sorted(int(p.name) for p in (workdir / "control").iterdir() if p.name.isdigit())
    assert saved == [10000], saved

    resumed = subprocess.run(TRAIN + steps + [f"--config.workdir={workdir}"], cwd=ROOT,
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resumed from step 10000" in resumed.stdout
    assert _digest(resumed.stdout) == _digest(straight.stdout)
