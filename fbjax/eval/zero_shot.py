"""Prompting a pretrained FB model for every task of a domain, and its free off-policy estimates.

Methods (SPEC sections 5 and 7):
* `fb`: z_r = reward_inference on a sample of the dataset's next states and their rewards;
* `zol_published`: ZOL latent search from z_r in the authors' published regime, fixed in advance
  (`fbjax.zol.PUBLISHED`, the pre-registered arm);
* `zol_selected`: ZOL with the setting of a small grid around that regime chosen for each task
  without its test return (by the pipeline: on the domain's other tasks);
* `rwr`: ratio-weighted regression, the fixed point z <- proj(E[w_z r B]) from z_r; our own
  ablation, outside the headline comparison;
* `fb_goal`: the goal prompt z = B(goal) (SPEC section 4) for tasks that name a goal (the maze's
  reach tasks), the prompt Meta's FB code uses for them; it needs no rewarded samples;
* `zol_control`: the control arm for "any small change of z": z_r turned in a random direction
  through the same angle zol_published moved it (`matched_rotations`), several draws per prompt,
  each episode's return averaged over the draws. A ZOL gain over this arm is a gain of the
  ratio's direction, not of moving z by that much.
Reward inference (`fb`, and z_r where ZOL and rwr start) runs over every row of the dataset by
default (EvalConfig.reward_prompt="all"), so a sparse task's prompt sees every rewarded
transition; ZOL, rwr and the off-policy estimates keep the inference sample.
Next to every z it computes J_hat = E_rho[w_z r] / (1 - gamma) from the free ratio (linear
transform, clipped at 20, true episode starts as rho0), FB's own value E_rho0[F(s0, pi_z(s0), z)] .
E_rho[r B], and the ratio's per-prompt diagnostics.
"""

import dataclasses
import functools

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from fbjax.data.store import Dataset
from fbjax.fb.inference import reward_inference
from fbjax.fb.learner import FBAgent
from fbjax.fb.networks import FBNetworks
from fbjax.types import Params, Transition
from fbjax.zol.ope import fb_value_estimate, ratio_estimate
from fbjax.zol.ratio import density_ratio, positive_ratio
from fbjax.zol.search import (
    SearchInfo,
    ZOLConfig,
    ratio_diagnostics,
    ratio_weighted_regression,
    start_sets,
    zol_grid,
)


@dataclasses.dataclass(frozen=True)
class InferenceData:
    """What prompting sees: episode starts (rho0 = `init`), dataset states (rho0 = `data`) and a
    sample of (s', r(s') per task)."""

    start_obs: jax.Array  # (m, obs_dim) episode starts
    next_obs: jax.Array  # (n, obs_dim)
    rewards: jax.Array  # (T, n)
    data_obs: jax.Array | None = None  # (m, obs_dim) states drawn from the whole dataset


def inference_data(transitions: Transition | Dataset, rewards: np.ndarray, num_samples: int,
                   num_starts: int, seed: int) -> InferenceData:
    """Samples without replacement: `num_samples` transitions, `num_starts` episode starts and
    `num_starts` dataset states. rewards: (N, T) relabelled rewards of every row."""
    rng = np.random.default_rng(seed)
    rows = len(transitions.obs)
    sample = rng.choice(rows, size=min(num_samples, rows), replace=False)
    starts = np.flatnonzero(transitions.start > 0)
    if starts.size == 0:
        raise ValueError("inference_data: the dataset has no episode starts (start flags)")
    starts = rng.choice(starts, size=min(num_starts, starts.size), replace=False)
    anywhere = rng.choice(rows, size=min(num_starts, rows), replace=False)
    return InferenceData(start_obs=jnp.asarray(transitions.obs[starts], jnp.float32),
                         next_obs=jnp.asarray(transitions.next_obs[sample], jnp.float32),
                         rewards=jnp.asarray(rewards[sample].T, jnp.float32),
                         data_obs=jnp.asarray(transitions.obs[anywhere], jnp.float32))


# A transition is "rewarded" for a task when its reward is at least this share of the task's
# largest reward in the dataset; reward inference sees the task through those transitions.
REWARDED_SHARE = 0.1
REWARDED_RULE = f"reward >= {REWARDED_SHARE:g} x the task's largest in the data"
FEW_REWARDED = 10  # fewer than this in the inference sample: the prompt says little of the task


def rewarded_in_sample(rewards: np.ndarray, sample_rewards) -> np.ndarray:
    """rewards (N, T) of every row, sample_rewards (T, n) of an inference sample -> (T,) the
    count of sampled transitions with reward >= REWARDED_SHARE x the task's largest reward in the
    dataset (0 for a task the dataset never rewards)."""
    top = np.asarray(rewards).max(axis=0)
    hits = (np.asarray(sample_rewards) >= REWARDED_SHARE * top[:, None]) & (top[:, None] > 0)
    return hits.sum(axis=1)


