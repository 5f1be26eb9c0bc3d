"""Where a results file came from: commit, command, device and package versions, as JSON.

  python -m fbjax.provenance --command "python -m experiments.pipeline" > provenance.json
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from importlib import metadata

CODE = ("fbjax", "experiments", ":!experiments/results", "studies", ":!studies/*/results/*",
        "benchmarks", ":!benchmarks/results", "tests/faults", "pyproject.toml", "setup.cfg")
PACKAGES = ("fbjax", "jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "mujoco", "mujoco-mjx",
            "numpy", "rliable", "scipy")


def cpu(cpuinfo: str = "/proc/cpuinfo") -> dict:
    """The host CPU's model and its widest vector instruction set (avx512f, avx2, avx, or
    None where /proc/cpuinfo does not say): the test suite takes about 2x as long on a 2-core
    AVX2-only machine as on a 2-core AVX-512 one, so a timing names which it came from."""
    try:
        with open(cpuinfo) as f:
            text = f.read()
    except OSError:
        return {"model": platform.processor() or None, "isa": None}
    model = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    flags = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
    present = set(flags.group(1).split()) if flags else set()
    isa = next((name for name in ("avx512f", "avx2", "avx") if name in present), None)
    return {"model": model.group(1).strip() if model else None, "isa": isa}


def provenance(command: str) -> dict:
    import jax

    def git(*args):
        out = subprocess.run(["git", *args], capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else None

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"commit": git("rev-parse", "HEAD"),
            # Changes to the code or its settings (not to docs or to results being written).
            "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no", "--",
                                            *CODE)),
            "command": command, "device": jax.devices()[0].device_kind,
            "device_count": jax.device_count(), "cpu_count": os.cpu_count(), "cpu": cpu(),
            "platform": platform.platform(), "python": sys.version.split()[0],
            "packages": versions}


def write_results(stem: str, result: dict, markdown: str) -> None:
    """STEM.json (the result, its provenance inside) and STEM.md (its tables)."""
    os.makedirs(os.path.dirname(stem) or ".", exist_ok=True)
    with open(stem + ".json", "w") as f:
        json.dump(result, f, indent=1)
    with open(stem + ".md", "w") as f:
        f.write(markdown)
    print(f"wrote {stem}.json and {stem}.md", flush=True)


def of_args(module: str, args) -> dict:
    """`provenance` of `python -m MODULE --flag=value ...` for an argparse namespace."""
    return provenance(f"python -m {module} " + " ".join(
        f"--{k}={v}" for k, v in vars(args).items()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--command", required=True, help="the command that made the results")
    print(json.dumps(provenance(parser.parse_args().command), indent=2))


if __name__ == "__main__":
    main()
