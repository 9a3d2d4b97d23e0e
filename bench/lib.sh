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

# mib BYTES: "N.N MiB".
mib() { awk -v n="$1" 'BEGIN { printf "%.1f MiB", n / 1048576 }'; }

# job_counter JSONFILE NAME: the counter's value in a job's final status
# (mrctl ... --json), or "" when absent. Values are strings in the JSON, so
# int64 counters come back exact.
job_counter() { jq -r --arg n "$2" '.counters[$n] // empty' "$1"; }

# vm_hwm PID: the process's peak RSS (VmHWM) in bytes, or "" when gone.
vm_hwm() { awk '/^VmHWM:/ { print $2 * 1024 }' "/proc/$1/status" 2>/dev/null || true; }
# reset_vm_hwm PID: restarts the process's VmHWM from its current RSS
# (Linux >= 4.0, own processes); false when that is not possible.
reset_vm_hwm() { { echo 5 >"/proc/$1/clear_refs"; } 2>/dev/null; }

# ------------------------------------------------------------ local cluster

# bench_cluster_start DIR [cluster.sh start flags...]: a fresh local cluster
# under DIR (stopping and removing whatever a previous run left there), with
# the binaries in BIN. Sets BENCH_CLUSTER (DIR) and MASTER (host:port).
# bench_cluster_stop stops it; safe to call twice, so put it in the EXIT trap.
BENCH_CLUSTER=""
bench_cluster_start() {
  local dir=$1
  shift
  "$REPO/deploy/local/cluster.sh" stop --root "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
  BENCH_CLUSTER=$dir
  "$REPO/deploy/local/cluster.sh" start --root "$dir" --bin "$BIN" "$@" >&2
  # shellcheck disable=SC2034  # for the sourcing script
  MASTER=$(head -n 1 "$dir/master.addr")
}
bench_cluster_stop() {
  if [[ -n "$BENCH_CLUSTER" ]]; then
    "$REPO/deploy/local/cluster.sh" stop --root "$BENCH_CLUSTER" >&2 || true
    BENCH_CLUSTER=""
  fi
}
# bench_worker_pids: "NAME PID" per worker daemon of the running cluster.
bench_worker_pids() {
  local f
  for f in "$BENCH_CLUSTER"/worker-*.pid; do
    if [[ -e "$f" ]]; then echo "$(basename "$f" .pid) $(cat "$f")"; fi
  done
}
