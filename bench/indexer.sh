#!/usr/bin/env bash
# Indexer benchmark: the bounded-memory data path under two settings, on
# the same corpus and a fresh local cluster each:
#   1. the defaults (64 MiB sort buffer, merge factor 64);
#   2. --sort-buffer-mb 16 --merge-factor 8 (more spills, merge passes).
#
#   bench/indexer.sh [--size-mb N] [--work DIR] [--workers N] [--slots N]
#                    [--reduces R] [--no-build]
#
#   --size-mb N   corpus size, default 1024 (whole Gutenberg books, one per
#                 file, so "about" that size: some 2,600 documents per GiB)
#   --work DIR    work dir, default /tmp/mr-bench-indexer: DIR/corpus (reused
#                 when it matches --size-mb), DIR/cluster-*, DIR/out-*
#   --workers N   workers in the local cluster, default 2
#   --slots N     task slots per worker, default: the worker's (its cores)
#   --reduces R   reduce tasks, default: the master's (4)
#   --no-build    do not run ninja; use the binaries as they are
#
# For each setting prints the wall time, the maps' spills and the reduces'
# merge passes (counters "map spills", "merge passes": intermediate passes
# plus one final merge per reduce), the peak RSS (VmHWM) of each worker
# daemon, and the largest task child's peak ("max task memory bytes") when
# the job counts it. Checks that both settings give identical output.
# Exit status 1 when a run fails or the outputs differ.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
export BUILD_DIR
SIZE_MB=1024
WORK=/tmp/mr-bench-indexer
WORKERS=2
SLOTS=""
REDUCES=""
NO_BUILD=0

usage() {
  sed -n '7,8p' "${BASH_SOURCE[0]}" | sed 's/^#   /usage: /' >&2
  exit 2
}
die() {
  echo "indexer.sh: $*" >&2
  exit 1
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-mb) SIZE_MB=${2:?--size-mb needs a value}; shift 2 ;;
    --size-mb=*) SIZE_MB=${1#*=}; shift ;;
    --work) WORK=${2:?--work needs a value}; shift 2 ;;
    --work=*) WORK=${1#*=}; shift ;;
    --workers) WORKERS=${2:?--workers needs a value}; shift 2 ;;
    --workers=*) WORKERS=${1#*=}; shift ;;
    --slots) SLOTS=${2:?--slots needs a value}; shift 2 ;;
    --slots=*) SLOTS=${1#*=}; shift ;;
    --reduces) REDUCES=${2:?--reduces needs a value}; shift 2 ;;
    --reduces=*) REDUCES=${1#*=}; shift ;;
    --no-build) NO_BUILD=1; shift ;;
    -h|--help) usage ;;
    *) echo "indexer.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[[ "$SIZE_MB" =~ ^[1-9][0-9]*$ ]] || die "--size-mb must be a positive integer"
[[ "$WORKERS" =~ ^[1-9][0-9]*$ ]] || die "--workers must be a positive integer"
[[ -z "$REDUCES" || "$REDUCES" =~ ^[1-9][0-9]*$ ]] || die "--reduces must be a positive integer"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
BIN=$BUILD_DIR/bin
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"

# ------------------------------------------------------------------ build

build() { bench_build mr-master mr-worker mrctl; }

# ------------------------------------------------------------------ corpus

