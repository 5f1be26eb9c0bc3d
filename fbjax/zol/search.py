"""Inference-time adaptation of z with the free ratio (SPEC section 5), for P prompts at once.

* `zol_search`: Adam on the ZOL objective
      O(z) = sum_i w_i r~_i / sum_i w_i - l_chi2 mean_i (w_i - 1)^2 - l_trust mean_k (z_k - z0_k)^2
  evaluated at proj(z), so its gradient is the tangential one, re-projecting z onto the sphere
  after each step and keeping the best measured iterate. w = the positive ratio of pi_z on the
  dataset's next states (exp transform by default), r~ = r - mean r (optionally / std r, which
  makes l_chi2 scale-free). Each prompt has its own start set rho0 (`start_sets`).
* `zol_grid`: the same search for G settings that differ only in numeric values (lr, beta, clip,
  l_chi2, l_trust), all in one compiled program.
* `ratio_weighted_regression`: z <- proj(mean_i w_z(s'_i) r_i B(s'_i)) iterated from z0; our own
  ablation, not the paper's method.
"""

import dataclasses
import functools

import flax.struct
import jax
import jax.numpy as jnp
import optax

from fbjax.fb.networks import FBNetworks
from fbjax.nets import project_z
from fbjax.types import Params
from fbjax.zol.ratio import TRANSFORMS, linear_ratio, positive_ratio, start_state_mean

START_SETS = ("init", "data", "data_topk")
# Settings a grid may vary inside one compiled program (traced numbers); the rest fix its shape.
NUMERIC = ("lr", "beta", "clip", "chi2_coef", "trust_coef")


@dataclasses.dataclass(frozen=True)
class ZOLConfig:
    """Defaults are the authors' class defaults (SPEC section 5); `PUBLISHED` is the regime their
    published numbers used."""

    lr: float = 3e-3
    steps: int = 500
    transform: str = "exp"
    beta: float = 1.0
    clip: float | None = 20.0  # None: no clip
    chi2_coef: float = 0.01  # 0 switches the chi^2 term off
    trust_coef: float = 1e-3  # 0 switches the trust-region term off
    center_rewards: bool = True
    scale_rewards: bool = False  # r~ / std(r): l_chi2 then means the same on every reward scale
    starts: str = "init"  # rho0 of the search: init | data | data_topk (see start_sets)
    top_k: float = 0.05  # data_topk: this fraction of the sample's highest-reward states

    def __post_init__(self):
        if self.transform not in TRANSFORMS:
            raise ValueError(f"ZOLConfig.transform {self.transform!r} is not one of {TRANSFORMS}")
        if self.starts not in START_SETS:
            raise ValueError(f"ZOLConfig.starts {self.starts!r} is not one of {START_SETS}")
        if not self.lr > 0:
            raise ValueError(f"ZOLConfig.lr must be > 0, got {self.lr}")
        if self.steps < 1:
            raise ValueError(f"ZOLConfig.steps must be >= 1, got {self.steps}")
        if not 0.0 < self.top_k <= 1.0:
            raise ValueError(f"ZOLConfig.top_k must be in (0, 1], got {self.top_k}")


# The regime of the authors' published numbers (REFERENCES): lr 1e-4-5e-4, 100-200 steps,
# l_chi2 0-5e-3, l_trust 0.02-0.05, clip 50-100, beta 2, data + top-5% starts. The middle of each
# range, fixed before any evaluation: fbjax's pre-registered ZOL arm.
PUBLISHED = ZOLConfig(lr=3e-4, steps=200, beta=2.0, clip=50.0, chi2_coef=2.5e-3,
                      trust_coef=0.035, starts="data_topk", top_k=0.05)


@flax.struct.dataclass
class Numeric:
    """The settings of a config that one program may vary (NUMERIC), as traced float32 values."""

    lr: jax.Array
    beta: jax.Array
    clip: jax.Array
    chi2_coef: jax.Array
    trust_coef: jax.Array


