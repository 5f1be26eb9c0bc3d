"""The TD3 oracle: every task's critic learns its own reward (all tasks in one run), and the run
resumes like any training run."""

import json

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.baselines import TD3, TD3Config
from fbjax.eval.oracle import oracle_dataset, train_oracles
from fbjax.train import TrainConfig, read_config
from fbjax.types import Transition

ROWS, TASKS = 64, 3


def _data():
    rng = np.random.default_rng(0)
    arrays = Transition(obs=rng.normal(size=(ROWS, 2)), action=rng.uniform(-1, 1, (ROWS, 1)),
                        next_obs=rng.normal(size=(ROWS, 2)), terminal=np.ones(ROWS),
                        start=np.ones(ROWS))
    # Every transition ends its episode, so Q(s, a) = r exactly: task t has reward t + 1.
    rewards = np.tile(np.arange(1.0, TASKS + 1), (ROWS, 1))
    return arrays, rewards


def test_each_task_critic_converges_to_its_own_reward(tmp_path):
    arrays, rewards = _data()
    td3 = TD3(TD3Config(hidden=16, layers=1, lr=1e-2, batch_size=32), 2, 1)
    train = TrainConfig(num_steps=400, steps_per_call=200, save_every=200)
    state = train_oracles(td3, arrays, rewards, {0: str(tmp_path / "oracle")}, train,
                          progress_fn=None)[0]
    assert state.step.shape == (TASKS,) and np.all(np.asarray(state.step) == 400)
    obs = jnp.asarray(arrays.obs, jnp.float32)
    action = jnp.asarray(arrays.action, jnp.float32)
    for t in range(TASKS):
        critic = jax.tree.map(lambda x, t=t: x[t], state.critic)
        # Mean near its own reward; every state nearer its own task's value than a neighbour's
        # (tasks are 1 apart), so no critic learned another task's reward.
        for q in td3.critic.apply(critic, obs, action):
            assert abs(float(q.mean()) - (t + 1.0)) < 0.05, (t, float(q.mean()))
            assert float(jnp.max(jnp.abs(q - (t + 1.0)))) < 0.5
    # The curves on disk keep each task's critic apart (train/q_mean/t), beside their mean.
    with open(tmp_path / "oracle" / "metrics" / "metrics.jsonl") as f:
        last = json.loads(f.readlines()[-1])
    assert last["step"] == 400
    for t in range(TASKS):
        assert abs(last[f"train/q_mean/{t}"] - (t + 1.0)) < 0.5
    per_task = [last[f"train/q_mean/{t}"] for t in range(TASKS)]
    assert abs(last["train/q_mean"] - np.mean(per_task)) < 1e-6
    saved = read_config(str(tmp_path / "oracle"))
    assert saved["num_tasks"] == TASKS and saved["train"]["num_steps"] == 400

    longer = TrainConfig(num_steps=600, steps_per_call=200, save_every=200)
    resumed = train_oracles(td3, arrays, rewards, {0: str(tmp_path / "oracle")}, longer,
                            progress_fn=None)[0]
    assert np.all(np.asarray(resumed.step) == 600)


def test_oracle_dataset_keeps_rewards_per_row():
    arrays, rewards = _data()
    data = oracle_dataset(arrays, rewards * np.arange(ROWS)[:, None])
    assert data.reward.shape == (ROWS, TASKS) and data.reward.dtype == np.float32
    np.testing.assert_array_equal(data.reward[5], [5.0, 10.0, 15.0])
    np.testing.assert_array_equal(data.obs, np.float32(arrays.obs))
