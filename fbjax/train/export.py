"""Inference checkpoints: a trained FB run's networks alone, small enough to keep and to commit.

    FOLDER/params.msgpack   F, B and the actor as trained, one array per parameter keyed by
                            its path in FBParams (flax.serialization's msgpack; float32). No
                            target networks and no optimiser state: it prompts and evaluates,
                            it does not resume training.
    FOLDER/inference.json   what it is: the run (FB config, observation and action sizes,
                            domain, tasks, the dataset's path as the run recorded it), the
                            update it was taken at, the digest of its values, where it was
                            exported from and the provenance of the export (commit, device,
                            versions)

A walker- or maze-size model at the default widths is about 2.5 MB. `load_export` rebuilds the
agent from inference.json, refuses a file whose values do not match the recorded digest, and
returns the parameters bit for bit as the run held them, so evaluating an export gives the rows
that evaluating its run gives.
"""

import json
import os
import shutil
from typing import Any

import jax
import numpy as np
from flax import serialization

from fbjax.fb.learner import FBAgent
from fbjax.fb.networks import FBParams
from fbjax.provenance import provenance
from fbjax.train.checkpoint import state_digest
from fbjax.train.run import FBRun, load_fb
from fbjax.train.sharding import to_host

PARAMS, META = "params.msgpack", "inference.json"


def is_export(folder: str) -> bool:
    return os.path.exists(os.path.join(folder, META))


def export_fb(run_dir: str, out_dir: str, step: int | None = None,
              command: str = "fbjax.train.export.export_fb") -> dict[str, Any]:
    """Writes RUN_DIR's networks (latest checkpoint unless `step`) to OUT_DIR; returns the
    inference.json written. OUT_DIR is written whole or not at all (a temporary folder renamed
    into place); an existing export there is replaced."""
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and not is_export(out_dir):
        raise FileExistsError(f"export_fb: {out_dir} exists and is not an inference checkpoint; "
                              "not replacing it")
    agent, state, run = load_fb(run_dir, step)
    params = jax.tree.map(np.asarray, to_host(state.params))
    meta = {"run": run.to_json(), "step": int(to_host(state.step)),
            "digest": state_digest(params), "source": os.path.abspath(run_dir),
            "provenance": provenance(command)}
    tmp = f"{out_dir}.tmp{os.getpid()}"
    os.makedirs(tmp)
    with open(os.path.join(tmp, PARAMS), "wb") as f:
        f.write(serialization.msgpack_serialize(_by_path(params)))
    with open(os.path.join(tmp, META), "w") as f:
        json.dump(meta, f, indent=1)
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.rename(tmp, out_dir)
    return meta


def load_export(folder: str) -> tuple[FBAgent, FBParams, FBRun, dict[str, Any]]:
    """(agent, params, run, inference.json) of an inference checkpoint; a ValueError naming the
    file when it is incomplete, describes another network or does not match its digest."""
    meta_path, params_path = os.path.join(folder, META), os.path.join(folder, PARAMS)
    for path in (meta_path, params_path):
        if not os.path.exists(path):
            raise FileNotFoundError(f"load_export: no {path}; an inference checkpoint holds "
                                    f"{META} and {PARAMS} (fbjax.train.export.export_fb)")
    with open(meta_path) as f:
        meta = json.load(f)
    missing = [k for k in ("run", "step", "digest") if k not in meta]
    if missing:
        raise ValueError(f"{meta_path}: no {missing}; is it written by export_fb?")
    run = FBRun.from_json(meta["run"], f"{meta_path}: run")
    agent = FBAgent(run.fb, run.obs_dim, run.action_dim)
    like = jax.eval_shape(agent.init, jax.random.PRNGKey(0)).params  # shapes, no values
    with open(params_path, "rb") as f:
        try:
            stored = serialization.msgpack_restore(f.read())
        except Exception as e:  # msgpack's own errors: a truncated or foreign file
            raise ValueError(f"{params_path}: not a readable params file ({e})") from None
    params = _from_paths(like, stored, params_path, meta_path)
    if state_digest(params) != meta["digest"]:
        raise ValueError(f"{params_path}: its values do not match the digest in {meta_path}; "
                         "the file is damaged or was replaced")
    return agent, params, run, meta


def _by_path(params) -> dict[str, np.ndarray]:
    return {jax.tree_util.keystr(path): np.asarray(leaf)
            for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]}


def _from_paths(like, stored: dict, params_path: str, meta_path: str):
    """`like`'s tree with every leaf read from `stored` by its path, each checked for shape and
    dtype against what inference.json describes."""
    paths, treedef = jax.tree_util.tree_flatten_with_path(like)
    wanted = {jax.tree_util.keystr(path): leaf for path, leaf in paths}
    missing, extra = sorted(set(wanted) - set(stored)), sorted(set(stored) - set(wanted))
    if missing or extra:
        raise ValueError(f"{params_path} does not hold the networks {meta_path} describes: "
                         f"missing {missing[:3]}{'...' if len(missing) > 3 else ''}, "
                         f"unexpected {extra[:3]}{'...' if len(extra) > 3 else ''}")
    for name, want in wanted.items():
        got = stored[name]
        if np.shape(got) != tuple(want.shape) or np.asarray(got).dtype != want.dtype:
            raise ValueError(f"{params_path}: {name} is {np.asarray(got).dtype}"
                             f"{list(np.shape(got))} where {meta_path} describes "
                             f"{want.dtype}{list(want.shape)}")
    return jax.tree_util.tree_unflatten(treedef, [np.asarray(stored[name]) for name in wanted])