def numeric(config: ZOLConfig) -> Numeric:
    """The traced settings of a config (clip None -> inf, which clips nothing)."""
    return Numeric(**{k: jnp.asarray(jnp.inf if getattr(config, k) is None else getattr(config, k),
                                     jnp.float32) for k in NUMERIC})


def start_sets(config: ZOLConfig, init_obs, data_obs, next_obs, rewards) -> jax.Array:
    """Each prompt's start set rho0, (P, m, obs_dim) for rewards (P, n) on next_obs (n, obs_dim):
    `init` = episode starts init_obs; `data` = dataset states data_obs; `data_topk` = data_obs with
    each prompt's top `top_k` fraction of next_obs by its reward appended."""
    num_prompts = rewards.shape[0]
    if config.starts in ("init", "data"):
        obs = init_obs if config.starts == "init" else data_obs
        return jnp.broadcast_to(obs, (num_prompts, *obs.shape))
    k = max(1, int(round(config.top_k * next_obs.shape[0])))
    _, top = jax.lax.top_k(rewards, k)  # (P, k)
    data = jnp.broadcast_to(data_obs, (num_prompts, *data_obs.shape))
    return jnp.concatenate([data, next_obs[top]], axis=1)


@flax.struct.dataclass
class Measured:
    """The ZOL objective at one z, its parts, and the ratio's diagnostics there (each per prompt
    when batched): c_z = E_rho[l] (1 for an exact model), ess (effective sample size of w as a
    fraction of n), chi2 = mean (w - 1)^2, max_w, and frac_negative, the fraction l < 0."""

    objective: jax.Array
    weighted_reward: jax.Array
    chi2_term: jax.Array
    trust_term: jax.Array
    c_z: jax.Array
    ess: jax.Array
    chi2: jax.Array
    max_w: jax.Array
    frac_negative: jax.Array

    def fields(self) -> dict[str, jax.Array]:
        """name -> value in name order (the order of the evaluation's row fields zol_NAME)."""
        return {name: getattr(self, name) for name in sorted(f.name for f in
                                                             dataclasses.fields(self))}


@flax.struct.dataclass
class SearchInfo:
    """What a search reports per prompt: the objective at the chosen z and at z0
    (`initial_objective`), the objective at every step (`trace`, None where it was dropped),
    cos(z, z0), and everything measured at z0 and at the chosen z."""

    objective: jax.Array
    initial_objective: jax.Array
    trace: jax.Array | None
    cos_z0: jax.Array
    at_z0: Measured
    at_z: Measured


def ratio_diagnostics(linear: jax.Array, w: jax.Array) -> dict[str, jax.Array]:
    """Per-prompt health of a ratio: c_z = E_rho[l] (1 for an exact model), the effective sample
    size of w as a fraction of n, chi^2 = mean (w - 1)^2, max w, and the fraction l < 0."""
    return {"c_z": linear.mean(), "ess": w.sum() ** 2 / (w.shape[0] * (w ** 2).sum()),
            "chi2": jnp.mean((w - 1.0) ** 2), "max_w": w.max(),
            "frac_negative": jnp.mean(linear < 0)}


def zol_objective(z, networks: FBNetworks, params: Params, start_obs, backward_next, rewards,
                  z0, discount: float, config: ZOLConfig, values: Numeric | None = None):
    """O(proj(z)) for one prompt; backward_next = B(s') (n, d), held fixed; `values` overrides
    the NUMERIC settings with traced ones. Returns (O, `Measured`)."""
    h = numeric(config) if values is None else values
    z = project_z(z)  # the objective lives on the sphere: its gradient is tangential
    linear = linear_ratio(start_state_mean(networks, params, start_obs, z), backward_next,
                          discount)
    w = positive_ratio(linear, config.transform, h.beta, h.clip)
    r = rewards - rewards.mean() if config.center_rewards else rewards
    if config.scale_rewards:
        r = r / jnp.maximum(rewards.std(), 1e-8)
    weighted = jnp.sum(w * r) / jnp.sum(w)
    chi2 = jnp.mean((w - 1.0) ** 2)
    trust = jnp.mean((z - z0) ** 2)
    objective = weighted - h.chi2_coef * chi2 - h.trust_coef * trust
    return objective, Measured(objective=objective, weighted_reward=weighted, chi2_term=chi2,
                               trust_term=trust, **ratio_diagnostics(linear, w))


