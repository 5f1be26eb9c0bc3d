"""How evenly reward-free data covers the point-mass arena: RND variants next to correlated noise.

  python -m studies.rnd_coverage     # writes studies/rnd_coverage/results/rnd_coverage.{json,md}
  python -m studies.rnd_coverage --domain=point_mass_maze \
      --variants=noise,rnd_segments_100_preact_0.1            # ...rnd_coverage_point_mass_maze.*
  python -m studies.rnd_coverage --variants=noise,rnd_between_episodes --episodes=2 --envs=4 \
      --out=/tmp/cov

Each variant collects the same number of steps (the main command's 32 environments x 8 episodes of
1000 steps by default) with the same collection seed, and is scored on a 6x6 grid over the arena
(walls at +-0.3 m): the share of cells visited, the largest cell's share of all states, and the
normalised entropy of the visit histogram (1 = uniform over the 36 cells). Variants:

  noise                        temporally correlated Gaussian noise (the main command's)
  rnd_between_episodes         RND's TD3 explorer learning between episodes only (the old way)
  rnd_noise_1.0                the same with exploration noise 1.0 instead of 0.2
  rnd_preact_0.1               with the pre-tanh penalty 0.1 on the explorer's actor
  rnd_segments_100             learning every 100 steps inside episodes too
  rnd_segments_100_preact_0.1  both (RNDConfig's default now)

and any combination of rnd_ with noise_X (exploration noise X), segments_N, preact_P and
updates_N (N explorer updates per episode; 500 otherwise), e.g.
rnd_segments_100_preact_0.1_updates_2000.

The collector is `fbjax.data.collect.collect`; nothing here is tuned on a task's return.
"""

import dataclasses
import json
import os
import time

import numpy as np
from absl import app, flags

import fbjax.envs as envs
from fbjax.baselines import RNDConfig
from fbjax.data.collect import CollectConfig, collect
from fbjax.provenance import provenance

VARIANTS = ("noise", "rnd_between_episodes", "rnd_noise_1.0", "rnd_preact_0.1",
            "rnd_segments_100", "rnd_segments_100_preact_0.1")
GRID, HALF_WIDTH = 6, 0.3

_VARIANTS = flags.DEFINE_list("variants", list(VARIANTS), f"any of {VARIANTS}")
_ENVS = flags.DEFINE_integer("envs", 32, "parallel environments")
_EPISODES = flags.DEFINE_integer("episodes", 8, "sequential episodes per environment")
_SEED = flags.DEFINE_integer("seed", 0, "collection seed (the same for every variant)")
_DOMAIN = flags.DEFINE_enum("domain", "point_mass", ["point_mass", "point_mass_maze"],
                            "the open arena or the four-room maze (same arena size)")
_OUT = flags.DEFINE_string("out", "studies/rnd_coverage/results",
                           "folder for rnd_coverage.{json,md}")


def variant_config(name: str, num_envs: int, num_episodes: int) -> CollectConfig:
    """Every RND variant starts from the explorer as it was before segments and the pre-tanh
    penalty existed (learning between episodes only) and changes one or two things."""
    td3 = dataclasses.replace(RNDConfig().td3, preact_penalty=0.0)
    rnd = dataclasses.replace(RNDConfig(), updates_per_episode=500, segment_length=0, td3=td3)
    base = CollectConfig(policy="rnd", num_envs=num_envs, num_episodes=num_episodes, rnd=rnd)
    parts = name.split("_")
    if name == "noise":
        return dataclasses.replace(base, policy="noise")
    if parts[0] != "rnd" or len(parts) < 2:
        raise app.UsageError(f"--variants: unknown {name!r}; expected any of {VARIANTS}")
    if "noise" in parts:
        rnd = dataclasses.replace(rnd, expl_noise=float(parts[parts.index("noise") + 1]))
    if "segments" in parts:
        rnd = dataclasses.replace(rnd, segment_length=int(parts[parts.index("segments") + 1]))
    if "updates" in parts:
        rnd = dataclasses.replace(rnd, updates_per_episode=int(parts[parts.index("updates") + 1]))
    if "preact" in parts:
        rnd = dataclasses.replace(rnd, td3=dataclasses.replace(
            td3, preact_penalty=float(parts[parts.index("preact") + 1])))
    return dataclasses.replace(base, rnd=rnd)


