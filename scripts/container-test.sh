#!/usr/bin/env bash
# Builds the container image (Dockerfile) and checks it: `policy --version` runs, the user is not root, and
# a check of the bundled examples mounted read-only gives a JSON report and exit 0 or 1 (findings), never 2.
# Uses docker, else podman. Without a usable runtime (none installed, or no daemon) it says it skipped and
# exits 0, so CI can call it everywhere. CONTAINER_TEST_REQUIRED=1 turns a skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
  echo "container test skipped: $1"
  if [ "${CONTAINER_TEST_REQUIRED:-0}" = 1 ]; then exit 1; fi
  exit 0
}

runtime=""
for candidate in docker podman; do
  if command -v "$candidate" >/dev/null && "$candidate" info >/dev/null 2>&1; then
    runtime=$candidate
    break
  fi
done
[ -n "$runtime" ] || skip "no docker or podman with a reachable daemon"

image=vigil:container-test
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
"$runtime" build --build-arg VIGIL_GIT_COMMIT="$commit" -t "$image" .

version=$("$runtime" run --rm "$image" --version)
echo "$version"
case "$version" in
  "policy "*"(commit $commit;"*) ;;
  *) echo "error: unexpected --version: $version" >&2; exit 1 ;;
esac

user=$("$runtime" image inspect -f '{{.Config.User}}' "$image")
case "$user" in
  "" | root | 0 | 0:* | root:*) echo "error: the image runs as root ($user)" >&2; exit 1 ;;
esac

set +e
"$runtime" run --rm --network none --read-only -v "$PWD/examples:/work:ro" "$image" \
  check --format json deployments boms > target/container-report.json
code=$?
set -e
if [ "$code" -ne 0 ] && [ "$code" -ne 1 ]; then
  echo "error: policy check in the container exited $code" >&2
  exit 1
fi
grep -q '"summary"' target/container-report.json || { echo "error: no JSON report" >&2; exit 1; }
echo "container test passed ($runtime, user $user, check exit $code)"
