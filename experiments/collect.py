"""Collect a reward-free dataset in an MJX domain.

  python experiments/collect.py --config=experiments/configs/point_mass.py
  python experiments/collect.py --config=experiments/configs/point_mass.py \
      --config.collect.policy=noise --config.collect.num_envs=256 --config.workdir=/tmp/pm

Writes WORKDIR/dataset (the `fbjax.data.store` format). The dataset is built in
WORKDIR/dataset.partial and renamed when complete, so an interrupted run leaves nothing that looks
finished; a complete dataset made with the same settings is kept and not collected again.
"""

import dataclasses
import json
import os
import shutil
import sys

from absl import app, logging
from ml_collections import config_flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import fbjax.envs as envs  # noqa: E402
from fbjax.data.collect import collect  # noqa: E402
from fbjax.data.configs import collect_config  # noqa: E402
from fbjax.data.store import append_dataset, read_manifest, save_dataset  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file(
    "config", "experiments/configs/point_mass.py", "Experiment config file.")


def collect_dataset(config: dict) -> str:
    """Collects WORKDIR/dataset unless an identical one exists; returns its path."""
    domain = envs.make(config["domain"])
    settings = collect_config(config["collect"])
    description = {"domain": domain.name, **dataclasses.asdict(settings)}
    path = os.path.join(os.path.abspath(config["workdir"]), "dataset")
    if os.path.exists(path):
        manifest = read_manifest(path)
        if manifest["collection"] == description and manifest["seed"] == config["seed"]:
            print(f"dataset {path} already holds this collection "
                  f"({sum(s['rows'] for s in manifest['shards'])} rows); keeping it", flush=True)
            return path
        raise SystemExit(f"collect: {path} holds a dataset made with other settings "
                         f"({manifest['collection']}, seed {manifest['seed']}); "
                         "choose another --config.workdir or delete it")
    partial = path + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    print(f"collecting {settings.total_steps(domain):,} steps of {domain.name} with "
          f"{settings.policy} ({settings.num_envs} envs x {settings.num_episodes} episodes of "
          f"{settings.length(domain)} steps) into {path}", flush=True)

    def sink(arrays):
        if os.path.exists(os.path.join(partial, "manifest.json")):
            append_dataset(partial, arrays)
        else:
            save_dataset(partial, arrays, env=domain.name, tasks=list(domain.task_names),
                         collection=description, seed=config["seed"])

    collect(domain, settings, config["seed"], sink)
    os.replace(partial, path)
    print(f"dataset written to {path}", flush=True)
    return path


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    collect_dataset(json.loads(_CONFIG.value.to_json()))


if __name__ == "__main__":
    app.run(main)
