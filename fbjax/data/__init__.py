"""Datasets of transitions: sampling (more to come: format, collection, relabelling, sharding)."""

from fbjax.data.sampling import sample_batch

__all__ = ["sample_batch"]
