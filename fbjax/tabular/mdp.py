"""Finite MDPs: a four-rooms gridworld and random MDPs, as explicit transition tensors."""

import dataclasses

import numpy as np

# Gridworld actions: (row, col) displacement.
GRID_MOVES = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]])
GRID_ACTION_NAMES = ("stay", "up", "down", "left", "right")


@dataclasses.dataclass(frozen=True, eq=False)
class FiniteMDP:
    """transitions[s, a, s'] = Pr(s' | s, a); initial[s] = rho0(s).
    `cells` holds the (row, col) of each state for gridworlds (None otherwise)."""

    name: str
    transitions: np.ndarray
    initial: np.ndarray
    cells: np.ndarray | None = None

    def __post_init__(self):
        p, rho0 = self.transitions, self.initial
        if p.ndim != 3 or p.shape[0] != p.shape[2]:
            raise ValueError(f"{self.name}: transitions must be (S, A, S), got {p.shape}")
        if not np.allclose(p.sum(-1), 1.0, atol=1e-9) or (p < 0).any():
            raise ValueError(f"{self.name}: transitions[s, a, :] must be distributions")
        if rho0.shape != (p.shape[0],) or not np.isclose(rho0.sum(), 1.0) or (rho0 < 0).any():
            raise ValueError(f"{self.name}: initial must be a distribution over {p.shape[0]} "
                             f"states, got shape {rho0.shape}")

    @property
    def num_states(self) -> int:
        return self.transitions.shape[0]

    @property
    def num_actions(self) -> int:
        return self.transitions.shape[1]

    def one_hot(self, states: np.ndarray) -> np.ndarray:
        return np.eye(self.num_states, dtype=np.float32)[states]


def four_rooms(size: int = 7, slip: float = 0.0) -> FiniteMDP:
    """A size x size room split in four by a wall row and a wall column through its middle, with
    one doorway in each of the four wall segments. Actions: stay, up, down, left, right; a move into
    a wall or the border stays put; with probability `slip` a uniformly random action is taken
    instead. rho0 is uniform over the free cells."""
    if size < 5 or size % 2 == 0:
        raise ValueError(f"four_rooms: size must be odd and >= 5, got {size}")
    if not 0.0 <= slip <= 1.0:
        raise ValueError(f"four_rooms: slip must be in [0, 1], got {slip}")
    mid, door = size // 2, size // 4
    free = np.ones((size, size), bool)
    free[mid, :] = False
    free[:, mid] = False
    for r, c in ((mid, door), (mid, size - 1 - door), (door, mid), (size - 1 - door, mid)):
        free[r, c] = True
    cells = np.argwhere(free)
    index = -np.ones((size, size), int)
    index[free] = np.arange(len(cells))

    n, n_actions = len(cells), len(GRID_MOVES)
    deterministic = np.zeros((n, n_actions, n))
    for s, cell in enumerate(cells):
        for a, move in enumerate(GRID_MOVES):
            r, c = cell + move
            inside = 0 <= r < size and 0 <= c < size and free[r, c]
            deterministic[s, a, index[r, c] if inside else s] = 1.0
    transitions = (1 - slip) * deterministic + slip * deterministic.mean(axis=1, keepdims=True)
    return FiniteMDP(f"four_rooms_{size}", transitions, np.full(n, 1.0 / n), cells)


def random_mdp(num_states: int, num_actions: int, seed: int = 0,
               branching: int | None = None) -> FiniteMDP:
    """Each (s, a) moves to `branching` random successors (all states if None) with Dirichlet(1)
    probabilities; rho0 is Dirichlet(1)."""
    rng = np.random.default_rng(seed)
    k = num_states if branching is None else branching
    if not 1 <= k <= num_states:
        raise ValueError(f"random_mdp: branching must be in [1, {num_states}], got {branching}")
    transitions = np.zeros((num_states, num_actions, num_states))
    for s in range(num_states):
        for a in range(num_actions):
            successors = rng.choice(num_states, size=k, replace=False)
            transitions[s, a, successors] = rng.dirichlet(np.ones(k))
    initial = rng.dirichlet(np.ones(num_states))
    return FiniteMDP(f"random_{num_states}x{num_actions}_seed{seed}", transitions, initial)
