"""Prompting a pretrained FB model for every task of a domain, and its free off-policy estimates.

Methods (SPEC section 5):
* `fb`: z_r = reward_inference on a sample of the dataset's next states and their rewards;
* `fb_zol`: ZOL latent search started from z_r (`ZOLConfig` defaults, fixed in advance);
* `fb_rwr`: ratio-weighted regression, the fixed point z <- proj(E[w_z r B]) from z_r.
Next to every z it computes J_hat = E_rho[w_z r] / (1 - gamma) from the free ratio (linear
transform, clipped at 20) and FB's own value E_rho0[F(s0, pi_z(s0), z)] . E_rho[r B].
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.fb.inference import reward_inference
from fbjax.fb.learner import FBAgent
from fbjax.types import Params
from fbjax.zol.ope import fb_value_estimate, ratio_estimate
from fbjax.zol.ratio import density_ratio
from fbjax.zol.search import ZOLConfig, ratio_weighted_regression, zol_search

FB_METHODS = ("fb", "fb_zol", "fb_rwr")
METHODS = (*FB_METHODS, "td3", "random")


@dataclasses.dataclass(frozen=True)
class InferenceData:
    """What prompting sees: start states s0 ~ rho0 and a sample of (s', r(s') per task)."""

    start_obs: jax.Array  # (m, obs_dim)
    next_obs: jax.Array  # (n, obs_dim)
    rewards: jax.Array  # (T, n)


def inference_data(arrays: dict[str, np.ndarray], rewards: np.ndarray, num_samples: int,
                   num_starts: int, seed: int) -> InferenceData:
    """Samples without replacement: `num_samples` transitions and `num_starts` episode starts.

    rewards: (N, T) relabelled rewards of every row of the dataset."""
    rng = np.random.default_rng(seed)
    rows = len(arrays["obs"])
    sample = rng.choice(rows, size=min(num_samples, rows), replace=False)
    starts = np.flatnonzero(arrays["start"] > 0)
    if starts.size == 0:
        raise ValueError("inference_data: the dataset has no episode starts (start flags)")
    starts = rng.choice(starts, size=min(num_starts, starts.size), replace=False)
    return InferenceData(start_obs=jnp.asarray(arrays["obs"][starts], jnp.float32),
                         next_obs=jnp.asarray(arrays["next_obs"][sample], jnp.float32),
                         rewards=jnp.asarray(rewards[sample].T, jnp.float32))


def infer_latents(agent: FBAgent, params: Params, data: InferenceData,
                  zol: ZOLConfig | None = None, rwr_iterations: int = 10
                  ) -> dict[str, jax.Array]:
    """z (T, d) per FB method, one prompt per task, all tasks at once."""
    zol = ZOLConfig() if zol is None else zol
    nets, discount = agent.networks, agent.config.discount
    z_r = reward_inference(nets, params["backward"], data.next_obs, data.rewards)
    z_zol, _ = zol_search(nets, params, data.start_obs, data.next_obs, data.rewards, z_r,
                          discount, zol)
    z_rwr, _ = ratio_weighted_regression(nets, params, data.start_obs, data.next_obs,
                                         data.rewards, z_r, discount, iterations=rwr_iterations)
    return {"fb": z_r, "fb_zol": z_zol, "fb_rwr": z_rwr}


def off_policy_estimates(agent: FBAgent, params: Params, data: InferenceData,
                         zs: jax.Array) -> dict[str, jax.Array]:
    """J_hat from the free ratio and FB's own value, for prompts zs (T, d) on tasks 0..T-1."""
    nets, discount = agent.networks, agent.config.discount

    def one(z, rewards):
        w = density_ratio(nets, params, data.start_obs, data.next_obs, z, discount,
                          transform="linear")
        return (ratio_estimate(w, rewards, discount),
                fb_value_estimate(nets, params, data.start_obs, data.next_obs, rewards, z))

    ratio, value = jax.vmap(one)(zs, data.rewards)
    return {"ratio": ratio, "fb_value": value}
