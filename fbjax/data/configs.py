"""Nested dicts (e.g. from an ml_collections config) into the frozen collection configs."""

import dataclasses
from typing import Any

from fbjax.baselines.td3 import TD3Config
from fbjax.data.collect import CollectConfig
from fbjax.data.rnd import RNDConfig


def _build(cls, values: dict[str, Any], where: str, nested: dict[str, Any] | None = None):
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}; known: {sorted(known)}")
    values = dict(values)
    for name, build in (nested or {}).items():
        if name in values:
            values[name] = build(values[name])
    return cls(**values)


def td3_config(values: dict[str, Any], where: str = "td3") -> TD3Config:
    return _build(TD3Config, values, where)


def rnd_config(values: dict[str, Any], where: str = "collect.rnd") -> RNDConfig:
    if "td3" in values:
        values = {**values, "td3": {**dataclasses.asdict(RNDConfig().td3), **values["td3"]}}
    return _build(RNDConfig, values, where, {"td3": lambda v: td3_config(v, f"{where}.td3")})


def collect_config(values: dict[str, Any], where: str = "collect") -> CollectConfig:
    return _build(CollectConfig, values, where, {"rnd": lambda v: rnd_config(v, f"{where}.rnd")})
