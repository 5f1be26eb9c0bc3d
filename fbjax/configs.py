"""Typed settings from plain dicts, once, at the edge; and the differences between two of them.

Library configs are frozen dataclasses of JSON-able values. `from_dict(cls, values)` builds one
(nested dataclasses included) from a nested dict, e.g. an ml_collections config's `to_dict()`,
strictly: an unknown field is an error naming its path; a missing one takes the default, and a
nested section given in part is completed from that field's default instance (so a partial
`rnd.td3` keeps RNDConfig's own TD3 defaults, not TD3Config's).
"""

import dataclasses
import types
import typing
from typing import Any, TypeVar

T = TypeVar("T")


def from_dict(cls: type[T], values: dict[str, Any] | T, where: str = "config",
              strict: bool = True) -> T:
    """`cls(**values)` with nested dataclass fields built from their dicts (also as the items of
    tuple, list and dict fields); lists become tuples where the field is a tuple. Raises
    ValueError naming `where.field` for unknown fields, or, with strict=False (a record read from
    a file that holds more than the reader needs), leaves them out."""
    if isinstance(values, cls):
        return values
    if not isinstance(values, dict):
        raise ValueError(f"{where}: expected a mapping of {cls.__name__} fields, "
                         f"got {type(values).__name__} {values!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(values) - set(fields))
    if unknown and not strict:
        values, unknown = {k: v for k, v in values.items() if k in fields}, []
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}; {cls.__name__} has "
                         f"{sorted(fields)}")
    kwargs = {}
    for name, value in values.items():
        default = fields[name].default
        if dataclasses.is_dataclass(default) and isinstance(value, dict):
            value = _deep_merge(dataclasses.asdict(default), value)
        kwargs[name] = _convert(hints[name], value, f"{where}.{name}", strict)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: {e}") from e


def _deep_merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            value = _deep_merge(base[key], value)
        merged[key] = value
    return merged


def _convert(hint, value, where: str, strict: bool = True):
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_dict(hint, value, where, strict)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        given = [a for a in options if a is not type(None)]
        if len(given) == 1:  # X | None with a value: an X
            return _convert(given[0], value, where, strict)
        nested = [a for a in options if dataclasses.is_dataclass(a)]
        if nested and isinstance(value, dict):
            return from_dict(nested[0], value, where, strict)
        scalars = [a for a in options if a in _SCALARS]
        if scalars and not any(_fits(a, value) for a in scalars):
            raise ValueError(f"{where}: expected {' or '.join(a.__name__ for a in options)}, "
                             f"got {type(value).__name__} {value!r}")
        if float in scalars and int not in scalars:
            return float(value)
        return value
    if origin is tuple or hint is tuple:
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where}: expected a list, got {type(value).__name__} {value!r}")
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{where}[{i}]", strict)
                         for i, v in enumerate(value))
        return tuple(value)
    if origin is list and typing.get_args(hint):
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where}: expected a list, got {type(value).__name__} {value!r}")
        item = typing.get_args(hint)[0]
        return [_convert(item, v, f"{where}[{i}]", strict) for i, v in enumerate(value)]
    if origin is dict and len(typing.get_args(hint)) == 2:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected a mapping, got {type(value).__name__} "
                             f"{value!r}")
        item = typing.get_args(hint)[1]
        return {k: _convert(item, v, f"{where}.{k}", strict) for k, v in value.items()}
    if hint in _SCALARS:
        if not _fits(hint, value):
            raise ValueError(f"{where}: expected {hint.__name__}, got {type(value).__name__} "
                             f"{value!r}")
        return float(value) if hint is float else value
    return value


_SCALARS = (bool, int, float, str)


def _fits(kind, value) -> bool:
    """Whether a JSON/command-line value is a valid `kind` (an int is a valid float; a bool is
    not a number)."""
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


def to_dict(config) -> dict[str, Any]:
    """The JSON-able dict of a config dataclass (tuples as lists, as JSON stores them)."""
    return _jsonable(dataclasses.asdict(config))


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def differences(saved: Any, current: Any, prefix: str = "") -> list[str]:
    """Every leaf where two JSON-able trees differ, as 'path: saved -> current'."""
    if isinstance(saved, dict) and isinstance(current, dict):
        out = []
        for key in sorted(set(saved) | set(current), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in saved:
                out.append(f"{path}: (absent) -> {current[key]!r}")
            elif key not in current:
                out.append(f"{path}: {saved[key]!r} -> (absent)")
            else:
                out += differences(saved[key], current[key], path)
        return out
    saved, current = _jsonable(saved), _jsonable(current)
    return [] if saved == current else [f"{prefix or '(root)'}: {saved!r} -> {current!r}"]
