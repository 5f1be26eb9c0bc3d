"""Checkpoints: round trip, clear errors."""

import jax
import numpy as np
import pytest

from fbjax.train import Checkpointer, read_config
from tests.helpers import continuous_agent, random_batch


def test_round_trip_is_bit_exact_and_keeps_structure(tmp_path):
    agent = continuous_agent()
    state = agent.init(jax.random.PRNGKey(0))
    state, _ = agent.update(state, random_batch(6, False), jax.random.PRNGKey(1))
    ckpt = Checkpointer(str(tmp_path / "run"))
    ckpt.write_config({"seed": 3})
    ckpt.save(1, state, {"step": 1})
    restored, meta = ckpt.restore(agent.init(jax.random.PRNGKey(9)))
    assert meta == {"step": 1} and read_config(str(tmp_path / "run")) == {"seed": 3}
    assert jax.tree.structure(restored) == jax.tree.structure(state)
    for a, b in zip(jax.tree.leaves(restored), jax.tree.leaves(state), strict=True):
        np.testing.assert_array_equal(a, b)
    # The restored state trains on like the original.
    batch, key = random_batch(6, False, seed=2), jax.random.PRNGKey(3)
    for a, b in zip(jax.tree.leaves(agent.update(restored, batch, key)[0]),
                    jax.tree.leaves(agent.update(state, batch, key)[0]), strict=True):
        np.testing.assert_array_equal(a, b)


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
