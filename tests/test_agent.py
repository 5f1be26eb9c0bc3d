"""The agent protocol's scan, its metrics reduction, and Vmapped copies, against Python loops."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fbjax.agent import Vmapped, mean_metrics, sample_batch, scan_updates, train_steps
from tests.helpers import TINY, discrete_agent, random_batch


class Accumulator:
    """A toy agent whose state sums what it saw: state <- state + sum(batch) + first key word."""

    batch_size = 3

    def init(self, key):
        return {"total": jnp.zeros(()), "step": jnp.zeros((), jnp.int32)}

    def update(self, state, batch, key):
        seen = jnp.sum(batch["x"]) * batch["scale"].mean()
        noise = jax.random.uniform(key)
        new = {"total": state["total"] + seen + noise, "step": state["step"] + 1}
        return new, {"seen": seen, "noise": noise}


def test_train_steps_is_a_scan_of_update_with_mean_metrics():
    agent = discrete_agent()
    dataset = random_batch(50, True, seed=4)
    state, key = agent.init(jax.random.PRNGKey(0)), jax.random.PRNGKey(5)
    scanned, metrics = train_steps(agent, state, dataset, key, 3)
    manual, losses = state, []
    for step_key in jax.random.split(key, 3):
        batch_key, update_key = jax.random.split(step_key)
        manual, m = agent.update(manual, sample_batch(dataset, batch_key, TINY.batch_size),
                                 update_key)
        losses.append(float(m["fb_loss"]))
    assert int(scanned.step) == 3
    for a, b in zip(jax.tree.leaves(scanned), jax.tree.leaves(manual), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(metrics["fb_loss"], np.mean(losses), rtol=1e-5)


def test_sample_batch_draws_only_from_the_first_rows():
    data = {"x": jnp.arange(100.0)}
    batch = sample_batch(data, jax.random.PRNGKey(0), 1000, rows=7)
    assert set(np.asarray(batch["x"]).tolist()) == set(range(7))


def test_mean_metrics_averages_the_step_axis():
    out = mean_metrics({"a": jnp.array([1.0, 2.0, 6.0]), "b": jnp.array([[1.0, 3.0], [3.0, 5.0]])})
    assert float(out["a"]) == 3.0
    np.testing.assert_array_equal(out["b"], [2.0, 4.0])


def test_scan_updates_feeds_each_step_its_own_batch_and_key():
    agent = Accumulator()
    data = {"x": jnp.arange(10.0), "scale": jnp.ones(10)}
    key = jax.random.PRNGKey(1)

    def sample(k):
        return sample_batch(data, k, 3)

    state, metrics = scan_updates(agent.update, agent.init(key), sample, key, 4)
    total = 0.0
    for step_key in jax.random.split(key, 4):
        batch_key, update_key = jax.random.split(step_key)
        total += float(jnp.sum(sample(batch_key)["x"])) + float(jax.random.uniform(update_key))
    assert int(state["step"]) == 4
    np.testing.assert_allclose(state["total"], total, rtol=1e-6)


def test_vmapped_copies_equal_separate_agents_with_their_own_fields_and_keys():
    agent, n = Accumulator(), 3
    vmapped = Vmapped(agent, n, per_copy=("scale",))
    batch = {"x": jnp.arange(3.0), "scale": jnp.array([[1.0, 2.0, 3.0]] * 3)}  # rows x copies
    key = jax.random.PRNGKey(2)
    state, metrics = vmapped.update(vmapped.init(key), batch, key)
    keys = jax.random.split(key, n)
    for copy in range(n):
        alone, _ = agent.update(agent.init(None), {"x": batch["x"],
                                                   "scale": batch["scale"][:, copy]}, keys[copy])
        np.testing.assert_allclose(state["total"][copy], alone["total"], rtol=1e-6)
        np.testing.assert_allclose(metrics["seen"][copy], 3.0 * (copy + 1), rtol=1e-6)
    with pytest.raises(ValueError, match="at least one copy"):
        Vmapped(agent, 0)
