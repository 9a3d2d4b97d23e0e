#!/usr/bin/env bash
# Word-count benchmark: the local cluster against the single-threaded
# baseline (bench/wc_baseline.cc) on the same corpus, with the outputs
# checked byte for byte.
#
#   bench/wordcount.sh [--size-mb N] [--work DIR] [--workers N] [--slots N]
#                      [--baseline-only] [--no-build]
#
#   --size-mb N      corpus size, default 1024 (16 files of N/16 MiB each,
#                    made of whole Gutenberg books, so "about" that size)
#   --work DIR       work dir, default /tmp/mr-bench: DIR/corpus (reused when
#                    it matches --size-mb), DIR/cluster, DIR/out, DIR/*.txt
#   --workers N      workers in the local cluster, default 2
#   --slots N        task slots per worker, default: the worker's (its cores)
#   --baseline-only  run only the baseline (no cluster)
#   --no-build       do not run ninja; use the binaries as they are
#
# Binaries come from $BUILD_DIR (default REPO/build); missing or stale ones
# are built first (under the shared build lock when flock exists).
# Prints the corpus size, both times and throughputs (MB = 10^6 bytes), and
# "ratio (cluster/baseline): X.XXx" = cluster throughput / baseline
# throughput. Exit status 1 when a run fails or the outputs differ.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
export BUILD_DIR
NUM_FILES=16
SIZE_MB=1024
WORK=/tmp/mr-bench
WORKERS=2
SLOTS=""
BASELINE_ONLY=0
NO_BUILD=0

usage() {
  sed -n '6,7p' "${BASH_SOURCE[0]}" | sed 's/^#   /usage: /' >&2
  exit 2
}
die() {
  echo "wordcount.sh: $*" >&2
  exit 1
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-mb) SIZE_MB=${2:?--size-mb needs a value}; shift 2 ;;
    --size-mb=*) SIZE_MB=${1#*=}; shift ;;
    --work) WORK=${2:?--work needs a value}; shift 2 ;;
    --work=*) WORK=${1#*=}; shift ;;
    --workers) WORKERS=${2:?--workers needs a value}; shift 2 ;;
    --slots) SLOTS=${2:?--slots needs a value}; shift 2 ;;
    --slots=*) SLOTS=${1#*=}; shift ;;
    --workers=*) WORKERS=${1#*=}; shift ;;
    --baseline-only) BASELINE_ONLY=1; shift ;;
    --no-build) NO_BUILD=1; shift ;;
    -h|--help) usage ;;
    *) echo "wordcount.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[[ "$SIZE_MB" =~ ^[1-9][0-9]*$ ]] || die "--size-mb must be a positive integer"
[[ "$WORKERS" =~ ^[1-9][0-9]*$ ]] || die "--workers must be a positive integer"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
BIN=$BUILD_DIR/bin
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"

# ------------------------------------------------------------------ build

build() {
  local targets=(wc_baseline)
  ((BASELINE_ONLY)) || targets+=(mr-master mr-worker mrctl)
  bench_build "${targets[@]}"
}

# ------------------------------------------------------------------ corpus