def coverage(xy: np.ndarray) -> dict[str, float]:
    """Visit statistics of positions (N, 2) on a GRID x GRID grid over the arena, and the share
    of states in each quadrant (the maze's four rooms: top-left, top-right, bottom-left,
    bottom-right)."""
    cells = np.clip(((xy + HALF_WIDTH) / (2 * HALF_WIDTH) * GRID).astype(int), 0, GRID - 1)
    counts = np.bincount(cells[:, 0] * GRID + cells[:, 1], minlength=GRID * GRID)
    p = counts / counts.sum()
    nonzero = p[p > 0]
    rooms = [np.mean((sx * xy[:, 0] > 0) & (sy * xy[:, 1] > 0))
             for sx, sy in ((-1, 1), (1, 1), (-1, -1), (1, -1))]
    return {"cells_visited": float(np.mean(counts > 0)), "max_cell_share": float(p.max()),
            "entropy": float(-(nonzero * np.log(nonzero)).sum() / np.log(GRID * GRID)),
            "rooms": [round(float(r), 4) for r in rooms]}


def main(argv):
    del argv
    domain = envs.make(_DOMAIN.value)
    results = {}
    for name in _VARIANTS.value:
        config = variant_config(name, _ENVS.value, _EPISODES.value)
        blocks = []
        began = time.perf_counter()
        collect(domain, config, _SEED.value, lambda arrays, out=blocks: out.append(
            arrays["next_obs"]), progress_fn=None)
        xy = np.concatenate(blocks)[:, :2]
        last = blocks[-1][:, :2]  # the last episode block: where the explorer ended up
        results[name] = {"all": coverage(xy), "last_block": coverage(last),
                         "steps": int(len(xy)), "seconds": round(time.perf_counter() - began, 1)}
        print(f"{name:18s} all: {results[name]['all']}  last block: "
              f"{results[name]['last_block']}", flush=True)
    os.makedirs(_OUT.value, exist_ok=True)
    command = "python -m studies.rnd_coverage " + " ".join(
        f"--{f.name}={','.join(f.value) if isinstance(f.value, list) else f.value}"
        for f in (_VARIANTS, _ENVS, _EPISODES, _SEED, _DOMAIN))
    stem = "rnd_coverage" + ("" if _DOMAIN.value == "point_mass" else f"_{_DOMAIN.value}") + (
        "" if _EPISODES.value == 8 else f"_{_EPISODES.value}ep")
    with open(os.path.join(_OUT.value, f"{stem}.json"), "w") as f:
        json.dump({"grid": GRID, "results": results, "provenance": provenance(command)}, f,
                  indent=1)
    rows = [f"| {n} | {r['all']['cells_visited']:.2f} | {r['all']['max_cell_share']:.3f} | "
            f"{r['all']['entropy']:.3f} | {r['last_block']['cells_visited']:.2f} | "
            f"{r['last_block']['max_cell_share']:.3f} | {r['last_block']['entropy']:.3f} | "
            f"{' / '.join(f'{x:.2f}' for x in r['all']['rooms'])} |"
            for n, r in results.items()]
    with open(os.path.join(_OUT.value, f"{stem}.md"), "w") as f:
        f.write(f"{_DOMAIN.value} coverage on a {GRID}x{GRID} grid, {_ENVS.value} envs x "
                f"{_EPISODES.value} episodes (`{command}`).\n\n"
                "| variant | cells visited | largest cell | entropy | last block: cells | "
                "largest | entropy | share per quadrant TL / TR / BL / BR |\n"
                "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    print(f"written to {_OUT.value}/{stem}.json and .md")


if __name__ == "__main__":
    app.run(main)
