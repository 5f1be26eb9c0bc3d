"""Checkpoints: round trip, clear errors, a quiet fallback past a damaged step."""

import os
import subprocess
import sys
import types

import jax
import numpy as np
import optax
import pytest
from jax.flatten_util import ravel_pytree

from fbjax.fb import FBParams
from fbjax.train import Checkpointer, checkpoint, read_config
from tests.helpers import continuous_agent, discrete_agent, random_batch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def assert_equal_and_trains_on_alike(agent, restored, state, discrete: bool):
    """`restored` has `state`'s structure and values, bit for bit, and an update from each on the
    same batch and key gives the same state."""
    assert jax.tree.structure(restored) == jax.tree.structure(state)
    for a, b in zip(jax.tree.leaves(restored), jax.tree.leaves(state), strict=True):
        np.testing.assert_array_equal(a, b)
    batch, key = random_batch(6, discrete, seed=2), jax.random.PRNGKey(3)
    update = jax.jit(agent.update)  # compiled: op by op, one update took 25 s of this file
    for a, b in zip(jax.tree.leaves(update(restored, batch, key)[0]),
                    jax.tree.leaves(update(state, batch, key)[0]), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_round_trip_is_bit_exact_and_keeps_structure(tmp_path):
    agent = continuous_agent()
    state = agent.init(jax.random.PRNGKey(0))
    state, _ = jax.jit(agent.update)(state, random_batch(6, False), jax.random.PRNGKey(1))
    ckpt = Checkpointer(str(tmp_path / "run"))
    ckpt.write_config({"seed": 3})
    ckpt.save(1, state, {"step": 1})
    restored, meta = ckpt.restore(agent.init(jax.random.PRNGKey(9)))
    assert meta == {"step": 1} and read_config(str(tmp_path / "run")) == {"seed": 3}
    assert_equal_and_trains_on_alike(agent, restored, state, discrete=False)


@pytest.mark.parametrize("discrete", [False, True])
def test_a_checkpoint_whose_networks_were_dicts_restores_into_fbparams(tmp_path, discrete):
    """Runs written before FBParams held {"forward", "backward"[, "actor"]} dicts (no actor for
    discrete actions, none in the targets): they restore bit for bit into the typed state."""
    agent = discrete_agent() if discrete else continuous_agent()
    state = agent.init(jax.random.PRNGKey(0))
    state, _ = jax.jit(agent.update)(state, random_batch(6, discrete), jax.random.PRNGKey(1))

    def as_dicts(networks):
        return {k: getattr(networks, k) for k in ("forward", "backward", "actor")
                if getattr(networks, k) is not None}

    old = state.replace(params=as_dicts(state.params), target_params=as_dicts(state.target_params),
                        opt_state=as_dicts(state.opt_state))
    assert "actor" not in old.target_params and ("actor" in old.params) != discrete
    ckpt = Checkpointer(str(tmp_path / "run"))
    ckpt.save(1, old, {"step": 1})
    restored, _ = ckpt.restore(agent.init(jax.random.PRNGKey(9)))
    assert type(restored.params).__name__ == "FBParams" and restored.target_params.actor is None
    assert jax.tree.structure(restored) == jax.tree.structure(state)
    for a, b in zip(jax.tree.leaves(restored), jax.tree.leaves(state), strict=True):
        np.testing.assert_array_equal(a, b)
    assert checkpoint.state_digest(restored) == checkpoint.state_digest(old)


@pytest.mark.parametrize("discrete", [False, True])
def test_a_checkpoint_with_adam_state_per_array_restores_into_the_flat_layout(tmp_path, discrete):
    """Runs written before the optimiser state was one vector per network hold optax.adam's state
    per parameter array: with the agent's conversion they restore with the same moments
    flattened, bit for bit, and train on; without it they are refused by name."""
    agent = discrete_agent() if discrete else continuous_agent()
    state = agent.init(jax.random.PRNGKey(0))
    state, _ = jax.jit(agent.update)(state, random_batch(6, discrete), jax.random.PRNGKey(1))

    def per_array(flat, params):  # optax.adam's own state, holding the same moments per array
        if flat is None:
            return None
        unravel = ravel_pytree(params)[1]
        adam = optax.adam(1e-3).init(params)
        return (adam[0]._replace(count=flat.count, mu=unravel(flat.mu), nu=unravel(flat.nu)),
                *adam[1:])

    old = state.replace(opt_state=FBParams(**{
        name: per_array(getattr(state.opt_state, name), getattr(state.params, name))
        for name in ("forward", "backward", "actor")}))
    ckpt = Checkpointer(str(tmp_path / "run"))
    ckpt.save(1, old, {"step": 1})
    with pytest.raises(checkpoint.CheckpointError, match="does not fit"):
        ckpt.restore(agent.init(jax.random.PRNGKey(9)), 1)
    restored, meta = ckpt.restore(agent.init(jax.random.PRNGKey(9)),
                                  upgrade=agent.older_checkpoint_layout)
    assert meta == {"step": 1}
    assert_equal_and_trains_on_alike(agent, restored, state, discrete)


def test_keeps_the_last_checkpoints_only(tmp_path):
    agent = continuous_agent()
    state = agent.init(jax.random.PRNGKey(0))
    ckpt = Checkpointer(str(tmp_path), max_to_keep=2)
    for step in (1, 2, 3):
        ckpt.save(step, state)
    assert ckpt.all_steps() == [2, 3] and ckpt.latest_step() == 3


def test_missing_checkpoint_and_config_name_the_folder(tmp_path):
    agent = continuous_agent()
    ckpt = Checkpointer(str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="empty"):
        ckpt.restore(agent.init(jax.random.PRNGKey(0)))
    with pytest.raises(FileNotFoundError, match="config.json"):
        read_config(str(tmp_path / "empty"))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_config(str(tmp_path / "bad"))


_FALL_BACK = """
import sys
import numpy as np
from fbjax.train import Checkpointer
state = {"w": np.arange(6.0, dtype=np.float32), "b": np.zeros(3, np.float32)}
ckpt = Checkpointer(sys.argv[1])
ckpt.save(1, state, {"step": 1})
ckpt.save(2, state, {"step": 2})
open(sys.argv[1] + "/2/state/manifest.ocdbt", "w").write("{")
restored, meta = ckpt.restore(state)
print("restored", meta["step"])
"""


def test_a_damaged_latest_checkpoint_falls_back_in_a_few_lines(tmp_path):
    # A process of its own: pytest intercepts unraisable exceptions, the noise this is about.
    proc = subprocess.run([sys.executable, "-c", _FALL_BACK, str(tmp_path / "run")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "restored 1" in proc.stdout, proc.stderr[-2000:]
    assert "falling back to the one before" in proc.stderr
    assert "restored step 1" in proc.stderr
    # orbax's failed read used to echo ~1,000 lines of 'Event loop is closed' tracebacks.
    assert "Event loop is closed" not in proc.stderr, proc.stderr[-2000:]
    assert len(proc.stderr.splitlines()) < 10, proc.stderr[-2000:]


def test_only_the_closed_loop_echo_is_dropped(monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    checkpoint._quiet_failed_reads()
    echo = types.SimpleNamespace(exc_value=RuntimeError("Event loop is closed"))
    other = types.SimpleNamespace(exc_value=RuntimeError("something else"))
    sys.unraisablehook(echo)
    sys.unraisablehook(other)
    assert seen == [other]


def test_an_fb_run_description_round_trips_and_reads_the_pipelines_config_json():
    """FBRun is what config.json records of an FB run: the flat object the pipeline has always
    written (same keys, same order) reads back into it, the FB config strictly, and the rest of
    the description (training settings, seed, a user's own keys) is left out."""
    from fbjax.configs import to_dict
    from fbjax.fb import FBConfig
    from fbjax.train import FBRun

    fb = FBConfig(z_dim=8, batch_size=16)
    written = {"fb": to_dict(fb), "dataset": "dataset", "domain": "walker",
               "tasks": ["stand", "walk"], "obs_dim": 24, "action_dim": 6}
    run = FBRun(fb=fb, obs_dim=24, action_dim=6, dataset="dataset", domain="walker",
                tasks=("stand", "walk"))
    assert run.to_json() == written and list(run.to_json()) == list(written)
    assert FBRun.from_json({**written, "train": {}, "seed": 3, "mine": 1}, "c.json") == run
    bare = FBRun(fb=fb, obs_dim=2, action_dim=2)
    assert list(bare.to_json()) == ["fb", "obs_dim", "action_dim"]
    assert FBRun.from_json(bare.to_json(), "c.json") == bare
    with pytest.raises(ValueError, match=r"c.json: no \['obs_dim'\]"):
        FBRun.from_json({"fb": to_dict(fb), "action_dim": 2}, "c.json")
    with pytest.raises(ValueError, match="c.json: fb: unknown field"):
        FBRun.from_json({**written, "fb": {**to_dict(fb), "zdim": 3}}, "c.json")
