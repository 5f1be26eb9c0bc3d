"""The fault-injection suite's CI part: corrupted checkpoints, ENOSPC, locks, bad inputs and a
resume from a damaged checkpoint, in process; one killed process of a two-process run (slow). The
SIGKILLed pipeline is in tests/test_pipeline_binaries.py, beside the uninterrupted tiny pipeline
it is compared with. The full sweep (20 kill points, every checkpoint file x attack, the 200k-update
soak) is `python -m tests.faults.run`, whose JSON is in experiments/results/."""

import os

import jax
import numpy as np
import pytest

from fbjax.train.checkpoint import Checkpointer
from fbjax.train.run import TrainConfig, train_run
from tests.faults import disk, inputs
from tests.faults import injection as inj
from tests.helpers import continuous_agent, random_batch


def _failures(cases):
    return [c for c in cases if not c["ok"]]


def test_damaged_checkpoints_are_never_used_silently(tmp_path):
    cases = disk.corrupt_cases(tmp_path, roles=("meta JSON", "state manifest", "state array data",
                                               "state tree metadata"), attacks=("truncate", "flip"))
    assert len(cases) == 8 and not _failures(cases), _failures(cases)
    # Damage to the array data or the manifest is found and the step before is restored.
    fell_back = {(c["file"], c["attack"]) for c in cases if c["restored_step"] == 1}
    assert {("state array data", "truncate"), ("state array data", "flip"),
            ("state manifest", "truncate")} <= fell_back
    assert all("falling back" in c["message"] for c in cases if c["restored_step"] == 1)


def test_training_resumes_from_the_checkpoint_before_a_damaged_one(tmp_path):
    agent, batch = continuous_agent(), random_batch(64, False)
    train = TrainConfig(num_steps=4, steps_per_call=2, save_every=2, keep_checkpoints=3)
    straight = train_run(agent, batch, str(tmp_path / "straight"), {}, train, 0, None)
    run = str(tmp_path / "damaged")
    train_run(agent, batch, run, {}, train, 0, None)
    data = max((os.path.join(run, "4", "state", "d", n)
                for n in os.listdir(os.path.join(run, "4", "state", "d"))), key=os.path.getsize)
    with open(data, "r+b") as f:
        f.truncate(os.path.getsize(data) // 2)
    resumed = train_run(agent, batch, run, {}, train, 0, None)
    for a, b in zip(jax.tree.leaves(resumed), jax.tree.leaves(straight), strict=True):
        np.testing.assert_array_equal(a, b)
    assert os.path.isdir(os.path.join(run, "corrupt", "4"))
    assert Checkpointer(run).check(4) is None  # step 4 saved again, intact


def test_a_full_disk_leaves_earlier_files_intact_and_names_the_file(tmp_path):
    cases = disk.enospc_cases(tmp_path, pytest.MonkeyPatch.context)
    assert [c["case"] for c in cases] == ["dataset shard write", "dataset manifest write",
                                          "checkpoint write", "run config write"]
    assert not _failures(cases), _failures(cases)


def test_a_second_writer_is_refused_and_a_killed_holder_frees_the_folder(tmp_path):
    cases = inj.lock_cases(tmp_path)
    assert not _failures(cases), cases


def test_bad_inputs_are_refused_with_one_clear_message(tmp_path):
    cases = inputs.bad_inputs(tmp_path)
    assert len(cases) >= 25 and not _failures(cases), _failures(cases)
    by_name = {c["input"]: c["message"] for c in cases}
    # The two cases that used to get through (issue 13).
    assert "(17,)" in by_name["cheetah dataset labelled walker (same physics size)"]
    assert "fb.z_dim: 8 -> 12" in by_name["resume with another z_dim"]


@pytest.mark.slow
def test_one_process_killed_the_other_stops_clearly_in_bounded_time(tmp_path):
    case = inj.multihost_kill(tmp_path / "run", victim=1)
    assert case["ok"], case
