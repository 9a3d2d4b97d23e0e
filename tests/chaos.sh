#!/usr/bin/env bash
# A bounded chaos soak (not part of the default test suite): jobs run back
# to back on a local cluster (deploy/local/cluster.sh) while a background
# loop SIGKILLs a random worker every 5-15 s and restarts it with its own
# command line. Every job's output must equal the reference byte for byte.
# The jobs alternate: a word count of the Gutenberg books, then a teragen
# (map-only, generated input) of 300,000 ASCII records followed by a
# terasort of them (a sample task, a total order).
#
#   tests/chaos.sh [--minutes N] [--workers N] [--root DIR]
#     --minutes  how long to keep starting jobs (default 5); the job running
#                at the deadline is waited for
#     --workers  cluster size (default 3)
#     --root     the cluster's directory (default: a fresh /tmp/mr-chaos.XXXXXX,
#                removed at the end when everything matched, unless
#                $MR_KEEP_TEST_DIRS is set)
#
# Binaries come from $BUILD_DIR/bin, else REPO/build/bin; the books from
# $MR_DATA_DIR, else ../shared/data/gutenberg beside the repository. The master runs with its
# default heartbeat timeout (5 s): cluster.sh passes no master flags.
#
# The reference is computed once at start by build/bin/wc_baseline --output
# and cross-checked against an independent `tr | sort | uniq -c` count.
#
# Ends with "jobs: N, failures injected: K, outputs differing from the
# reference: D, jobs failed: F" and exits 1 when D > 0 or F > 0 (2 on a usage
# or setup error). Whatever happens, the EXIT trap stops the kill loop and the
# cluster.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BUILD_DIR:-$REPO/build}/bin
DATA=${MR_DATA_DIR:-$(cd "$REPO/.." && pwd)/shared/data/gutenberg}
CLUSTER=$REPO/deploy/local/cluster.sh

usage() {
  sed -n '8p' "${BASH_SOURCE[0]}" | sed 's/^#   /usage: /' >&2
  exit 2
}
die() {
  echo "chaos.sh: $*" >&2
  exit 2
}

MINUTES=5
WORKERS=3
ROOT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) MINUTES=${2:?--minutes needs a value}; shift 2 ;;
    --minutes=*) MINUTES=${1#*=}; shift ;;
    --workers) WORKERS=${2:?--workers needs a value}; shift 2 ;;
    --workers=*) WORKERS=${1#*=}; shift ;;
    --root) ROOT=${2:?--root needs a value}; shift 2 ;;
    --root=*) ROOT=${1#*=}; shift ;;
    -h|--help) usage ;;
    *) echo "chaos.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[[ "$MINUTES" =~ ^[1-9][0-9]*$ ]] || die "--minutes must be a positive integer"
[[ "$WORKERS" =~ ^[1-9][0-9]*$ ]] || die "--workers must be a positive integer"
for b in mr-master mr-worker mrctl wc_baseline; do
  [[ -x "$BIN/$b" ]] || die "$BIN/$b not found; build it first"