# NUM_FILES files of whole Gutenberg books, each file just past
# SIZE_MB/NUM_FILES MiB, file f starting at book f mod 8 (so files differ).
# corpus.stamp records what was built; a corpus matching it is reused.
make_corpus() {
  local src=${MR_DATA_DIR:-$REPO/../shared/data/gutenberg}
  local books=("$src"/pg-*.txt)
  [[ -f "${books[0]}" ]] || die "no Gutenberg books in $src"
  local dir=$WORK/corpus stamp=$WORK/corpus.stamp
  if [[ -f "$stamp" && -d "$dir" ]]; then
    local want have
    want=$(grep -m1 '^bytes=' "$stamp" | cut -d= -f2 || true)
    have=$(cat "$dir"/*.txt 2>/dev/null | wc -c)
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
  local target=$((SIZE_MB * 1048576 / NUM_FILES)) f i size
  for ((f = 0; f < NUM_FILES; f++)); do
    size=0
    i=$((f % ${#books[@]}))
    {
      while ((size < target)); do
        cat "${books[i]}"
        size=$((size + sizes[i]))
        i=$(((i + 1) % ${#books[@]}))
      done
    } >"$dir/$(printf 'chunk-%02d.txt' "$f")"
  done
  printf 'size_mb=%s\nbytes=%s\nsource=%s\n' "$SIZE_MB" \
    "$(cat "$dir"/*.txt | wc -c)" "$src" >"$stamp"
}

# ------------------------------------------------------------------ runs


CLUSTER_ROOT=$WORK/cluster
CLUSTER_STARTED=0
stop_cluster() {
  if ((CLUSTER_STARTED)); then
    "$REPO/deploy/local/cluster.sh" stop --root "$CLUSTER_ROOT" >&2 || true
    CLUSTER_STARTED=0
  fi
}
trap stop_cluster EXIT

build
make_corpus
CORPUS=("$WORK"/corpus/*.txt)
BYTES=$(cat "${CORPUS[@]}" | wc -c)  # also warms the page cache for both runs

echo "running the baseline" >&2
t0=$(now)
"$BIN/wc_baseline" --output "$WORK/baseline.txt" "${CORPUS[@]}" >"$WORK/baseline.stdout"
t1=$(now)
BASE_S=$(elapsed "$t0" "$t1")
sed 's/^/  baseline /' "$WORK/baseline.stdout" >&2

if ((!BASELINE_ONLY)); then
  "$REPO/deploy/local/cluster.sh" stop --root "$CLUSTER_ROOT" >&2 || true
  rm -rf "$CLUSTER_ROOT"
  CLUSTER_STARTED=1
  "$REPO/deploy/local/cluster.sh" start --root "$CLUSTER_ROOT" --workers "$WORKERS" \
    ${SLOTS:+--slots "$SLOTS"} >&2
  MASTER=$(head -n 1 "$CLUSTER_ROOT/master.addr")

  echo "running the cluster job" >&2
  t0=$(now)
  if ! "$BIN/mrctl" --master "$MASTER" submit --app wordcount --input "${CORPUS[@]}" \
      --output "$WORK/out" --overwrite --wait >"$WORK/submit.stdout" 2>"$WORK/submit.stderr"; then
    cat "$WORK/submit.stdout" >&2
    tail -n 20 "$WORK/submit.stderr" >&2
    die "the cluster job failed (logs in $CLUSTER_ROOT/logs)"
  fi
  t1=$(now)
  CLUSTER_S=$(elapsed "$t0" "$t1")
  stop_cluster

  parts=("$WORK"/out/part-*)
  [[ -f "${parts[0]}" ]] || die "the job wrote no part files in $WORK/out"
  cat "${parts[@]}" | LC_ALL=C sort >"$WORK/cluster.sorted"
  if ! cmp -s "$WORK/baseline.txt" "$WORK/cluster.sorted"; then
    diff "$WORK/baseline.txt" "$WORK/cluster.sorted" | head -n 20 >&2 || true
    die "cluster output differs from the baseline ($WORK/baseline.txt vs $WORK/cluster.sorted)"
  fi
  echo "outputs identical ($(wc -l <"$WORK/baseline.txt") lines)" >&2
fi

printf 'corpus: %d files, %d bytes (%.1f MiB)\n' "${#CORPUS[@]}" "$BYTES" \
  "$(awk -v n="$BYTES" 'BEGIN { print n / 1048576 }')"
printf 'baseline (1 thread): %s s, %s MB/s\n' "$BASE_S" "$(mbps "$BYTES" "$BASE_S")"
if ((!BASELINE_ONLY)); then
  printf 'cluster (%d workers): %s s, %s MB/s\n' "$WORKERS" "$CLUSTER_S" \
    "$(mbps "$BYTES" "$CLUSTER_S")"
  printf 'ratio (cluster/baseline): %sx\n' \
    "$(awk -v b="$BASE_S" -v c="$CLUSTER_S" 'BEGIN { printf "%.2f", b / c }')"
fi
