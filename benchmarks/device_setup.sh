# Sourced by the device scripts: installs the carried wheels (.whl/) into /tmp/site and sets
# OUT (where results go, default /tmp/device_out), PYTHONPATH and unbuffered output.
# NO_WHEELS=1 skips the install (a dry run on a machine that has the packages).
OUT=${OUT:-/tmp/device_out}
mkdir -p "$OUT"
if [ -z "${NO_WHEELS:-}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
