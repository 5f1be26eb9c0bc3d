"""The OPE validation study (SPEC section 7): is the free ratio a referee among many policies?

A pool of FB policies per model (`policy_pool`): the task prompts, random rewards in the span of
B, mixtures of two tasks, goal prompts, task prompts perturbed by fixed angles, and ZOL outputs,
each labelled with its stratum. Every policy is rolled out once and scored on every task reward
(the evaluator returns all of them); every estimator (`estimates`: FB's own value, the raw
ratio, and each transform / normalisation / clip of it) predicts the same (policy, task)
returns from the data alone. `rank_metrics` scores an estimator per reward: Spearman rank
correlation over the pool, the regret of picking the policy with the best estimate, and the
calibration slope (true return regressed on the estimate; 1 is calibrated).

The truth is itself measured: each policy's true return is a mean over E episodes.
`noise_ceiling` splits the episodes into halves and correlates the halves' ranks over the pool,
per reward; the Spearman-Brown correction gives the reliability of the full-E means, and its
square root bounds the Spearman any estimator can reach against them. A reward on which most
policies earn nearly nothing has a low ceiling: a Spearman there is mostly noise.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.eval.zero_shot import InferenceData, infer_latents
from fbjax.fb.inference import goal_inference, reward_inference
from fbjax.fb.learner import FBAgent
from fbjax.nets import project_z
from fbjax.types import Params
from fbjax.zol.ope import fb_value_estimate
from fbjax.zol.ratio import density_ratio, positive_ratio
from fbjax.zol.search import ZOLConfig

# name -> (transform, beta, clip); None = the raw linear estimate, unnormalised and unclipped.
VARIANTS = {
    "raw": None,
    "linear_norm": ("linear", 1.0, None),
    "linear_clip20": ("linear", 1.0, 20.0),
    "softplus_clip20": ("softplus", 1.0, 20.0),
    "exp_b1_clip20": ("exp", 1.0, 20.0),
    "exp_b2_clip50": ("exp", 2.0, 50.0),
}


@dataclasses.dataclass(frozen=True)
class PoolConfig:
    num_random: int = 60  # random rewards r = B(s') . u, u ~ N(0, I)
    mixture_weights: tuple[float, ...] = (0.25, 0.5, 0.75)  # every pair of tasks
    num_goals: int = 40  # goal prompts proj(B(g)) for dataset states g
    angles: tuple[float, ...] = (5.0, 15.0, 30.0)  # degrees, around every task prompt
    directions: int = 4  # random directions per (task, angle)


def perturb(z: jax.Array, degrees: float, key: jax.Array) -> jax.Array:
    """z rotated by `degrees` towards a random direction orthogonal to it, on the sphere."""
    u = z / jnp.maximum(jnp.linalg.norm(z), 1e-12)  # z = 0 (a reward never seen): v alone
    v = jax.random.normal(key, z.shape)
    v = v - (v @ u) * u
    v = v / jnp.linalg.norm(v)
    theta = jnp.deg2rad(degrees)
    return project_z(jnp.cos(theta) * u + jnp.sin(theta) * v)


def policy_pool(agent: FBAgent, params: Params, data: InferenceData, grid: list[ZOLConfig],
                config: PoolConfig, key: jax.Array) -> tuple[np.ndarray, list[str], list[str]]:
    """(z (P, d), stratum per policy, label per policy) for one model."""
    nets, b_params = agent.networks, params.backward
    num_tasks = data.rewards.shape[0]
    zs, strata, labels = [], [], []

    def add(z, stratum, names):
        zs.append(np.asarray(z))
        strata.extend([stratum] * len(names))
        labels.extend(names)

    keys = jax.random.split(key, 3)
    z_r = reward_inference(nets, b_params, data.next_obs, data.rewards)
    add(z_r, "task", [f"task {t}" for t in range(num_tasks)])
    b_next = nets.backward(b_params, data.next_obs)
    u = jax.random.normal(keys[0], (config.num_random, b_next.shape[-1]))
    add(reward_inference(nets, b_params, data.next_obs, u @ b_next.T), "random",
        [f"random {i}" for i in range(config.num_random)])
    pairs = [(a, b, w) for a in range(num_tasks) for b in range(a + 1, num_tasks)
             for w in config.mixture_weights]
    if pairs:
        mixed = jnp.stack([w * data.rewards[a] + (1 - w) * data.rewards[b] for a, b, w in pairs])
        add(reward_inference(nets, b_params, data.next_obs, mixed), "mixture",
            [f"{w:g} task {a} + {1 - w:g} task {b}" for a, b, w in pairs])
    goals = jax.random.choice(keys[1], data.next_obs.shape[0], (config.num_goals,), replace=False)
    add(goal_inference(nets, b_params, data.next_obs[goals]), "goal",
        [f"goal row {int(g)}" for g in goals])
    perturbed, names = [], []
    for t in range(num_tasks):
        for angle in config.angles:
            for k in range(config.directions):
                sub = jax.random.fold_in(keys[2], (t * 1000 + int(angle * 10)) * 100 + k)
                perturbed.append(perturb(z_r[t], angle, sub))
                names.append(f"task {t} +{angle:g}deg #{k}")
    if perturbed:
        add(jnp.stack(perturbed), "perturbed", names)
    latents = infer_latents(agent, params, data, grid, rwr_iterations=0)
    add(latents.grid.reshape(-1, z_r.shape[-1]), "zol",
        [f"zol setting {g} task {t}" for g in range(len(grid)) for t in range(num_tasks)])
    return np.concatenate(zs), strata, labels


def estimates(agent: FBAgent, params: Params, data: InferenceData, zs: jax.Array,
              positions: jax.Array | None = None, num_cells: int = 0) -> dict:
    """For every policy (P, d) and task reward: J_hat (P, T) per VARIANTS entry and FB's own
    value "fb_value"; with `positions` (cell index of each next state) also the histogram of each
    variant's weighted sample, w rho, over `num_cells` cells ("hist/<variant>", (P, cells))."""
    nets, discount = agent.networks, agent.config.discount
    one_hot = None if positions is None else jax.nn.one_hot(positions, num_cells)

    def one(z):
        linear = density_ratio(nets, params, data.start_obs, data.next_obs, z, discount)
        out = {"fb_value": jax.vmap(lambda r: fb_value_estimate(
            nets, params, data.start_obs, data.next_obs, r, z))(data.rewards)}
        weights = {"uniform": jnp.ones_like(linear)}
        for name, spec in VARIANTS.items():
            w = linear if spec is None else positive_ratio(linear, *spec)
            out[name] = data.rewards @ w / w.shape[0] / (1.0 - discount)
            weights[name] = w
        if one_hot is not None:
            for name, w in weights.items():
                if name != "raw":
                    out[f"hist/{name}"] = w @ one_hot / w.sum()
        return out

    return jax.lax.map(one, zs)


