#!/usr/bin/env bash
# Builds everything and runs every test (unit and multi-process) with CTest,
# in one build: the normal one, or a sanitized one (tests/sanitize.sh).
# tests/run_all.sh runs it with the other checks.
#
# Environment:
#   BUILD_DIR      build directory (default: REPO/build)
#   MR_SANITIZE    see deploy/build.sh
#   CTEST_ARGS     extra ctest arguments, e.g. CTEST_ARGS="-R shuffle -V"
#   MR_BUILD_LOCK  see deploy/build.sh
#
# Exits with ctest's code; and with 1 when tests passed but left mr-master /
# mr-worker processes of this build running (they are listed and killed).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$REPO/build}

"$REPO/deploy/build.sh"
BUILD=$(cd "$BUILD" && pwd)

# Every process the tests start inherits this variable; it tells our strays
# apart from daemons someone else runs from the same build dir meanwhile.
export MR_RUN_ALL_TOKEN="run_all.$$.$RANDOM"

extra_args=()
if [[ -n "${CTEST_ARGS:-}" ]]; then
  read -r -a extra_args <<<"$CTEST_ARGS"
fi

rc=0
ctest --test-dir "$BUILD" --output-on-failure -j 2 --timeout 600 "${extra_args[@]}" || rc=$?

# Daemons of this build dir that this run started and that are still alive.
strays() {
  local pid
  for pid in $(pgrep -f "$BUILD/bin/mr-" || true); do
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null |
      grep -qx "MR_RUN_ALL_TOKEN=$MR_RUN_ALL_TOKEN" && echo "$pid"
  done
  return 0
}

# A test's last daemons may still be exiting: allow them a moment.
for _ in $(seq 20); do
  [[ -z "$(strays)" ]] && break
  sleep 0.1
done
left=$(strays)
if [[ -n "$left" ]]; then
  echo >&2
  echo "suite.sh: FAIL: the tests left these processes running:" >&2
  for pid in $left; do ps -o pid=,args= -p "$pid" >&2 || true; done
  echo "suite.sh: killing them" >&2
  for pid in $left; do kill -KILL "$pid" 2>/dev/null || true; done
  ((rc != 0)) || rc=1
fi

exit "$rc"
