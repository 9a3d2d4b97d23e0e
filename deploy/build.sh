#!/usr/bin/env bash
# Installs missing dependencies, configures build/ if needed, and builds
# everything (mr-master, mr-worker, mrctl, libraries, tests).
#
# Environment:
#   BUILD_DIR      build directory (default: REPO/build)
#   MR_BUILD_LOCK  if set, a lock file: cmake and the build run under
#                  `flock $MR_BUILD_LOCK` so concurrent builds take turns.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$REPO/build}

"$REPO/deploy/install_deps.sh"

locked() {
  if [[ -n "${MR_BUILD_LOCK:-}" ]]; then
    flock "$MR_BUILD_LOCK" "$@"
  else
    "$@"
  fi
}

if [[ ! -f "$BUILD/build.ninja" ]]; then
  echo "build.sh: configuring $BUILD"
  mkdir -p "$BUILD"
  locked cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >"$BUILD/configure.log" 2>&1 || {
      cat "$BUILD/configure.log" >&2
      echo "build.sh: cmake configure failed (log: $BUILD/configure.log)" >&2
      exit 1
    }
fi

locked cmake --build "$BUILD" -j 2
