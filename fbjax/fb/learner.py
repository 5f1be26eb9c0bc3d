"""The FB learner: one pure `update(state, batch, key)` and a `lax.scan` of it (SPEC section 3).

Three modes, chosen when the agent is built:
* continuous control: targets use a' ~ pi(s', z) and an actor step follows the FB step;
* discrete control (`num_actions` set): F outputs |A| x d, targets use the greedy action of the
  target F; no actor;
* policy evaluation (`target_policy` set): a fixed policy replaces pi_z in the targets and there is
  no actor step. For discrete actions `target_policy(next_obs) -> (N, |A|)` probabilities (the
  target is their exact expectation); for continuous ones `target_policy(next_obs, key) -> (N, A)`.
"""

from collections.abc import Callable

import chex
import flax.struct
import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from fbjax.fb.config import FBConfig
from fbjax.fb.losses import (
    actor_loss,
    fb_measure_loss,
    orthonormality_loss,
    pessimistic_mean,
    sample_z,
    sample_z_and_noise,
)
from fbjax.fb.networks import FBNetworks, FBParams
from fbjax.types import Metrics, Params, PRNGKey, Transition


@flax.struct.dataclass
class FBState:
    params: FBParams  # of Params
    target_params: FBParams  # of Params; no actor
    # Of optax.OptState over each network's parameters flattened into one vector (`flat_step`);
    # no actor where none is trained.
    opt_state: FBParams
    step: jax.Array


