# Sourced by the device scripts: installs the carried wheels (.whl/) into /tmp/site and sets
# OUT (where results go, default /tmp/device_out), PYTHONPATH and unbuffered output.
OUT=${OUT:-/tmp/device_out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