done
shopt -s nullglob
BOOKS=("$DATA"/pg-*.txt)
shopt -u nullglob
((${#BOOKS[@]} > 0)) || die "no pg-*.txt books in $DATA"

REMOVE_ROOT=0
if [[ -z "$ROOT" ]]; then
  ROOT=$(mktemp -d /tmp/mr-chaos.XXXXXX)
  [[ -n "${MR_KEEP_TEST_DIRS:-}" ]] || REMOVE_ROOT=1
else
  mkdir -p "$ROOT"
  ROOT=$(cd "$ROOT" && pwd)
fi
mkdir -p "$ROOT/chaos/jobs" "$ROOT/chaos/out"
EVENTS=$ROOT/chaos/kills.log   # one line per injected kill
: >"$EVENTS"

KILLER_PID=""
CLUSTER_STARTED=0
KEEP_ROOT=0
cleanup() {
  local rc=$?
  if [[ -n "$KILLER_PID" ]]; then
    kill "$KILLER_PID" 2>/dev/null || true
    wait "$KILLER_PID" 2>/dev/null || true
  fi
  # The kill loop may have been stopped between a kill and the restart:
  # cluster.sh stop handles live workers and stale pid files alike.
  if ((CLUSTER_STARTED)); then
    "$CLUSTER" stop --root "$ROOT" --bin "$BIN" || true
  fi
  if ((REMOVE_ROOT && !KEEP_ROOT && rc == 0)); then
    rm -rf "$ROOT"
  elif [[ -d "$ROOT" ]]; then
    echo "chaos.sh: cluster directory kept: $ROOT" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "chaos: $(date +%T) $*"; }

# ---------------------------------------------------------------- reference

REF=$ROOT/chaos/reference.txt
"$BIN/wc_baseline" --output "$REF" "${BOOKS[@]}" >/dev/null ||
  die "wc_baseline failed"
# An independent count: maximal runs of [A-Za-z], case kept, byte order.
for f in "${BOOKS[@]}"; do LC_ALL=C tr -cs 'A-Za-z' '\n' <"$f"; echo; done |
  { grep -v '^$' || true; } | LC_ALL=C sort | uniq -c |
  awk '{print $2, $1}' | LC_ALL=C sort >"$ROOT/chaos/reference-tr.txt"
cmp -s "$REF" "$ROOT/chaos/reference-tr.txt" ||
  die "wc_baseline and the tr|sort|uniq count disagree (see $ROOT/chaos/)"
log "reference: $(wc -l <"$REF") distinct words from ${#BOOKS[@]} books"
TERA_RECORDS=300000

# ---------------------------------------------------------------- cluster

CLUSTER_STARTED=1
"$CLUSTER" start --root "$ROOT" --workers "$WORKERS" --bin "$BIN" ||
  die "the cluster did not start"
MASTER=$(head -n 1 "$ROOT/master.addr")

# The teragen reference: one run before any kill; its records sorted by
# GNU sort are terasort's reference.
TERA_REF=$ROOT/chaos/tera-ref
"$BIN/mrctl" --master "$MASTER" submit --app teragen --maps 4 \
  --param records=$TERA_RECORDS --param format=ascii --output "$TERA_REF" \
  --wait >/dev/null 2>"$ROOT/chaos/tera-ref.err" ||
  die "the reference teragen failed: $(cat "$ROOT/chaos/tera-ref.err")"
cat "$TERA_REF"/part-m-* >"$ROOT/chaos/tera-ref-records"
LC_ALL=C sort "$ROOT/chaos/tera-ref-records" >"$ROOT/chaos/tera-ref-sorted"
log "reference: $TERA_RECORDS teragen records"

# kill_loop: every 5-15 s, SIGKILLs a random live worker and restarts it
# 0.5 s later with the command line it had (read from /proc before the
# kill), appending to its log and updating its pid file. A worker whose pid
# file names no live mr-worker (a restart that failed) is restarted too.
kill_loop() {
  trap - EXIT INT TERM
  set +e
  local i pf pid cmd
  declare -A cmdline
  while :; do
    sleep $((5 + RANDOM % 11))
    i=$((1 + RANDOM % WORKERS))
    pf=$ROOT/worker-$i.pid
    pid=$(cat "$pf" 2>/dev/null || true)
    if [[ "$pid" =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] &&
      tr '\0' ' ' </proc/"$pid"/cmdline | grep -q mr-worker; then
      mapfile -d '' -t cmd </proc/"$pid"/cmdline
      cmdline[$i]=$(printf '%q ' "${cmd[@]}")
      kill -9 "$pid" 2>/dev/null || continue
      echo "$(date +%s.%N) kill worker-$i pid $pid" >>"$EVENTS"
      sleep 0.5
    elif [[ -z "${cmdline[$i]:-}" ]]; then
      continue  # never seen alive: nothing to restart it with
    fi
    eval "cmd=(${cmdline[$i]})"
    setsid nohup "${cmd[@]}" >>"$ROOT/logs/worker-$i.log" 2>&1 </dev/null &
    echo $! >"$pf"
    disown "$!"  # no "Killed" job notice when the next round kills it
    echo "$(date +%s.%N) restart worker-$i pid $!" >>"$ROOT/chaos/restarts.log"
  done
}
kill_loop &
KILLER_PID=$!

# ---------------------------------------------------------------- jobs

JOBS=0
FAILED=0
DIFFER=0
LEFTOVER=0
HIT=0  # jobs during which at least one kill happened
DEADLINE=$((SECONDS + MINUTES * 60))
# run_job OUT REFERENCE SORT(0|1) MRCTL_ARGS...: runs a job to OUT, checks
# its part files (concatenated, sorted first when SORT is 1) against
# REFERENCE, and counts the outcome.
run_job() {
  local out=$1 ref=$2 sort=$3 rec kills_before parts
  shift 3
  JOBS=$((JOBS + 1))
  rec=$ROOT/chaos/jobs/job-$JOBS
  kills_before=$(wc -l <"$EVENTS")
  if timeout 600 "$BIN/mrctl" --master "$MASTER" submit "$@" --output "$out" \
    --wait >"$rec.out" 2>"$rec.err"; then
    (($(wc -l <"$EVENTS") == kills_before)) || HIT=$((HIT + 1))
    if ((sort)); then
      parts() { cat "$out"/part-[mr]-* 2>/dev/null | LC_ALL=C sort; }
    else
      parts() { cat "$out"/part-[mr]-* 2>/dev/null; }
    fi
    if ! parts | cmp -s - "$ref"; then
      DIFFER=$((DIFFER + 1))
      KEEP_ROOT=1
      log "job $JOBS: output differs from the reference (kept in $out)"
      return 1
    fi
    extra=$(find "$out" -mindepth 1 -maxdepth 1 -printf '%f\n' | grep -Ev '^(part-[mr]-[0-9]{5}|_SUCCESS)$' || true)
    if [[ -n "$extra" || ! -e "$out/_SUCCESS" ]]; then
      LEFTOVER=$((LEFTOVER + 1))
      KEEP_ROOT=1
      log "job $JOBS: output matches, but the directory holds:" \
        "$(find "$out" -mindepth 1 -printf '%P ')"
      return 1
    fi
    log "job $JOBS: ok ($(grep -m1 -o 'job-[0-9]*' "$rec.out" || echo '?'): $1 $2)"
    return 0
  else
    rc=$?
    (($(wc -l <"$EVENTS") == kills_before)) || HIT=$((HIT + 1))
    FAILED=$((FAILED + 1))
    KEEP_ROOT=1
    log "job $JOBS: FAILED (mrctl exit $rc): $(tr '\n' ' ' <"$rec.err" | tail -c 300)" \
      "$(grep -i error "$rec.out" | head -n 3 | tr '\n' ' ')"
    return 1
  fi
}

ROUND=0
while ((SECONDS < DEADLINE)); do
  ROUND=$((ROUND + 1))
  out=$ROOT/chaos/out/round-$ROUND
  if ((ROUND % 2)); then
    # 8 maps, 4 reduces; at most 10 minutes per job.
    run_job "$out" "$REF" 1 --app wordcount --input "${BOOKS[@]}" \
      --split-size 412638 --reduces 4 && rm -rf "$out"
  else
    run_job "$out-gen" "$ROOT/chaos/tera-ref-records" 0 --app teragen \
      --maps 4 --param records=$TERA_RECORDS --param format=ascii &&
      run_job "$out-sorted" "$ROOT/chaos/tera-ref-sorted" 0 --app terasort \
        --input "$out-gen" --reduces 3 --split-size 8000000 &&
      rm -rf "$out-gen" "$out-sorted"
  fi
done

KILLS=$(wc -l <"$EVENTS")
echo "jobs that ran through at least one kill: $HIT"
((LEFTOVER == 0)) ||
  echo "outputs that matched but left other entries (or no _SUCCESS): $LEFTOVER"
echo "jobs: $JOBS, failures injected: $KILLS, outputs differing from the reference: $DIFFER, jobs failed: $FAILED"
((DIFFER == 0 && FAILED == 0))
