"""Console scripts for the experiment binaries: `fbjax-pipeline`, `fbjax-collect`, `fbjax-train`,
`fbjax-evaluate`, `fbjax-report`, `fbjax-export`, each the same as `python -m experiments.NAME`
with the same flags, from any directory.

The binaries and their configs live in the repository's `experiments/`, which is not part of the
installed package (a top-level package called `experiments` would collide with a user's own), so
the scripts work from an editable install of a clone (`pip install -e .`, as README's commands
do) and say so in one line otherwise.
"""

import importlib
import os
import sys

BINARIES = ("pipeline", "collect", "train", "evaluate", "report", "export")


def _checkout() -> str | None:
    """The clone fbjax is installed from, when it holds experiments/; None otherwise."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return root if os.path.isfile(os.path.join(root, "experiments", "common.py")) else None


def _run(name: str) -> None:
    root = _checkout()
    if root is None:
        sys.exit(f"fbjax-{name}: the binaries live in the repository's experiments/, which this "
                 "install of fbjax lacks; clone the repository and pip install -e . from it, or "
                 f"run python -m experiments.{name} in the clone")
    if root not in sys.path:
        sys.path.insert(0, root)
    binary = importlib.import_module(f"experiments.{name}")
    common = importlib.import_module("experiments.common")
    common.run(binary.main)


def pipeline() -> None:
    _run("pipeline")


def collect() -> None:
    _run("collect")


def train() -> None:
    _run("train")


def evaluate() -> None:
    _run("evaluate")


def report() -> None:
    _run("report")


def export() -> None:
    _run("export")
