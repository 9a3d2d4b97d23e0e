#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/*_fuzzer.cc, with clang, ASan and
# UBSan) and runs each for N seconds, starting from its seed corpus in
# tests/fuzz/corpus/NAME/. A crash, a sanitizer report or a violated
# property fails the run; the input that caused it is kept as
# BUILD/fuzz-out/NAME/crash-* and printed as a command that replays it.
#
#   tests/fuzz.sh [--seconds N] [--only NAME] [--merge]
#
#   --seconds N  how long each target runs (default 10)
#   --only NAME  just this target (e.g. record_block_fuzzer), repeatable
#   --merge      afterwards, add the new inputs that reach new coverage to
#                the seed corpus in the repository (minimized)
#
# The targets are built in the ASan build of tests/sanitize.sh address
# (build-asan/, clang, MR_FUZZ=ON), which this configures when missing.
# Environment: FUZZ_BUILD_DIR (default REPO/build-asan), MR_BUILD_LOCK (see
# deploy/build.sh).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${FUZZ_BUILD_DIR:-$REPO/build-asan}
seconds=10
merge=0
only=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --seconds=*) seconds=${1#--seconds=}; shift ;;
    --only) only+=("${2:?--only needs a target name}"); shift 2 ;;
    --only=*) only+=("${1#--only=}"); shift ;;
    --merge) merge=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: --seconds must be a positive integer, got '$seconds'" >&2
  exit 2
fi

"$REPO/deploy/install_deps.sh"
CC=clang CXX=clang++ MR_FUZZ=ON MR_SANITIZE=address BUILD_DIR=$BUILD \
  BUILD_TARGETS=mr_fuzzers "$REPO/deploy/build.sh"

targets=()
if [[ ${#only[@]} -gt 0 ]]; then
  targets=("${only[@]}")
else
  for f in "$REPO"/tests/fuzz/*_fuzzer.cc; do targets+=("$(basename "$f" .cc)"); done
fi

sym=external_symbolizer_path=/usr/lib/llvm-14/bin/llvm-symbolizer
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:$sym}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:$sym}
out_root="$BUILD/fuzz-out"
rc=0
printf '%-28s %10s %10s %8s  %s\n' target runs exec/s corpus result
for t in "${targets[@]}"; do
  bin="$BUILD/fuzz/$t"
  seeds="$REPO/tests/fuzz/corpus/${t%_fuzzer}"
  if [[ ! -x "$bin" ]]; then
    echo "fuzz.sh: no target $t (expected $bin)" >&2
    rc=1
    continue
  fi
  if [[ ! -d "$seeds" ]] || [[ -z "$(ls -A "$seeds")" ]]; then
    echo "fuzz.sh: $t has no seed corpus in $seeds" >&2
    rc=1
    continue
  fi
  out="$out_root/$t"
  rm -rf "$out"
  mkdir -p "$out/corpus"
  log="$out/log"
  status=0
  # New inputs go to $out/corpus; the seeds in the repository are only read.
  "$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 \
    -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$seeds" \
    >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(ls "$out/corpus" | wc -l)
  units=$((units + $(ls "$seeds" | wc -l)))
  if [[ $status -eq 0 ]]; then
    result=ok
  else
    result="FAILED (exit $status)"
    rc=1
  fi
  printf '%-28s %10s %10s %8s  %s\n' "$t" "${runs:-?}" "${eps:-?}" "$units" "$result"
  if [[ $status -ne 0 ]]; then
    grep -E 'ERROR|property violated|runtime error|SUMMARY|Test unit written' "$log" \
      | head -20 | sed 's/^/    /' >&2 || true
    for crash in "$out"/crash-* "$out"/timeout-* "$out"/oom-* "$out"/leak-*; do
      [[ -e "$crash" ]] && echo "    replay: $bin $crash" >&2
    done
    echo "    log: $log" >&2
  fi
  if [[ $merge -eq 1 && $status -eq 0 ]]; then
    "$bin" -merge=1 "$seeds" "$out/corpus" >"$out/merge.log" 2>&1 ||
      { echo "fuzz.sh: merging into $seeds failed (log: $out/merge.log)" >&2; rc=1; }
  fi
done
exit "$rc"
