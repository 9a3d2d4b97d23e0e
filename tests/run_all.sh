#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run):
#
#   1. normal    every unit and multi-process test (tests/suite.sh, build/)
#   2. address   the same tests built with ASan + UBSan (tests/sanitize.sh
#                address, build-asan/)
#   3. thread    the concurrent parts' unit tests with TSan
#                (tests/sanitize.sh thread, build-tsan/)
#   4. fuzz      every libFuzzer target for FUZZ_SECONDS (default 10) on its
#                seed corpus (tests/fuzz.sh, build-asan/)
#   5. container the image (deploy/docker/build_image.sh, podman) run for
#                real: master, two workers and mrctl as containers, word
#                count equal to the reference (tests/container/image_test.sh)
#
#   tests/run_all.sh [normal|address|thread|fuzz ...]   just those steps
#
# Every step runs even when an earlier one failed; the exit code is 1 when
# any failed. Environment: CTEST_ARGS (normal and address), FUZZ_SECONDS,
# MR_BUILD_LOCK; BUILD_DIR for the normal step.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
steps=("$@")
[[ ${#steps[@]} -gt 0 ]] || steps=(normal address thread fuzz container)

summary=()
rc=0
for step in "${steps[@]}"; do
  start=$SECONDS
  case "$step" in
    normal) "$REPO/tests/suite.sh" ;;
    address|thread) "$REPO/tests/sanitize.sh" "$step" ;;
    fuzz) "$REPO/tests/fuzz.sh" --seconds "${FUZZ_SECONDS:-10}" ;;
    container)
      mkdir -p "$REPO/build"
      "$REPO/deploy/docker/build_image.sh" >"$REPO/build/container-build.log" 2>&1 ||
        { tail -n 40 "$REPO/build/container-build.log"; false; } &&
        "$REPO/tests/container/image_test.sh" ;;
    *) echo "run_all.sh: unknown step '$step' (normal, address, thread, fuzz, container)" >&2; exit 2 ;;
  esac
  status=$?
  result=passed
  if [[ $status -ne 0 ]]; then result="FAILED (exit $status)"; rc=1; fi
  summary+=("$(printf '%-8s %-20s %4d s' "$step" "$result" $((SECONDS - start)))")
done

echo
echo "run_all.sh:"
printf '  %s\n' "${summary[@]}"
exit "$rc"
