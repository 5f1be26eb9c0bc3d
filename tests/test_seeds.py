"""Many seeds in one program (fbjax.train.seeds): each seed's run is the run train_run makes for
that seed alone, in its own directory, and it resumes like one."""

import dataclasses
import json
import os

import jax
import numpy as np
import pytest

from fbjax.baselines import TD3, TD3Config
from fbjax.configs import to_dict
from fbjax.eval.oracle import train_oracles
from fbjax.train import TrainConfig, load_fb, read_config, train_run, train_seeds
from fbjax.train.loop import print_progress
from fbjax.types import Transition
from tests.helpers import ACTION_DIM, OBS_DIM, TINY, continuous_agent, random_batch

CONFIG = TrainConfig(num_steps=20, steps_per_call=10, save_every=10)
SEEDS = (0, 3)
DESCRIPTION = {"fb": to_dict(TINY), "obs_dim": OBS_DIM, "action_dim": ACTION_DIM}
# TINY's learning rates are 1e-2: one Adam step moves a parameter by about 1e-2. A seed of the
# vmapped program differs from its lone run only in the rounding of batched matmuls (seen:
# 2.4e-6 after 20 steps), so 1e-5 is a thousandth of one step.
TOLERANCE = 1e-5


def _worst(a, b) -> float:
    return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y))))
               for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_each_seed_equals_its_lone_run_and_owns_its_directory(tmp_path):
    agent, data = continuous_agent(), random_batch(256, False)
    alone = {s: train_run(agent, data, str(tmp_path / "alone" / str(s)), DESCRIPTION,
                          CONFIG, s, progress_fn=None) for s in SEEDS}
    dirs = {s: str(tmp_path / "together" / str(s)) for s in SEEDS}
    together = train_seeds(agent, data, dirs, DESCRIPTION, CONFIG, progress_fn=None)
    assert sorted(together) == list(SEEDS)
    for s in SEEDS:
        assert int(together[s].step) == 20
        assert _worst(together[s].params, alone[s].params) <= TOLERANCE
        # The directory is an ordinary run: same description, checkpoints of this seed's state.
        assert read_config(dirs[s]) == read_config(str(tmp_path / "alone" / str(s)))
        _, loaded, _ = load_fb(dirs[s])
        assert _worst(loaded.params, together[s].params) == 0.0
        assert sorted(int(d) for d in os.listdir(dirs[s]) if d.isdigit()) == [10, 20]
    # Each seed's metrics are its own: the seeds' losses differ, each near its lone run's.
    logs = {s: [json.loads(line) for line in open(os.path.join(dirs[s], "metrics",
                                                               "metrics.jsonl"))]
            for s in SEEDS}
    lone = [json.loads(line) for line in open(tmp_path / "alone" / "3" / "metrics" /
                                              "metrics.jsonl")]
    assert [r["step"] for r in logs[3]] == [10, 20]
    assert logs[0][-1]["train/fb_loss"] != logs[3][-1]["train/fb_loss"]
    np.testing.assert_allclose(logs[3][-1]["train/fb_loss"], lone[-1]["train/fb_loss"],
                               rtol=1e-4)
    assert not any(k.startswith("train/fb_loss/") for k in logs[3][-1])


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_seeds_resume_exactly_and_refuse_uneven_steps(tmp_path):
    agent, data = continuous_agent(), random_batch(256, False)
    dirs = {s: str(tmp_path / "a" / str(s)) for s in SEEDS}
    straight = train_seeds(agent, data, {s: str(tmp_path / "b" / str(s)) for s in SEEDS},
                           {}, CONFIG, progress_fn=None)
    train_seeds(agent, data, dirs, {}, TrainConfig(num_steps=10, steps_per_call=10,
                                                   save_every=10), progress_fn=None)
    resumed = train_seeds(agent, data, dirs, {}, CONFIG, progress_fn=None)
    for s in SEEDS:  # the same compiled chunks from the same checkpoint: bit for bit
        assert _worst(resumed[s], straight[s]) == 0.0
    # One seed further along than the other is refused, naming both steps.
    train_run(agent, data, dirs[0], {}, TrainConfig(num_steps=30, steps_per_call=10,
                                                    save_every=10), 0, progress_fn=None)
    with pytest.raises(ValueError, match=r"different steps \{0: 30, 3: 20\}"):
        train_seeds(agent, data, dirs, {}, CONFIG, progress_fn=None)


