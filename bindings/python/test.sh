#!/usr/bin/env bash
# The Python package's tests, as CI runs them (.ci/run): a venv with maturin and pytest (and Ray Data for the
# Ray example's test, when it installs), the extension built into it with `maturin develop`, then pytest.
#
#   bindings/python/test.sh              # venv in target/pyenv (reused between runs)
#   VIGIL_VENV=/tmp/venv bindings/python/test.sh -k evaluate    # another venv; extra arguments go to pytest
#
# Needs python3 (3.9 or later) with venv, and network access to PyPI the first time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${VIGIL_VENV:-$repo/target/pyenv}"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"
python -m pip install -q --disable-pip-version-check "maturin>=1.5,<2" "pytest>=7"
# Ray Data is optional: its test skips, saying so, without it.
python -c "import ray.data" 2>/dev/null || python -m pip install -q --disable-pip-version-check "ray[data]>=2.9" \
  || echo "ray[data] did not install; the Ray example's test will say it skipped"

# The `policy` binary: the tests compare the package's reports with `policy check --format json`.
cargo build --locked --quiet --bin policy --manifest-path "$repo/Cargo.toml"
export VIGIL_POLICY_BIN="$repo/target/debug/policy"

cd "$here"
maturin develop --locked --quiet
python -m pytest -q "$@"