def rank_metrics(estimate: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """Spearman rank correlation, regret of the argmax (absolute and as a fraction of the pool's
    true range), and the calibration slope of true on estimate, over policies for one reward."""
    from scipy.stats import spearmanr

    estimate, true = np.asarray(estimate, np.float64), np.asarray(true, np.float64)
    spread = true.max() - true.min()
    regret = true.max() - true[int(np.argmax(estimate))]
    if np.ptp(estimate) > 0 and np.ptp(true) > 0:
        rho = float(spearmanr(estimate, true).statistic)
        slope = float(np.polyfit(estimate, true, 1)[0])
    else:
        rho = slope = float("nan")
    return {"spearman": rho, "regret": float(regret),
            "regret_frac": float(regret / spread) if spread > 0 else 0.0,
            "calibration_slope": slope}


def total_variation(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Row-wise TV distance between distributions over cells."""
    return 0.5 * np.abs(np.asarray(p) - np.asarray(q)).sum(axis=-1)


def noise_ceiling(episodes: np.ndarray) -> dict[str, np.ndarray]:
    """episodes (P, E, T): per-episode true returns of P policies on T rewards. Per reward: the
    Spearman correlation over policies between the means of the even and the odd episodes
    (`split_half`), its Spearman-Brown reliability 2r / (1 + r) for means over all E episodes
    (0 where r <= 0), and the ceiling sqrt(reliability): the largest correlation a perfect
    estimator can expect against the measured truth (NaN where the halves do not vary)."""
    from scipy.stats import spearmanr

    episodes = np.asarray(episodes, np.float64)
    if episodes.ndim != 3 or episodes.shape[1] < 2:
        raise ValueError(f"noise_ceiling: expected (policies, episodes >= 2, rewards), got "
                         f"{episodes.shape}")
    even, odd = episodes[:, 0::2].mean(axis=1), episodes[:, 1::2].mean(axis=1)
    split = np.array([float(spearmanr(even[:, t], odd[:, t]).statistic)
                      if np.ptp(even[:, t]) > 0 and np.ptp(odd[:, t]) > 0 else np.nan
                      for t in range(episodes.shape[2])])
    reliability = np.where(split > 0, 2 * split / (1 + split), np.where(np.isnan(split), np.nan,
                                                                        0.0))
    return {"split_half": split, "reliability": reliability, "ceiling": np.sqrt(reliability)}