def test_oracles_of_every_seed_in_one_program_equal_their_lone_runs(tmp_path):
    rng = np.random.default_rng(0)
    arrays = Transition(obs=rng.normal(size=(64, 2)), action=rng.uniform(-1, 1, (64, 1)),
                        next_obs=rng.normal(size=(64, 2)), terminal=np.zeros(64),
                        start=np.zeros(64))
    rewards = rng.normal(size=(64, 3))
    td3 = TD3(TD3Config(hidden=16, layers=1, lr=1e-3, batch_size=16), 2, 1)
    config = TrainConfig(num_steps=20, steps_per_call=10, save_every=20)
    together = train_oracles(td3, arrays, rewards,
                             {s: str(tmp_path / "t" / str(s)) for s in SEEDS},
                             dataclasses.replace(config, parallel="seeds"), progress_fn=None)
    for s in SEEDS:
        alone = train_oracles(td3, arrays, rewards, {s: str(tmp_path / "a" / str(s))}, config,
                              progress_fn=None)[s]
        assert all(x.shape[0] == 3 for x in jax.tree.leaves(together[s].actor))  # per task
        # lr 1e-3 here: 1e-6 is a thousandth of one Adam step.
        assert _worst(together[s], alone) <= 1e-6
        # The same description but the layout (train.parallel, which a resume may change).
        together_config = read_config(str(tmp_path / "t" / str(s)))
        assert together_config["train"].pop("parallel") == "seeds"
        alone_config = read_config(str(tmp_path / "a" / str(s)))
        assert alone_config["train"].pop("parallel") == "single"
        assert together_config == alone_config


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_the_cores_layout_trains_each_seed_as_its_lone_run(tmp_path):
    """train.parallel="cores": the pipeline's seeds train in worker processes pinned to one core
    each, and each seed's parameters are those of the same seed trained in this process (the
    tiny networks' matmuls sum in the same order on one thread as on two; larger ones need
    not). Three seeds: more than this 2-core machine's cores, so a worker trains a second seed."""
    import dataclasses
    import shutil

    from experiments.configs import tiny_point_mass
    from fbjax.pipeline.config import experiment_config
    from fbjax.pipeline.mjx import collect_data, train_all, train_fb

    config = experiment_config({**tiny_point_mass.get_config().to_dict(),
                                "workdir": str(tmp_path / "cores"), "seeds": (0, 1, 2)})
    config = dataclasses.replace(config, train=dataclasses.replace(config.train,
                                                                   parallel="cores"))
    collect_data(config)
    states = train_all(config)
    lone = dataclasses.replace(config, workdir=str(tmp_path / "lone"),
                               train=dataclasses.replace(config.train, parallel="single"))
    shutil.copytree(tmp_path / "cores" / "dataset", tmp_path / "lone" / "dataset")
    assert sorted(states) == sorted(config.seeds)
    for seed in config.seeds:
        _, state = train_fb(lone, seed, progress_fn=None)
        assert int(states[seed].step) == config.train.num_steps
        assert _worst(states[seed].params, state.params) <= TOLERANCE


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_a_time_limit_stops_after_one_call_saves_and_resumes_exactly(tmp_path, capsys):
    agent, data = continuous_agent(), random_batch(256, False)
    straight = train_seeds(agent, data, {s: str(tmp_path / "b" / str(s)) for s in SEEDS},
                           {}, CONFIG, progress_fn=None)
    dirs = {s: str(tmp_path / "a" / str(s)) for s in SEEDS}
    # A limit far below one call's time: every run stops after its first call, at step 10 of 20,
    # and saves it (the config saves every 10, so the final save is what keeps the step).
    limited = dataclasses.replace(CONFIG, max_seconds=1e-9, save_every=20)
    stopped = train_seeds(agent, data, dirs, {}, limited, progress_fn=print_progress)
    assert "stopping at step 10 of 20: the time limit" in capsys.readouterr().out
    for s in SEEDS:
        assert int(stopped[s].step) == 10
        assert sorted(int(d) for d in os.listdir(dirs[s]) if d.isdigit()) == [10]
    # Resumed without the limit (max_seconds may change), it ends where the straight run does.
    resumed = train_seeds(agent, data, dirs, {}, dataclasses.replace(limited, max_seconds=0.0),
                          progress_fn=None)
    for s in SEEDS:
        assert _worst(resumed[s], straight[s]) == 0.0
    lone = train_run(agent, data, str(tmp_path / "c"), {}, limited, 0, progress_fn=None)
    assert int(lone.step) == 10
    with pytest.raises(ValueError, match="max_seconds must be >= 0"):
        TrainConfig(max_seconds=-1)