def _search_one(networks, params, start_obs, backward_next, rewards, z0, discount, config,
                values):
    opt = optax.adam(values.lr)
    value_and_grad = jax.value_and_grad(zol_objective, has_aux=True)

    def measure(z):
        (obj, parts), grad = value_and_grad(z, networks, params, start_obs, backward_next,
                                            rewards, z0, discount, config, values)
        return obj, parts, grad

    def step(carry, _):
        z, opt_state, best_z, best_obj = carry
        obj, _, grad = measure(z)
        better = obj > best_obj
        best_z, best_obj = jnp.where(better, z, best_z), jnp.where(better, obj, best_obj)
        updates, opt_state = opt.update(-grad, opt_state, z)  # ascent on O
        z = project_z(optax.apply_updates(z, updates))
        return (z, opt_state, best_z, best_obj), obj

    init = (z0, opt.init(z0), z0, jnp.array(-jnp.inf, z0.dtype))
    (z, _, best_z, best_obj), trace = jax.lax.scan(step, init, None, length=config.steps)
    final_obj, _, _ = measure(z)  # the last iterate is measured too before it may be kept
    best_z = jnp.where(final_obj > best_obj, z, best_z)
    _, at_z0, _ = measure(z0)
    _, at_z, _ = measure(best_z)
    cos = best_z @ z0 / (jnp.linalg.norm(best_z) * jnp.linalg.norm(z0))
    return best_z, SearchInfo(objective=at_z.objective, initial_objective=trace[0], trace=trace,
                              cos_z0=cos, at_z0=at_z0, at_z=at_z)


# One compiled program per (networks, discount, config) and input shapes: called outside jit,
# the searches' measurements and set-up would otherwise run op by op, each op compiled on first
# use (hundreds of small compiles in every fresh process). Inside a caller's jit they are inlined
# (inline=True), so what the caller does not use is dropped from its program as before.
@functools.partial(jax.jit, static_argnames=("networks", "discount", "config"), inline=True)
def _search(networks, params, start_obs, next_obs, rewards, z0, discount, config, values):
    backward_next = jax.lax.stop_gradient(networks.backward(params.backward, next_obs))
    starts = start_obs if start_obs.ndim == 3 else jnp.broadcast_to(
        start_obs, (rewards.shape[0], *start_obs.shape))

    def one(s, r, z):
        return _search_one(networks, params, s, backward_next, r, z, discount, config, values)

    return jax.vmap(one)(starts, rewards, z0)


def check_prompts(name: str, networks: FBNetworks, start_obs, next_obs, rewards, z0) -> None:
    """Refuses, with the shapes it expected, prompts that do not fit the model: rewards (P, n) on
    next_obs (n, obs_dim), z0 (P, z_dim), start_obs (m, obs_dim) or (P, m, obs_dim)."""
    obs_dim, z_dim = networks.obs_dim, networks.config.z_dim
    shapes = (f"got start_obs {jnp.shape(start_obs)}, next_obs {jnp.shape(next_obs)}, rewards "
              f"{jnp.shape(rewards)}, z0 {jnp.shape(z0)}")
    if jnp.ndim(rewards) != 2 or jnp.ndim(z0) != 2:
        raise ValueError(f"{name}: expected rewards (P, n) and z0 (P, {z_dim}), one row per prompt "
                         f"(a single prompt is rewards[None], z0[None]); {shapes}")
    prompts, n = jnp.shape(rewards)
    if jnp.shape(next_obs) != (n, obs_dim):
        raise ValueError(f"{name}: expected next_obs ({n}, {obs_dim}): one row per reward, "
                         f"observations of the model's width {obs_dim}; {shapes}")
    if jnp.shape(z0) != (prompts, z_dim):
        raise ValueError(f"{name}: expected z0 ({prompts}, {z_dim}); {shapes}")
    if jnp.ndim(start_obs) not in (2, 3) or jnp.shape(start_obs)[-1] != obs_dim or (
            jnp.ndim(start_obs) == 3 and jnp.shape(start_obs)[0] != prompts):
        raise ValueError(f"{name}: expected start_obs (m, {obs_dim}) or ({prompts}, m, "
                         f"{obs_dim}); {shapes}")