# Documents, as an indexer's input is: whole Gutenberg books, one per file
# (DIR/corpus/dNNNNN.txt, book i mod 8), until SIZE_MB MiB. The indexer
# emits one record per distinct word per document, so its map output is
# about as large as its input and the data path (sort buffer, spills,
# merges) carries the load. corpus.stamp records what was built; a corpus
# matching it is reused.
make_corpus() {
  local src=$REPO/../shared/data/gutenberg
  [[ -d "$src" ]] || src=$REPO/tests/data/gutenberg
  local books=("$src"/pg-*.txt)
  [[ -f "${books[0]}" ]] || die "no Gutenberg books in $src"
  local dir=$WORK/corpus stamp=$WORK/corpus.stamp
  if [[ -f "$stamp" && -d "$dir" ]]; then
    local want have
    want=$(grep -m1 '^bytes=' "$stamp" | cut -d= -f2 || true)
    have=$(find "$dir" -name 'd*.txt' -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }')
    if grep -qx "size_mb=$SIZE_MB" "$stamp" && [[ "$have" == "$want" ]]; then
      echo "reusing corpus $dir" >&2
      return
    fi
  fi
  echo "building a ${SIZE_MB} MiB corpus in $dir" >&2
  rm -rf "$dir" "$stamp"
  mkdir -p "$dir"
  local sizes=() b
  for b in "${books[@]}"; do sizes+=("$(stat -c %s "$b")"); done
  local target=$((SIZE_MB * 1048576)) size=0 n=0 i
  while ((size < target)); do
    i=$((n % ${#books[@]}))
    cp "${books[i]}" "$dir/$(printf 'd%05d.txt' "$n")"
    size=$((size + sizes[i]))
    n=$((n + 1))
  done
  printf 'size_mb=%s\nbytes=%s\nfiles=%s\nsource=%s\n' "$SIZE_MB" "$size" "$n" \
    "$src" >"$stamp"
}

# ------------------------------------------------------------------ runs

mib() { awk -v n="$1" 'BEGIN { printf "%.1f MiB", n / 1048576 }'; }

# counter JSONFILE NAME: the job counter's value, or "" when absent.
counter() {
  jq -r --arg n "$2" '.counters[$n] // empty' "$1"
}

CLUSTER_ROOT=""
stop_cluster() {
  if [[ -n "$CLUSTER_ROOT" ]]; then
    "$REPO/deploy/local/cluster.sh" stop --root "$CLUSTER_ROOT" >&2 || true
    CLUSTER_ROOT=""
  fi
}
trap stop_cluster EXIT

# Peak RSS of each worker daemon of the running cluster, "worker-1 N MiB, ...".
worker_peaks() {
  local f pid hwm out=()
  for f in "$CLUSTER_ROOT"/worker-*.pid; do
    pid=$(cat "$f")
    hwm=$(awk '/^VmHWM:/ { print $2 * 1024 }' "/proc/$pid/status" 2>/dev/null || true)
    out+=("$(basename "$f" .pid) $(mib "${hwm:-0}")")
  done
  local IFS=','
  echo "${out[*]}" | sed 's/,/, /g'
}

# run NAME [SUBMIT FLAGS...]: a fresh cluster, one indexer job, the report.
run() {
  local name=$1
  shift
  CLUSTER_ROOT=$WORK/cluster-$name
  "$REPO/deploy/local/cluster.sh" stop --root "$CLUSTER_ROOT" >&2 2>/dev/null || true
  rm -rf "$CLUSTER_ROOT" "$WORK/out-$name"
  "$REPO/deploy/local/cluster.sh" start --root "$CLUSTER_ROOT" --workers "$WORKERS" \
    ${SLOTS:+--slots "$SLOTS"} >&2
  local master
  master=$(head -n 1 "$CLUSTER_ROOT/master.addr")
  echo "running the indexer ($name: ${*:-defaults})" >&2
  local t0 t1
  t0=$(now)
  if ! "$BIN/mrctl" --master "$master" submit --app indexer --input "$CORPUS" \
      --output "$WORK/out-$name" ${REDUCES:+--reduces "$REDUCES"} "$@" --wait --json \
      >"$WORK/$name.json" 2>"$WORK/$name.stderr"; then
    cat "$WORK/$name.json" >&2
    tail -n 20 "$WORK/$name.stderr" >&2
    die "the $name job failed (logs in $CLUSTER_ROOT/logs)"
  fi
  t1=$(now)
  local peaks task_peak
  peaks=$(worker_peaks)
  stop_cluster
  local secs maps spills passes merged
  secs=$(elapsed "$t0" "$t1")
  maps=$(jq -r '.mapsTotal' "$WORK/$name.json")
  spills=$(counter "$WORK/$name.json" "map spills")
  passes=$(counter "$WORK/$name.json" "merge passes")
  merged=$(counter "$WORK/$name.json" "merged bytes written")
  task_peak=$(counter "$WORK/$name.json" "max task memory bytes")
  printf '%s (%s):\n' "$name" "${*:-defaults}"
  printf '  wall time:            %s s, %s MB/s\n' "$secs" "$(mbps "$BYTES" "$secs")"
  printf '  maps:                 %s\n' "$maps"
  printf '  map spills:           %s\n' "${spills:-0}"
  printf '  merge passes:         %s (intermediate bytes written: %s)\n' \
    "${passes:-0}" "$(mib "${merged:-0}")"
  printf '  worker daemon VmHWM:  %s\n' "$peaks"
  if [[ -n "$task_peak" ]]; then
    printf '  largest task peak:    %s\n' "$(mib "$task_peak")"
  else
    printf '  largest task peak:    (no "max task memory bytes" counter)\n'
  fi
}

build
make_corpus
CORPUS=$WORK/corpus
NUM_DOCS=$(grep -m1 '^files=' "$WORK/corpus.stamp" | cut -d= -f2)
BYTES=$(cat "$CORPUS"/d*.txt | wc -c)  # also warms the page cache for both runs
printf 'corpus: %d documents, %d bytes (%.1f MiB)\n' "$NUM_DOCS" "$BYTES" \
  "$(awk -v n="$BYTES" 'BEGIN { print n / 1048576 }')"

run default
run small --sort-buffer-mb 16 --merge-factor 8

parts_a=("$WORK"/out-default/part-r-*)
parts_b=("$WORK"/out-small/part-r-*)
[[ -f "${parts_a[0]}" ]] || die "the default job wrote no part files"
[[ ${#parts_a[@]} == "${#parts_b[@]}" ]] || die "the two jobs wrote different numbers of part files"
for ((i = 0; i < ${#parts_a[@]}; i++)); do
  cmp -s "${parts_a[i]}" "${parts_b[i]}" ||
    die "outputs differ: ${parts_a[i]} vs ${parts_b[i]}"
done
echo "outputs identical ($(cat "${parts_a[@]}" | wc -l) lines)"
