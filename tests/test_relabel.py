"""Relabelling equals the per-sample reward, whatever the chunking."""

import jax
import numpy as np
import pytest

import fbjax.envs as envs
from fbjax.data.relabel import relabel


def _samples(domain, n, seed=0):
    rng = np.random.default_rng(seed)
    keys = jax.random.split(jax.random.PRNGKey(seed), n)
    qpos = np.asarray(jax.vmap(lambda k: envs.base.randomize_joints(domain.mj_model, k))(keys))
    qvel = rng.normal(0, 3, (n, domain.mj_model.nv))
    physics = np.concatenate([qpos, qvel], 1).astype(np.float32)
    return physics, rng.uniform(-1, 1, (n, domain.action_dim)).astype(np.float32)


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_relabel_matches_per_sample_rewards_any_chunk():
    domain = envs.make("walker")
    physics, action = _samples(domain, 37)
    single = jax.jit(domain.rewards)
    expected = np.stack([np.asarray(single(p, a)) for p, a in zip(physics, action, strict=True)])
    full = np.asarray(relabel(domain, physics, action, chunk_size=8))  # 37 = 4 chunks + 5
    np.testing.assert_allclose(full, expected, atol=1e-6)
    subset = np.asarray(relabel(domain, physics, action, tasks=["run", "stand"], chunk_size=64))
    np.testing.assert_allclose(subset, expected[:, [2, 0]], atol=1e-6)
    one_task = np.asarray(domain.reward("flip", physics[3], action[3]))
    np.testing.assert_allclose(one_task, expected[3, 3], atol=1e-6)


def test_relabel_errors_name_the_problem():
    domain = envs.make("walker")
    physics, action = _samples(domain, 4)
    with pytest.raises(ValueError, match=r"next_physics has shape \(4, 17\), expected \(N, 18\)"):
        relabel(domain, physics[:, :17], action)
    with pytest.raises(ValueError, match="action has shape"):
        relabel(domain, physics, action[:3])
    with pytest.raises(KeyError, match="no task 'jump'"):
        relabel(domain, physics, action, tasks=["jump"])
