#!/usr/bin/env bash
# Runs the tests in a sanitized build.
#
#   tests/sanitize.sh address   the whole suite, multi-process tests
#                               included, built by clang with ASan + UBSan
#                               (every report fatal) in build-asan/: the
#                               daemons, task children and mrctl are
#                               sanitized too (the build also holds the
#                               fuzz targets, tests/fuzz.sh)
#   tests/sanitize.sh thread    the unit tests of the master and the
#                               worker (master_test, worker_test: the
#                               tracker, the task runner, the shuffle store
#                               and service) built with TSan in build-tsan/
#
# Every sanitized process writes its reports to a log directory (the
# sanitizers' log_path), so a report from a daemon that a test kills or
# restarts is not lost in its stderr: the run fails when any report was
# written, even if every test passed, and prints them. Suppressions, each
# with the reason, are in tests/sanitizers/; they cover the uninstrumented
# Debian libraries only, never our code.
#
# Environment: SANITIZE_BUILD_DIR (default REPO/build-asan or
# REPO/build-tsan), CTEST_ARGS (address), GTEST_FILTER (thread),
# MR_BUILD_LOCK (see deploy/build.sh).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kind=${1:-}
case "$kind" in
  address)
    build=${SANITIZE_BUILD_DIR:-$REPO/build-asan}
    targets="" ;;
  thread)
    build=${SANITIZE_BUILD_DIR:-$REPO/build-tsan}
    # The concurrent parts' unit tests, and the worker binary whose task
    # children the task runner's test starts.
    targets="master_test worker_test mr-worker" ;;
  *)
    echo "usage: tests/sanitize.sh address|thread" >&2
    exit 2 ;;
esac

logs="$build/sanitizer-logs"
mkdir -p "$build"
rm -rf "$logs"
mkdir -p "$logs"
supp="$REPO/tests/sanitizers"
# llvm-symbolizer comes with clang (llvm-14): reports name files and lines.
common="log_path=$logs/report:log_exe_name=1:print_stacktrace=1"
common+=":external_symbolizer_path=/usr/lib/llvm-14/bin/llvm-symbolizer"
if [[ $kind == address ]]; then
  # handle_segv=0: tests crash job code on purpose (apps/plugins/segv_plugin.cc)
  # and assert that the task died of SIGSEGV; a stray one still kills the
  # process and fails its test.
  export ASAN_OPTIONS="$common:detect_leaks=1:handle_segv=0:handle_sigbus=0"
  export LSAN_OPTIONS="$common:suppressions=$supp/lsan.supp"
  export UBSAN_OPTIONS="$common:halt_on_error=1:suppressions=$supp/ubsan.supp"
else
  # history_size=7: the longest access history, so that the earlier access
  # of a report keeps its stack and the suppressions can match it.
  export TSAN_OPTIONS="$common:halt_on_error=0:second_deadlock_stack=1:history_size=7:suppressions=$supp/tsan.supp"
fi

rc=0
if [[ $kind == address ]]; then
  # Left out: the task memory limit's test. A sanitized worker sets no
  # limit (worker/worker.cc: the shadow memory counts in RLIMIT_DATA), and
  # the test's task would allocate until the machine runs out.
  CTEST_ARGS="-E ^TaskProcessTest.ATaskOverItsMemoryLimitFailsSayingSo\$ ${CTEST_ARGS:-}" \
    CC=clang CXX=clang++ MR_FUZZ=ON BUILD_DIR=$build MR_SANITIZE=address \
    "$REPO/tests/suite.sh" || rc=$?
else
  BUILD_DIR=$build MR_SANITIZE=thread BUILD_TARGETS="$targets" "$REPO/deploy/build.sh"
  # Each binary whole, in one process (faster than a process per test
  # under TSan), the two side by side.
  filter=${GTEST_FILTER:-*}
  pids=()
  for t in master_test worker_test; do
    "$build/tests/$t" --gtest_brief=1 --gtest_filter="$filter" \
      >"$build/$t.log" 2>&1 &
    pids+=($!)
  done
  for i in 0 1; do
    t=$([[ $i == 0 ]] && echo master_test || echo worker_test)
    if wait "${pids[$i]}"; then
      echo "sanitize.sh: thread: $t: $(grep -E '^\[  PASSED  \]' "$build/$t.log")"
    else
      echo "sanitize.sh: thread: $t FAILED (log: $build/$t.log):" >&2
      grep -E '^\[  FAILED  \]|Failure|error' "$build/$t.log" | head -30 >&2
      rc=1
    fi
  done
fi

reports=$(find "$logs" -type f | sort)
if [[ -n "$reports" ]]; then
  echo >&2
  echo "sanitize.sh: FAIL: $(wc -l <<<"$reports") sanitizer report(s) in $logs:" >&2
  for f in $reports; do
    echo "==== $f" >&2
    head -60 "$f" >&2
  done
  ((rc != 0)) || rc=1
fi
if [[ $rc -eq 0 ]]; then
  echo "sanitize.sh: $kind: all tests passed, no sanitizer reports"
fi
exit "$rc"
