"""Import an ExoRL dataset (a folder of episode `.npz` files) as an fbjax dataset of a domain.

  python -m fbjax.data.exorl SRC DEST --domain walker [--max_episodes 5000]

SRC is one ExoRL buffer folder (e.g. `exorl/datasets/walker/rnd/buffer`), each file one episode
with observation, action, physics, reward and discount of T+1 steps. Physics states must have the
domain's size (concat(qpos, qvel), as DM Control stores them) and actions the domain's. The
observations are recomputed from the stored physics with fbjax's own observation function, so
an FB model trained on the import sees what fbjax's environments show it; the largest difference
to ExoRL's stored observations is printed and kept in the manifest (a large one means the two
observation layouts differ). Rewards are not imported: every task's reward is relabelled from the
physics, as for collected data. DEST is written whole or not at all (DEST.partial, renamed at the
end); the MJX pipeline keeps an imported dataset in WORKDIR/dataset as it is.
"""

import argparse
import dataclasses
import glob
import os
import shutil
import sys
import zipfile

import jax
import jax.numpy as jnp
import numpy as np

import fbjax.envs as envs
from fbjax.data.store import DatasetError, append_dataset, save_dataset
from fbjax.envs.base import Domain, refresh_kinematics

SOURCE = "exorl"


@dataclasses.dataclass(frozen=True)
class Episode:
    """One ExoRL episode's transitions as fbjax stores them (T rows each)."""

    obs: np.ndarray
    action: np.ndarray
    next_obs: np.ndarray
    terminal: np.ndarray
    start: np.ndarray
    next_physics: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        """The fields by name, as `fbjax.data.save_dataset` takes them."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclasses.dataclass(frozen=True)
class _EpisodeFile:
    """The fields fbjax reads from an ExoRL episode `.npz` (T+1 entries each, action[0] being a
    placeholder)."""

    observation: np.ndarray
    action: np.ndarray
    physics: np.ndarray
    discount: np.ndarray


def import_exorl_episode(path: str) -> Episode:
    """Transitions of one ExoRL-format episode `.npz` (observation, action, physics, reward,
    discount; T+1 entries each, action[0] and reward[0] being placeholders)."""
    needed = [f.name for f in dataclasses.fields(_EpisodeFile)]
    try:
        with np.load(path) as npz:
            stored = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
        raise DatasetError(f"{path}: unreadable, truncated or corrupt ({e})") from e
    missing = [k for k in needed if k not in stored]
    if missing:
        raise DatasetError(f"{path}: missing field(s) {missing} of an ExoRL episode")
    episode = _EpisodeFile(**{k: stored[k] for k in needed})
    lengths = {k: len(getattr(episode, k)) for k in needed}
    if len(set(lengths.values())) != 1 or len(episode.observation) < 2:
        raise DatasetError(f"{path}: fields must share a length T+1 >= 2, got {lengths}")
    obs = episode.observation.astype(np.float32)
    steps = len(obs) - 1
    start = np.zeros(steps, np.float32)
    start[0] = 1.0
    return Episode(obs=obs[:-1], action=episode.action[1:].astype(np.float32), next_obs=obs[1:],
                   terminal=(episode.discount[1:] == 0).astype(np.float32).reshape(steps),
                   start=start, next_physics=episode.physics[1:].astype(np.float64))


@dataclasses.dataclass(frozen=True)
class ExorlSummary:
    """What an import wrote: episodes, transitions, the largest |ExoRL's observation - fbjax's|,
    and where."""

    episodes: int
    transitions: int
    max_observation_difference: float
    dest: str | None = None


def observations(domain: Domain):
    """jit-compiled physics (N, P) -> fbjax observations (N, obs_dim)."""
    zero = jnp.zeros(domain.action_dim)
    return jax.jit(jax.vmap(lambda p: domain.observe(domain.data_from_physics(p, zero))))


def import_exorl(src: str, dest: str, domain_name: str, max_episodes: int | None = None,
                 episodes_per_shard: int = 500, progress_fn=print) -> ExorlSummary:
    """Writes DEST from the episodes in SRC (sorted by name); returns what it wrote."""
    domain = envs.make(domain_name)
    if domain.refresh is not refresh_kinematics or domain.mj_model.na:
        raise DatasetError(
            f"{domain_name}: its observation reads contact or acceleration sensors or actuator "
            "activations, which a stored (qpos, qvel) does not determine, so observations "
            "cannot be recomputed from an ExoRL buffer; collect with fbjax instead")
    files = sorted(glob.glob(os.path.join(src, "*.npz")))[:max_episodes]
    if not files:
        raise DatasetError(f"{src}: no episode .npz files (expected an ExoRL buffer folder)")
    if os.path.exists(dest):
        raise FileExistsError(f"{dest} exists; give another destination or delete it")
    observe = observations(domain)
    partial = dest + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    collection = {"source": SOURCE, "path": os.path.abspath(src), "episodes": len(files),
                  "observations": "recomputed from physics"}
    try:
        summary = _write(files, partial, domain, observe, collection, episodes_per_shard,
                         progress_fn)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # nothing half-written stays behind
        raise
    os.replace(partial, dest)
    summary = dataclasses.replace(summary, dest=dest)
    with open(os.path.join(dest, "exorl_import.txt"), "w") as f:
        f.write(f"{dataclasses.asdict(summary)}\n")
    return summary


def _write(files, partial, domain, observe, collection, episodes_per_shard, progress_fn):
    worst, rows, block = 0.0, 0, []
    for i, path in enumerate(files):
        episode = import_exorl_episode(path)
        with np.load(path) as npz:
            physics = np.asarray(npz["physics"], np.float64)  # every state, s_0 included
        if physics.shape[1] != domain.physics_dim or episode.action.shape[1] != \
                domain.action_dim:
            raise DatasetError(
                f"{path}: physics of size {physics.shape[1]} and actions of size "
                f"{episode.action.shape[1]}, but domain {domain.name!r} has physics of size "
                f"{domain.physics_dim} (qpos + qvel) and {domain.action_dim} actions")
        obs = np.asarray(observe(jnp.asarray(physics, jnp.float32)))
        worst = max(worst, float(np.max(np.abs(obs[:-1] - episode.obs))))
        block.append(dataclasses.replace(episode, obs=obs[:-1], next_obs=obs[1:],
                                         next_physics=episode.next_physics.astype(np.float32)))
        if len(block) == episodes_per_shard or i == len(files) - 1:
            shard = {k: np.concatenate([getattr(b, k) for b in block])
                     for k in block[0].arrays()}
            if rows == 0:
                save_dataset(partial, shard, env=domain.name, tasks=list(domain.task_names),
                             collection=collection, seed=0)
            else:
                append_dataset(partial, shard)
            rows += sum(len(b.obs) for b in block)
            block = []
            if progress_fn is not None:
                progress_fn(f"exorl: {i + 1}/{len(files)} episodes, {rows:,} transitions; "
                            f"largest |stored - recomputed observation| so far {worst:.3g}")
    return ExorlSummary(episodes=len(files), transitions=rows, max_observation_difference=worst)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", help="an ExoRL buffer folder of episode .npz files")
    parser.add_argument("dest", help="the fbjax dataset folder to write (must not exist)")
    parser.add_argument("--domain", required=True, choices=sorted(envs.domains()))
    parser.add_argument("--max_episodes", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        summary = import_exorl(args.src, args.dest, args.domain, args.max_episodes)
    except (DatasetError, FileExistsError) as e:
        print(f"exorl import failed: {e}", file=sys.stderr)
        return 1
    print(f"imported {summary.episodes} episodes ({summary.transitions:,} transitions) "
          f"into {summary.dest}; largest difference between ExoRL's observations and "
          f"fbjax's: {summary.max_observation_difference:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
