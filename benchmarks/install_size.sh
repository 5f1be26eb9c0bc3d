#!/usr/bin/env bash
# What `pip install` of fbjax costs: wall time, venv size and package count, in a fresh venv,
# for a commit and an extra, with no pip cache (every wheel downloaded). One JSON line per run.
#
#   bash benchmarks/install_size.sh REF [EXTRA] >> benchmarks/results/install.jsonl
#
# REF is a commit (e.g. HEAD, or one from before a dependency change); EXTRA "" installs the base
# package (`pip install -e .`), "report" `pip install -e ".[report]"`. A commit that has
# constraints.txt installs through it, as README's commands do.
set -euo pipefail
ref=$1
extra=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
commit=$(git -C "$root" rev-parse --short "$ref")
git -C "$root" archive "$commit" | tar -x -C "$work"
python3 -m venv "$work/venv"
target="."
[ -n "$extra" ] && target=".[$extra]"
constraints=()
[ -f "$work/constraints.txt" ] && constraints=(-c constraints.txt)
cd "$work"
start=$(date +%s.%N)
"$work/venv/bin/pip" install --no-cache-dir --quiet --disable-pip-version-check \
  "${constraints[@]}" -e "$target" > "$work/pip.log" 2>&1 || { tail -20 "$work/pip.log" >&2; exit 1; }
seconds=$(python3 -c "import time; print(round(time.time() - $start, 1))")
megabytes=$(du -sm "$work/venv" | cut -f1)
packages=$("$work/venv/bin/pip" list --disable-pip-version-check 2>/dev/null | tail -n +3 | wc -l)
check=$("$work/venv/bin/pip" check --disable-pip-version-check 2>&1 | head -1)
python3 - "$commit" "$target" "$seconds" "$megabytes" "$packages" "$check" "${#constraints[@]}" <<'EOF'
import json, platform, sys
commit, target, seconds, megabytes, packages, check, constrained = sys.argv[1:]
print(json.dumps({"commit": commit, "install": f"pip install -e {target}",
                  "constraints": constrained != "0", "seconds": float(seconds),
                  "venv_mb": int(megabytes), "packages": int(packages), "pip_check": check,
                  "python": platform.python_version(), "cpus": __import__("os").cpu_count()}))
EOF
