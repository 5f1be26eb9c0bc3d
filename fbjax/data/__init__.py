"""Datasets of transitions: the on-disk format, reward-free collection and relabelling, and data
from outside fbjax's simulators (arrays, HDF5 in `fbjax.data.hdf5`) with rewards of observations."""

from fbjax.data.arrays import (
    episode_starts,
    from_arrays,
    load_transitions,
    observation_rewards,
    save_transitions,
)
from fbjax.data.store import (
    Dataset,
    DatasetError,
    FieldSpec,
    Manifest,
    Shard,
    append_dataset,
    check_domain,
    load_dataset,
    read_dataset,
    read_manifest,
    save_dataset,
)

__all__ = [
    "Dataset",
    "DatasetError",
    "FieldSpec",
    "Manifest",
    "Shard",
    "append_dataset",
    "check_domain",
    "episode_starts",
    "from_arrays",
    "load_transitions",
    "observation_rewards",
    "save_transitions",
    "load_dataset",
    "read_dataset",
    "read_manifest",
    "save_dataset",
]
