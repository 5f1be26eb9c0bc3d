"""Datasets of transitions: sampling, the on-disk format, and sharding over devices."""

from fbjax.data.sampling import sample_batch, scan_updates
from fbjax.data.store import (
    DatasetError,
    append_dataset,
    import_exorl_episode,
    load_dataset,
    read_manifest,
    save_dataset,
)

__all__ = [
    "DatasetError",
    "append_dataset",
    "import_exorl_episode",
    "load_dataset",
    "read_manifest",
    "sample_batch",
    "scan_updates",
    "save_dataset",
]
