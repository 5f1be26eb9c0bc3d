"""Datasets of transitions: the on-disk format, reward-free collection and relabelling."""

from fbjax.data.store import (
    DatasetError,
    append_dataset,
    check_domain,
    import_exorl_episode,
    load_dataset,
    read_dataset,
    read_manifest,
    save_dataset,
)

__all__ = [
    "DatasetError",
    "append_dataset",
    "import_exorl_episode",
    "check_domain",
    "load_dataset",
    "read_dataset",
    "read_manifest",
    "save_dataset",
]
