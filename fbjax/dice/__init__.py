"""Baseline: a DualDICE-style ratio estimator trained per policy."""

from fbjax.dice.dualdice import DualDICE, DualDICEConfig, DualDICEState

__all__ = ["DualDICE", "DualDICEConfig", "DualDICEState"]
