"""Inference-time adaptation of z with the free ratio (SPEC section 5), for P prompts at once.

* `zol_search`: Adam on the ZOL objective
      O(z) = sum_i w_i r~_i / sum_i w_i - l_chi2 mean_i (w_i - 1)^2 - l_trust mean_k (z_k - z0_k)^2
  (w = the positive ratio of pi_z on the dataset's next states, r~ = r - mean r), re-projecting z
  onto the sphere after each step and keeping the best measured iterate.
* `ratio_weighted_regression`: z <- proj(mean_i w_z(s'_i) r_i B(s'_i)) iterated from z0.
"""

import dataclasses

import jax
import jax.numpy as jnp
import optax

from fbjax.fb.networks import FBNetworks
from fbjax.nets import project_z
from fbjax.types import Params
from fbjax.zol.ratio import linear_ratio, positive_ratio, start_state_mean


@dataclasses.dataclass(frozen=True)
class ZOLConfig:
    """Defaults are the paper's (SPEC section 5)."""

    lr: float = 3e-3
    steps: int = 500
    transform: str = "exp"
    beta: float = 1.0
    clip: float | None = 20.0
    chi2_coef: float = 0.01  # 0 switches the chi^2 term off
    trust_coef: float = 1e-3  # 0 switches the trust-region term off
    center_rewards: bool = True


def zol_objective(z, networks: FBNetworks, params: Params, start_obs, backward_next, rewards,
                  z0, discount: float, config: ZOLConfig):
    """O(z) for one prompt; backward_next = B(s') (n, d), held fixed. Returns (O, parts)."""
    w_mean = start_state_mean(networks, params, start_obs, z)
    w = positive_ratio(linear_ratio(w_mean, backward_next, discount), config.transform,
                       config.beta, config.clip)
    r = rewards - rewards.mean() if config.center_rewards else rewards
    weighted = jnp.sum(w * r) / jnp.sum(w)
    chi2 = jnp.mean((w - 1.0) ** 2)
    trust = jnp.mean((z - z0) ** 2)
    objective = weighted - config.chi2_coef * chi2 - config.trust_coef * trust
    return objective, {"weighted_reward": weighted, "chi2": chi2, "trust": trust}


def _search_one(networks, params, start_obs, backward_next, rewards, z0, discount, config):
    opt = optax.adam(config.lr)
    value_and_grad = jax.value_and_grad(zol_objective, has_aux=True)

    def measure(z):
        (obj, _), grad = value_and_grad(z, networks, params, start_obs, backward_next, rewards,
                                        z0, discount, config)
        return obj, grad

    def step(carry, _):
        z, opt_state, best_z, best_obj = carry
        obj, grad = measure(z)
        better = obj > best_obj
        best_z, best_obj = jnp.where(better, z, best_z), jnp.where(better, obj, best_obj)
        updates, opt_state = opt.update(-grad, opt_state, z)  # ascent on O
        z = project_z(optax.apply_updates(z, updates))
        return (z, opt_state, best_z, best_obj), obj

    init = (z0, opt.init(z0), z0, jnp.array(-jnp.inf, z0.dtype))
    (z, _, best_z, best_obj), trace = jax.lax.scan(step, init, None, length=config.steps)
    final_obj, _ = measure(z)  # the last iterate is measured too before it may be kept
    better = final_obj > best_obj
    return jnp.where(better, z, best_z), {"objective": jnp.maximum(final_obj, best_obj),
                                          "initial_objective": trace[0], "trace": trace}


def zol_search(networks: FBNetworks, params: Params, start_obs, next_obs, rewards, z0,
               discount: float, config: ZOLConfig = ZOLConfig()):
    """ZOL latent search for P prompts: rewards (P, n) on next_obs (n, obs_dim), z0 (P, d) (e.g.
    reward_inference's z_r). Returns (z (P, d), info with per-prompt objectives and traces)."""
    backward_next = jax.lax.stop_gradient(networks.backward(params["backward"], next_obs))

    def one(r, z):
        return _search_one(networks, params, start_obs, backward_next, r, z, discount, config)

    return jax.vmap(one)(rewards, z0)


def ratio_weighted_regression(networks: FBNetworks, params: Params, start_obs, next_obs,
                              rewards, z0, discount: float, iterations: int = 10,
                              transform: str = "linear", beta: float = 1.0,
                              clip: float | None = 20.0):
    """Fixed-point iteration z <- proj(mean_i w_z(s'_i) r_i B(s'_i)) for P prompts; rewards (P, n),
    z0 (P, d). Returns (z (P, d), the per-iteration change ||z_t+1 - z_t|| (P, iterations))."""
    backward_next = jax.lax.stop_gradient(networks.backward(params["backward"], next_obs))

    def one(r, z0):
        def step(z, _):
            w_mean = start_state_mean(networks, params, start_obs, z)
            w = positive_ratio(linear_ratio(w_mean, backward_next, discount), transform, beta,
                               clip)
            new = project_z((w * r) @ backward_next / r.shape[-1])
            return new, jnp.linalg.norm(new - z)

        return jax.lax.scan(step, z0, None, length=iterations)

    return jax.vmap(one)(rewards, z0)
