#!/usr/bin/env bash
# Installs missing dependencies, configures build/ if needed, and builds
# everything (mr-master, mr-worker, mrctl, libraries, tests).
#
# Environment:
#   BUILD_DIR      build directory (default: REPO/build)
#   MR_BUILD_LOCK  if set, a lock file: cmake and the build run under
#                  `flock $MR_BUILD_LOCK` so concurrent builds take turns.
#   MR_SANITIZE    when BUILD_DIR is configured: empty (default), address
#                  (ASan+UBSan) or thread (TSan); see tests/sanitize.sh.
#   MR_FUZZ        ON: also the fuzz targets (tests/fuzz.sh); needs
#                  CC=clang CXX=clang++ at configure time
#   BUILD_TARGETS  what to build (default: everything)
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
    -DMR_SANITIZE="${MR_SANITIZE:-}" -DMR_FUZZ="${MR_FUZZ:-OFF}" \
    >"$BUILD/configure.log" 2>&1 || {
      cat "$BUILD/configure.log" >&2
      echo "build.sh: cmake configure failed (log: $BUILD/configure.log)" >&2
      exit 1
    }
fi

targets=()
if [[ -n "${BUILD_TARGETS:-}" ]]; then
  for t in $BUILD_TARGETS; do targets+=(--target "$t"); done
fi
locked cmake --build "$BUILD" -j 2 "${targets[@]}"