def zol_starts(config: ZOLConfig, data: InferenceData) -> jax.Array:
    """Each task's ZOL start set (T, m', obs_dim) from the inference data."""
    data_obs = data.start_obs if data.data_obs is None else data.data_obs
    return start_sets(config, data.start_obs, data_obs, data.next_obs, data.rewards)


@flax.struct.dataclass
class Latents:
    """The prompts of T tasks: `fb` = z_r (T, d); where asked for, ZOL's z for every setting of a
    grid (G, T, d) with its per-prompt diagnostics `grid_info` (leaves (G, T, ...), no trace),
    and `rwr` (T, d), the ratio-weighted regression's."""

    fb: jax.Array
    grid: jax.Array | None = None
    grid_info: SearchInfo | None = None
    rwr: jax.Array | None = None


def infer_latents(agent: FBAgent, params: Params, data: InferenceData,
                  grid: list[ZOLConfig], rwr_iterations: int = 10,
                  z_r: jax.Array | None = None) -> Latents:
    """One prompt per task, all tasks at once: z_r, and ZOL's z for every config of `grid` (which
    differ only in numeric settings, `zol_grid`) where it is not empty, and the regression's
    after `rwr_iterations` > 0 steps. z_r: the reward prompts (T, d) when made elsewhere (e.g.
    over every dataset row); default: reward inference on the inference sample."""
    nets, discount = agent.networks, agent.config.discount
    if z_r is None:
        z_r = reward_inference(nets, params.backward, data.next_obs, data.rewards)
    out = Latents(fb=z_r)
    if grid:
        z, info = zol_grid(nets, params, zol_starts(grid[0], data), data.next_obs, data.rewards,
                           z_r, discount, grid)
        out = out.replace(grid=z, grid_info=info.replace(trace=None))
    if rwr_iterations > 0:
        z, _ = ratio_weighted_regression(nets, params, data.start_obs, data.next_obs,
                                         data.rewards, z_r, discount, iterations=rwr_iterations)
        out = out.replace(rwr=z)
    return out


def matched_rotations(z_r: jax.Array, z: jax.Array, key: jax.Array, draws: int) -> jax.Array:
    """For prompts z_r and z (P, d): `draws` random turns of each z_r through the angle between
    z_r and z, (draws, P, d). Each turn is in the plane of z_r and a direction drawn uniformly
    among those orthogonal to it; the norm of z_r is kept (FB's latents live on the sphere of
    radius sqrt(d)), so cos(result, z_r) = cos(z, z_r) exactly. Where z_r or z is 0 (reward
    inference saw no rewarded transition) there is no angle to match: the control is z_r."""
    z_r, z = jnp.asarray(z_r, jnp.float32), jnp.asarray(z, jnp.float32)
    norm = jnp.linalg.norm(z_r, axis=-1, keepdims=True)
    z_norm = jnp.linalg.norm(z, axis=-1, keepdims=True)
    defined = (norm > 0) & (z_norm > 0)
    unit = z_r / jnp.where(defined, norm, 1.0)
    cos = jnp.clip(jnp.sum(unit * z, -1, keepdims=True) / jnp.where(defined, z_norm, 1.0), -1, 1)
    sin = jnp.sqrt(1.0 - cos ** 2)
    noise = jax.random.normal(key, (draws, *z_r.shape))
    orthogonal = noise - jnp.sum(noise * unit, -1, keepdims=True) * unit
    orthogonal = orthogonal / jnp.linalg.norm(orthogonal, axis=-1, keepdims=True)
    return jnp.where(defined, norm * (cos * unit + sin * orthogonal), z_r)


def off_policy_estimates(agent: FBAgent, params: Params, data: InferenceData,
                         zs: jax.Array) -> dict[str, jax.Array]:
    """For prompts zs (T, d) on tasks 0..T-1: J_hat from the free ratio (linear, clip 20), FB's
    own value, and the diagnostics (c_z, ESS, chi^2, max w, fraction < 0) of that ratio."""
    return _off_policy_estimates(agent.networks, agent.config.discount, params, data.start_obs,
                                 data.next_obs, data.rewards, zs)


@functools.partial(jax.jit, static_argnums=(0, 1), inline=True)  # one program, not per op
def _off_policy_estimates(nets: FBNetworks, discount: float, params: Params, start_obs,
                          next_obs, rewards, zs: jax.Array) -> dict[str, jax.Array]:
    def one(z, task_rewards):
        linear = density_ratio(nets, params, start_obs, next_obs, z, discount)
        w = positive_ratio(linear, "linear", clip=20.0)
        return {"ratio": ratio_estimate(w, task_rewards, discount),
                "fb_value": fb_value_estimate(nets, params, start_obs, next_obs, task_rewards,
                                              z),
                **ratio_diagnostics(linear, w)}

    return jax.vmap(one)(zs, rewards)
