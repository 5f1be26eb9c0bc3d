"""Import an HDF5 replay buffer (no simulator state needed) as an fbjax dataset.

  python -m fbjax.data.hdf5 SRC.hdf5 DEST [--observations observations --actions actions ...]

Two layouts are read (needs h5py: pip install -c constraints.txt -e ".[hdf5]"):

* flat, as D4RL writes it: datasets `observations` (N, d), `actions` (N, a), `terminals` (N,),
  and optionally `next_observations` (N, d) and `timeouts` (N,). Without `next_observations`,
  s' is the next row's s, and rows whose s' is not in the file (a terminal or timeout row, the
  last row) are dropped and counted;
* episodes, as Minari writes it: one group per episode (`episode_0`, ...) with `observations`
  (T+1, d), `actions` (T, a), `terminations` (T,) and `truncations` (T,).

Episode starts are the first row of each episode (flat: inferred as in
`fbjax.data.arrays.episode_starts`). DEST is written whole or not at all (DEST.partial, renamed
at the end) as a dataset with `"env": null`: train FB on it with `load_transitions` and
`fbjax.train.train_run`, and give rewards as functions of observations (docs/own_data.md).
"""

import argparse
import dataclasses
import os
import shutil
import sys

import numpy as np

from fbjax.data.arrays import from_arrays, save_transitions
from fbjax.data.store import DatasetError
from fbjax.types import Transition

SOURCE = "hdf5"


@dataclasses.dataclass(frozen=True)
class FlatKeys:
    """The flat layout's dataset names (each defaults to its field's name)."""

    observations: str = "observations"
    actions: str = "actions"
    terminals: str = "terminals"
    next_observations: str = "next_observations"
    timeouts: str = "timeouts"


FLAT_KEYS = {f.name: f.default for f in dataclasses.fields(FlatKeys)}


@dataclasses.dataclass(frozen=True)
class Hdf5Summary:
    """What an HDF5 file gave: its layout ("flat" or "episodes"), the rows kept, the rows dropped
    for want of their s' (flat, without next_observations); after an import, also the episodes
    and where the dataset was written."""

    layout: str
    rows: int
    dropped_rows: int
    episodes: int | None = None
    dest: str | None = None


def _h5py():
    try:
        import h5py
    except ImportError as e:
        raise ImportError("reading HDF5 needs h5py: pip install -c constraints.txt -e "
                          "\".[hdf5]\"") from e
    return h5py


def _read(group, key: str, path: str, required: bool = True):
    if key not in group:
        if not required:
            return None
        raise DatasetError(f"{path}: no dataset {group.name.rstrip('/')}/{key} (the file holds "
                           f"{sorted(group.keys())}); name the right key with the importer's "
                           "options")
    value = group[key]
    if not hasattr(value, "shape"):
        raise DatasetError(f"{path}: {value.name} is a group, not an array (dict observations "
                           "are not supported: flatten them into one array first)")
    return np.asarray(value)


def _flat(f, path: str, keys: FlatKeys) -> tuple[Transition, int]:
    obs = _read(f, keys.observations, path)
    action = _read(f, keys.actions, path)
    terminal = _read(f, keys.terminals, path, required=False)
    timeout = _read(f, keys.timeouts, path, required=False)
    next_obs = _read(f, keys.next_observations, path, required=False)
    terminal = np.zeros(len(obs)) if terminal is None else terminal
    if next_obs is not None:
        return from_arrays(obs, action, next_obs, terminal=terminal, timeout=timeout), 0
    ends = (terminal != 0) | (np.zeros(len(obs), bool) if timeout is None else timeout != 0)
    ends[-1] = True
    keep = np.flatnonzero(~ends)  # rows whose s' is the next row's s
    start = ~np.isin(keep - 1, keep)  # the row before was an end (dropped): a new episode
    return from_arrays(obs[keep], action[keep], obs[keep + 1], start=start), int(ends.sum())


def _episodes(f, path: str) -> Transition:
    names = sorted((k for k in f if k.startswith("episode_")), key=lambda k: int(k[8:]))
    parts = []
    for name in names:
        episode = f[name]
        obs = _read(episode, "observations", path)
        action = _read(episode, "actions", path)
        steps = len(action)
        if len(obs) != steps + 1:
            raise DatasetError(f"{path}: {name} has {len(obs)} observations for {steps} actions; "
                               "expected one more observation than actions")
        terminal = _read(episode, "terminations", path, required=False)
        start = np.zeros(steps)
        start[0] = 1.0
        parts.append((obs[:-1], action, obs[1:],
                      np.zeros(steps) if terminal is None else terminal, start))
    if not parts:
        raise DatasetError(f"{path}: no episode_* groups")
    return from_arrays(*(np.concatenate([p[i] for p in parts]) for i in range(5)))


def read_hdf5(path: str, keys: dict[str, str] | None = None) -> tuple[Transition, Hdf5Summary]:
    """The transitions of an HDF5 file in either layout, and a summary (layout, rows, dropped).
    `keys` renames the flat layout's datasets (FLAT_KEYS gives the defaults)."""
    h5py = _h5py()
    unknown = sorted(set(keys or {}) - set(FLAT_KEYS))
    if unknown:
        raise ValueError(f"read_hdf5: unknown key(s) {unknown}; expected some of "
                         f"{sorted(FLAT_KEYS)}")
    keys = FlatKeys(**(keys or {}))
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise DatasetError(f"{path}: not a readable HDF5 file ({e})") from e
    with f:
        if any(k.startswith("episode_") for k in f):
            transitions, layout, dropped = _episodes(f, path), "episodes", 0
        else:
            (transitions, dropped), layout = _flat(f, path, keys), "flat"
    return transitions, Hdf5Summary(layout, len(transitions), dropped)


def import_hdf5(src: str, dest: str, keys: dict[str, str] | None = None) -> Hdf5Summary:
    """Writes DEST (an fbjax dataset without simulator state) from SRC; returns a summary."""
    if os.path.exists(dest):
        raise FileExistsError(f"{dest} exists; give another destination or delete it")
    transitions, summary = read_hdf5(src, keys)
    partial = dest + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        save_transitions(partial, transitions,
                         {"source": SOURCE, "path": os.path.abspath(src), "layout": summary.layout,
                          "rows": summary.rows, "dropped_rows": summary.dropped_rows})
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # nothing half-written stays behind
        raise
    os.replace(partial, dest)
    return dataclasses.replace(summary, dest=dest, episodes=int(transitions.start.sum()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", help="an HDF5 file (flat D4RL-style or Minari-style episodes)")
    parser.add_argument("dest", help="the fbjax dataset folder to write (must not exist)")
    for field, default in FLAT_KEYS.items():
        parser.add_argument(f"--{field}", default=default,
                            help=f"flat layout: the dataset holding {field}")
    args = parser.parse_args(argv)
    try:
        summary = import_hdf5(args.src, args.dest,
                              {field: getattr(args, field) for field in FLAT_KEYS})
    except (DatasetError, FileExistsError, ImportError) as e:
        print(f"hdf5 import failed: {e}", file=sys.stderr)
        return 1
    dropped = (f"; {summary.dropped_rows} rows without their s' in the file dropped"
               if summary.dropped_rows else "")
    print(f"imported {summary.rows:,} transitions ({summary.episodes} episodes, "
          f"{summary.layout} layout) into {summary.dest}{dropped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
