"""The sweep's grammar: `FIELD=V1,V2,...` specs, their combinations, and a config dict with one
combination's values in place (experiments/sweep.py runs them)."""

import ast
import copy
import itertools


def parse(specs: list[str]) -> list[tuple[str, list]]:
    """['eval.zol.lr=1e-4,3e-4'] -> [('eval.zol.lr', [1e-4, 3e-4])], values as Python literals."""
    fields = []
    for spec in specs:
        if "=" not in spec:
            raise ValueError(f"--sweep {spec!r}: expected FIELD=V1,V2,...")
        name, values = spec.split("=", 1)
        parsed = []
        for v in values.split(","):
            try:
                parsed.append(ast.literal_eval(v.strip()))
            except (ValueError, SyntaxError):
                parsed.append(v.strip())  # a string setting, e.g. a transform name
        fields.append((name.strip(), parsed))
    if not fields:
        raise ValueError("give at least one --sweep=FIELD=V1,V2,...")
    return fields


def combinations(fields: list[tuple[str, list]]) -> list[dict]:
    names = [n for n, _ in fields]
    return [dict(zip(names, values, strict=True))
            for values in itertools.product(*(v for _, v in fields))]


def with_values(base: dict, combo: dict) -> dict:
    out = copy.deepcopy(base)
    for path, value in combo.items():
        node, keys = out, path.split(".")
        for k in keys[:-1]:
            if k not in node or not isinstance(node[k], dict):
                raise ValueError(f"--sweep {path}: the config has no section {k!r}")
            node = node[k]
        if keys[-1] not in node:
            raise ValueError(f"--sweep {path}: the config has no field {keys[-1]!r} "
                             f"(fields there: {sorted(node)})")
        node[keys[-1]] = value
    return out
