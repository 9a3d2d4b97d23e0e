# Helpers the benchmark scripts share; sourced, not run.
#
# The sourcing script sets REPO, BUILD_DIR, BIN and NO_BUILD, and defines
# die().

# bench_build TARGET...: builds the targets (configuring BUILD_DIR first if
# needed) under the shared build lock, or with NO_BUILD=1 only checks that
# they exist.
bench_build() {
  local targets=("$@")
  if ((NO_BUILD)); then
    local t
    for t in "${targets[@]}"; do
      [[ -x "$BIN/$t" ]] || die "$BIN/$t not found (and --no-build given)"
    done
    return
  fi
  local lock=()
  command -v flock >/dev/null && lock=(flock /tmp/mr-build.lock)
  if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
    echo "configuring $BUILD_DIR" >&2
    "${lock[@]}" cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja >&2
  fi
  echo "building ${targets[*]}" >&2
  "${lock[@]}" ninja -C "$BUILD_DIR" -j 2 "${targets[@]}" >&2
}

now() { date +%s.%N; }
# elapsed START END: seconds between two now()s.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# mbps BYTES SECONDS: MB/s (MB = 10^6 bytes).
mbps() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", n / 1e6 / s }'; }
