"""TD3 against per-sample references: the critic target, the delayed actor and its target, and
Polyak averaging of the critic target."""

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.baselines import TD3, TD3Config
from fbjax.types import Labelled

OBS, ACT, N = 3, 2, 5
CONFIG = TD3Config(hidden=8, layers=1, lr=1e-2, discount=0.9, tau=0.2, policy_noise=0.3,
                   noise_clip=0.4, policy_delay=3, batch_size=N)


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    return Labelled(obs=jnp.asarray(rng.normal(size=(N, OBS)), jnp.float32),
                    action=jnp.asarray(rng.uniform(-1, 1, (N, ACT)), jnp.float32),
                    reward=jnp.asarray(rng.normal(size=N), jnp.float32),
                    next_obs=jnp.asarray(rng.normal(size=(N, OBS)), jnp.float32),
                    terminal=jnp.asarray([0.0, 1.0, 0.0, 0.0, 1.0], jnp.float32))


def test_critic_target_matches_a_per_sample_loop():
    td3 = TD3(CONFIG, OBS, ACT)
    state, batch, key = td3.init(jax.random.PRNGKey(0)), _batch(), jax.random.PRNGKey(1)
    target = np.asarray(td3.critic_target(state, batch, key))
    noise = np.clip(0.3 * np.asarray(jax.random.normal(key, (N, ACT))), -0.4, 0.4)
    for i in range(N):
        s2 = batch.next_obs[i : i + 1]
        a2 = np.clip(np.asarray(td3.act(state.target_actor, s2))[0] + noise[i], -1, 1)
        q1, q2 = td3.critic.apply(state.target_critic, s2, jnp.asarray(a2[None]))
        bootstrap = 0.0 if batch.terminal[i] else 0.9 * min(float(q1[0]), float(q2[0]))
        np.testing.assert_allclose(target[i], float(batch.reward[i]) + bootstrap, rtol=1e-5,
                                   atol=1e-6)


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b),
                                                    strict=True))


def test_actor_and_its_target_move_only_every_policy_delay_steps():
    td3 = TD3(CONFIG, OBS, ACT)
    state = td3.init(jax.random.PRNGKey(0))
    update = jax.jit(td3.update)
    moved = []
    for step in range(7):
        new, _ = update(state, _batch(step), jax.random.PRNGKey(step))
        moved.append(not _same(new.actor, state.actor))
        assert (not _same(new.target_actor, state.target_actor)) == moved[-1]
        assert not _same(new.critic, state.critic)  # the critic learns every step
        expected_target = jax.tree.map(lambda t, c: (1 - 0.2) * t + 0.2 * c,
                                       state.target_critic, new.critic)
        for a, b in zip(jax.tree.leaves(new.target_critic), jax.tree.leaves(expected_target),
                        strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        state = new
    assert moved == [True, False, False, True, False, False, True]
    assert int(state.step) == 7


def test_preactivation_penalty_is_added_to_the_actor_loss():
    """preact_penalty c: the actor loss is -Q1(s, tanh(u)).mean() + c * mean(u^2), u the actor's
    pre-tanh output; 0 leaves the loss as it was."""
    batch = _batch()
    plain = TD3(CONFIG, OBS, ACT)
    penalised = TD3(TD3Config(**{**CONFIG.__dict__, "preact_penalty": 0.5}), OBS, ACT)
    state = plain.init(jax.random.PRNGKey(0))
    u = penalised.actor_preact.apply(state.actor, batch.obs)
    q = plain.critic.apply(state.critic, batch.obs, jnp.tanh(u))[0]
    loss, metrics = penalised.actor_loss(state.actor, state.critic, batch)
    np.testing.assert_allclose(loss, -q.mean() + 0.5 * jnp.mean(u ** 2), rtol=1e-6)
    np.testing.assert_allclose(plain.actor_loss(state.actor, state.critic, batch)[0], -q.mean(),
                               rtol=1e-6)
    assert 0.0 <= float(metrics["actor_saturated"]) <= 1.0
    np.testing.assert_array_equal(jnp.tanh(u), plain.act(state.actor, batch.obs))