def zol_search(networks: FBNetworks, params: Params, start_obs, next_obs, rewards, z0,
               discount: float, config: ZOLConfig = ZOLConfig()):
    """ZOL latent search for P prompts: rewards (P, n) on next_obs (n, obs_dim), z0 (P, d) (e.g.
    reward_inference's z_r), start_obs (m, obs_dim) shared or (P, m, obs_dim) per prompt (see
    `start_sets`). Returns (z (P, d), `SearchInfo`): the objective at the chosen z and at z0, the
    trace, cos(z, z0), and at_z0 / at_z: the objective's parts and the ratio's diagnostics there."""
    check_prompts("zol_search", networks, start_obs, next_obs, rewards, z0)
    return _search(networks, params, start_obs, next_obs, rewards, z0, discount, config,
                   numeric(config))


def zol_grid(networks: FBNetworks, params: Params, start_obs, next_obs, rewards, z0,
             discount: float, configs: list[ZOLConfig]):
    """`zol_search` for G configs at once (z (G, P, d), info leaves with a leading G axis). The
    configs may differ only in NUMERIC fields; the others fix the program's shape."""
    if not configs:
        raise ValueError("zol_grid: no configs")
    for field in dataclasses.fields(ZOLConfig):
        if field.name not in NUMERIC:
            seen = {getattr(c, field.name) for c in configs}
            if len(seen) > 1:
                raise ValueError(f"zol_grid: configs differ in {field.name} ({sorted(seen)}); "
                                 f"one program can vary only {NUMERIC}")
    check_prompts("zol_grid", networks, start_obs, next_obs, rewards, z0)
    values = jax.tree.map(lambda *v: jnp.stack(v), *[numeric(c) for c in configs])
    return _grid(networks, params, start_obs, next_obs, rewards, z0, discount, configs[0], values)


@functools.partial(jax.jit, static_argnames=("networks", "discount", "config"), inline=True)
def _grid(networks, params, start_obs, next_obs, rewards, z0, discount, config, values):
    return jax.vmap(lambda v: _search(networks, params, start_obs, next_obs, rewards, z0,
                                      discount, config, v))(values)


def ratio_weighted_regression(networks: FBNetworks, params: Params, start_obs, next_obs,
                              rewards, z0, discount: float, iterations: int = 10,
                              transform: str = "linear", beta: float = 1.0,
                              clip: float | None = 20.0):
    """Fixed-point iteration z <- proj(mean_i w_z(s'_i) r_i B(s'_i)) for P prompts; rewards (P, n),
    z0 (P, d). Returns (z (P, d), the per-iteration change ||z_t+1 - z_t|| (P, iterations))."""
    return _regression(networks, params, start_obs, next_obs, rewards, z0, discount, iterations,
                       transform, beta, clip)


@functools.partial(jax.jit, static_argnames=("networks", "discount", "iterations", "transform",
                                             "beta", "clip"), inline=True)
def _regression(networks, params, start_obs, next_obs, rewards, z0, discount, iterations,
                transform, beta, clip):
    backward_next = jax.lax.stop_gradient(networks.backward(params.backward, next_obs))

    def one(r, z0):
        def step(z, _):
            w_mean = start_state_mean(networks, params, start_obs, z)
            w = positive_ratio(linear_ratio(w_mean, backward_next, discount), transform, beta,
                               clip)
            new = project_z((w * r) @ backward_next / r.shape[-1])
            return new, jnp.linalg.norm(new - z)

        return jax.lax.scan(step, z0, None, length=iterations)

    return jax.vmap(one)(rewards, z0)