class FBAgent:
    """Static parts of one FB agent: networks, optimisers, mode. All state lives in `FBState`.
    Follows `fbjax.agent.Agent`; data parallelism is the training loop's business (the update is
    written for one global batch and jit partitions it)."""

    def __init__(
        self,
        config: FBConfig,
        obs_dim: int,
        action_dim: int = 0,
        *,
        num_actions: int | None = None,
        target_policy: Callable | None = None,
    ):
        if num_actions is None and action_dim < 1:
            raise ValueError(
                f"FBAgent: continuous actions need action_dim >= 1 (got {action_dim}); "
                "pass num_actions for discrete actions"
            )
        if num_actions is not None and num_actions < 2:
            raise ValueError(f"FBAgent: num_actions must be >= 2 (got {num_actions})")
        self.config = config
        self.networks = FBNetworks(config, obs_dim, action_dim, num_actions)
        self.target_policy = target_policy
        self.batch_size = config.batch_size
        # Adam as optax's scale_by_adam over each network's flattened parameters, and its
        # learning rate applied per array (`flat_step`).
        self.optimizers = FBParams(
            forward=optax.scale_by_adam(), backward=optax.scale_by_adam(),
            actor=optax.scale_by_adam() if self.has_actor_step else None)
        self.learning_rates = FBParams(forward=config.lr_forward, backward=config.lr_backward,
                                       actor=config.lr_actor if self.has_actor_step else None)

    @property
    def discrete(self) -> bool:
        return self.networks.discrete

    @property
    def has_actor_step(self) -> bool:
        return not self.discrete and self.target_policy is None

    def init(self, key: PRNGKey) -> FBState:
        params = self.networks.init(key)
        # jnp.copy: target buffers must not alias the online ones (donation would fail).
        target = FBParams(forward=jax.tree.map(jnp.copy, params.forward),
                          backward=jax.tree.map(jnp.copy, params.backward))
        opts = self.optimizers
        opt_state = FBParams(forward=opts.forward.init(ravel_pytree(params.forward)[0]),
                             backward=opts.backward.init(ravel_pytree(params.backward)[0]),
                             actor=None if opts.actor is None else
                             opts.actor.init(ravel_pytree(params.actor)[0]))
        return FBState(params, target, opt_state, jnp.zeros((), jnp.int32))

    def older_checkpoint_layout(self, state: FBState):
        """Checkpoints written before the optimiser state was one vector per network (up to fbjax
        commit 4e30a2c) hold `optax.adam`'s state per parameter array: a state of that layout
        shaped like `state` (a concrete state, e.g. `init`'s: the older moments are made from its
        parameters, on their devices), and the conversion of one read in it to this layout (the
        same moments, flattened as `flat_step` flattens the gradient). For
        `Checkpointer.restore(upgrade=...)`."""
        def per_array(opt, params):
            return None if opt is None else optax.adam(1.0).init(params)

        def flat(opt):
            return None if opt is None else opt[0]._replace(
                mu=ravel_pytree(opt[0].mu)[0], nu=ravel_pytree(opt[0].nu)[0])

        names = ("forward", "backward", "actor")
        older = state.replace(opt_state=FBParams(**{
            name: per_array(getattr(state.opt_state, name), getattr(state.params, name))
            for name in names}))
        return older, lambda read: read.replace(opt_state=FBParams(**{
            name: flat(getattr(read.opt_state, name)) for name in names}))

    # ----- forward map evaluated at given actions -----

    def forward_at(self, forward_params: Params, obs, action, z) -> jax.Array:
        """(K, N, d): F at given actions (int indices when discrete, vectors when continuous)."""
        if not self.discrete:
            return self.networks.forward(forward_params, obs, action, z)
        f = self.networks.forward(forward_params, obs, None, z)  # (K, N, A, d)
        return jnp.take_along_axis(f, action[None, :, None, None], axis=2)[:, :, 0]

    def target_successor(self, params, target_params, next_obs, z, key=None, *,
                         noise=None) -> jax.Array:
        """T[i, j] = pessimistic_k F_bar_k(s'_i, a'_i, z_i) . B_bar(s'_j) with a' from pi_z (a
        sample, or the greedy action of F_bar for discrete actions) or from the fixed target
        policy; for discrete policies the expectation over a' is exact. Shape (N, N).
        pi_z's sample takes its standard-normal `noise` (N, A) where given, else draws it from
        `key`."""
        c, nets = self.config, self.networks
        if self.discrete:
            f_all = nets.forward(target_params.forward, next_obs, None, z)  # (K, N, A, d)
            if self.target_policy is not None:
                probs = self.target_policy(next_obs)
            else:
                q = pessimistic_mean(jnp.einsum("knad,nd->kna", f_all, z), c.actor_pessimism)
                probs = jax.nn.one_hot(jnp.argmax(q, axis=-1), nets.num_actions)
            target_f = jnp.einsum("knad,na->knd", f_all, probs)
        else:
            if self.target_policy is not None:
                next_action = self.target_policy(next_obs, key)
            else:
                next_action = nets.sample_action(params.actor, next_obs, z, key, noise=noise)
            target_f = nets.forward(target_params.forward, next_obs, next_action, z)
        target_b = nets.backward(target_params.backward, next_obs)
        successor = jnp.einsum("knd,md->knm", target_f, target_b)
        return jax.lax.stop_gradient(pessimistic_mean(successor, c.forward_pessimism))

    # ----- losses -----

    def fb_loss(self, fb_params: FBParams, batch: Transition, z, target):
        """Total FB + orthonormality loss for the forward and backward params (actor None);
        `target` is the (N, N) matrix of `target_successor`."""
        c, nets = self.config, self.networks
        b_next = nets.backward(fb_params.backward, batch.next_obs)
        f = self.forward_at(fb_params.forward, batch.obs, batch.action, z)
        m = jnp.einsum("knd,md->knm", f, b_next)
        discount = c.discount * (1.0 - batch.terminal)
        fb, parts = fb_measure_loss(m, target, discount)
        ortho, ortho_parts = orthonormality_loss(b_next)
        metrics = {
            "fb_loss": fb,
            "ortho_loss": ortho,
            "q_mean": jnp.einsum("knd,nd->kn", f, z).mean(),
            "b_norm": jnp.linalg.norm(b_next, axis=-1).mean(),
            "f_norm": jnp.linalg.norm(f, axis=-1).mean(),
            **parts,
            **ortho_parts,
        }
        return fb + c.ortho_coef * ortho, metrics

    def actor_loss(self, actor_params, forward_params, obs, z, key=None, *, noise=None):
        action = self.networks.sample_action(actor_params, obs, z, key, noise=noise)
        f = self.networks.forward(jax.lax.stop_gradient(forward_params), obs, action, z)
        q = jnp.einsum("knd,nd->kn", f, z)
        loss = actor_loss(q, self.config.actor_pessimism)
        return loss, {"actor_loss": loss, "actor_q": q.mean()}

    # ----- the update -----

    @staticmethod
    def flat_step(optimizer, learning_rate, grads, params, opt_state):
        """One Adam step of a network whose optimiser state is over its parameters flattened
        into one vector: (new params, new optimiser state, the gradient's norm).

        Adam's moments and direction are then a few kernels over one vector instead of a few per
        parameter array (what `optax.flatten` does; here the flat gradient also gives the norm).
        The learning rate scales each array's slice of the direction as it is added, as
        `optax.adam`'s last step would on that array: every element sees the same operations in
        the same order as `optax.adam` per array. The results may still differ from it in the
        last bit, because XLA contracts a * b + c into one fused multiply-add (one rounding
        instead of two) where it fuses loops, and the flat vector's loops fuse differently from
        per-array ones (`optax.adam` alone, eager against jitted, differs the same way).
        Scaling the flat direction instead would let XLA fold the product into each array's
        addition, and its cost analysis then counts the whole vector as read once per array."""
        flat_grads, unravel = ravel_pytree(grads)
        direction, opt_state = optimizer.update(flat_grads, opt_state)
        updates = jax.tree.map(lambda d: -learning_rate * d, unravel(direction))
        return (optax.apply_updates(params, updates), opt_state,
                jnp.sqrt(jnp.sum(flat_grads * flat_grads)))

    def update(self, state: FBState, batch: Transition, key: PRNGKey) -> tuple[FBState, Metrics]:
        chex.assert_shape([batch.obs, batch.next_obs], (None, self.networks.obs_dim))
        chex.assert_equal_shape_prefix(jax.tree.leaves(batch), 1)
        params, opt_state, c = state.params, state.opt_state, self.config
        b_next = self.networks.backward(params.backward, batch.next_obs)
        if self.has_actor_step:  # the latents' and both action noises' Gaussians in one draw
            a = self.networks.action_dim
            z, noise = sample_z_and_noise(key, b_next, c.z_dim, c.goal_ratio, 2 * a)
            next_noise, actor_noise = noise[:, :a], noise[:, a:]
            target = self.target_successor(params, state.target_params, batch.next_obs, z,
                                           noise=next_noise)
        else:
            z_key, noise_key = jax.random.split(key)
            z = sample_z(z_key, b_next, c.z_dim, c.goal_ratio)
            target = self.target_successor(params, state.target_params, batch.next_obs, z,
                                           noise_key)

        fb_params = FBParams(forward=params.forward, backward=params.backward)
        grads, metrics = jax.grad(self.fb_loss, has_aux=True)(fb_params, batch, z, target)
        opts, rates = self.optimizers, self.learning_rates
        forward, forward_opt, metrics["grad_norm_forward"] = self.flat_step(
            opts.forward, rates.forward, grads.forward, params.forward, opt_state.forward)
        backward, backward_opt, metrics["grad_norm_backward"] = self.flat_step(
            opts.backward, rates.backward, grads.backward, params.backward, opt_state.backward)
        params = params.replace(forward=forward, backward=backward)
        opt_state = opt_state.replace(forward=forward_opt, backward=backward_opt)

        if self.has_actor_step:
            actor_grads, actor_metrics = jax.grad(self.actor_loss, has_aux=True)(
                params.actor, params.forward, batch.obs, z, noise=actor_noise)
            actor, actor_opt, metrics["grad_norm_actor"] = self.flat_step(
                opts.actor, rates.actor, actor_grads, params.actor, opt_state.actor)
            params, opt_state = params.replace(actor=actor), opt_state.replace(actor=actor_opt)
            metrics.update(actor_metrics)

        target_params = FBParams(**{
            name: optax.incremental_update(getattr(params, name),
                                           getattr(state.target_params, name), c.tau)
            for name in ("forward", "backward")})
        new_state = FBState(params, target_params, opt_state, state.step + 1)
        return new_state, metrics
