"""Executes a notebook from the repository root and writes it back with its outputs:

  python examples/run_notebook.py examples/zol_tutorial.ipynb

The committed outputs of examples/*.ipynb are made this way, from the commit they record."""

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def execute(path: str, timeout: int = 600):
    """The notebook at `path`, executed in a fresh kernel whose working directory is the
    repository root; raises on the first failing cell."""
    import nbclient
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": ROOT}}).execute()
    return notebook


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    args = parser.parse_args()
    import nbformat

    for path in args.notebooks:
        began = time.perf_counter()
        notebook = execute(path)
        nbformat.write(notebook, path)
        print(f"{path}: executed in {time.perf_counter() - began:.0f} s, outputs written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
