"""The FB agent's settings: one frozen dataclass of JSON-able values (SPEC sections 2-3)."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class FBConfig:
    """Defaults are the DMC-like ones of SPEC section 3."""

    z_dim: int = 50
    backward_hidden: int = 256
    backward_layers: int = 2
    forward_hidden: int = 1024
    forward_layers: int = 1
    actor_hidden: int = 1024
    actor_layers: int = 1
    ensemble_size: int = 2
    discount: float = 0.98
    tau: float = 0.01
    lr_forward: float = 1e-4
    lr_backward: float = 1e-4
    lr_actor: float = 1e-4
    batch_size: int = 1024
    goal_ratio: float = 0.5
    ortho_coef: float = 1.0
    forward_pessimism: float = 0.0  # lambda_F on the target's member disagreement
    actor_pessimism: float = 0.5  # lambda_pi; 0.5 with K = 2 is min(Q1, Q2)
    actor_noise: float = 0.2
    noise_clip: float = 0.3
    # The networks' matmuls: "float32" (the reference) or "bfloat16" (float32 parameters,
    # optimiser state, LayerNorm, losses and the M = F B^T matrix; see docs/tour.md before using
    # it).
    compute_dtype: str = "float32"
    # B's goal space: the observation coordinates B sees, e.g. (0, 1) for the maze's (x, y)
    # position; () means the whole observation. B, goal latents in training, goal prompts,
    # reward inference and the free ratio all read B through this projection, so w_z(s') is then
    # a density ratio over the goal space: d^{pi_z}(g(s')) / rho(g(s')), both measures pushed
    # forward through g (see `FBNetworks.goal`).
    goal_indices: tuple[int, ...] = ()

    def __post_init__(self):
        # JSON and command lines give lists; a frozen dataclass must hash its fields.
        object.__setattr__(self, "goal_indices", tuple(int(i) for i in self.goal_indices))
        checks = {
            "z_dim": self.z_dim >= 1,
            "backward_layers": self.backward_layers >= 1,
            "forward_layers": self.forward_layers >= 0,
            "actor_layers": self.actor_layers >= 0,
            "ensemble_size": self.ensemble_size >= 1,
            "discount": 0.0 <= self.discount < 1.0,
            "tau": 0.0 < self.tau <= 1.0,
            "batch_size": self.batch_size >= 2,
            "goal_ratio": 0.0 <= self.goal_ratio <= 1.0,
            "lr_forward": self.lr_forward > 0,
            "lr_backward": self.lr_backward > 0,
            "lr_actor": self.lr_actor > 0,
            "compute_dtype": self.compute_dtype in ("float32", "bfloat16"),
            "goal_indices": (all(i >= 0 for i in self.goal_indices)
                             and len(set(self.goal_indices)) == len(self.goal_indices)),
        }
        for name in ("backward_hidden", "forward_hidden", "actor_hidden"):
            value = getattr(self, name)
            checks[name] = value >= 2 and value % 2 == 0
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise ValueError(
                f"FBConfig: invalid {values} (need z_dim>=1, backward_layers>=1, "
                "even hidden sizes >=2, ensemble_size>=1, 0<=discount<1, 0<tau<=1, "
                "batch_size>=2, 0<=goal_ratio<=1, learning rates > 0, compute_dtype float32 or "
                "bfloat16, goal_indices distinct non-negative observation indices)"
            )
