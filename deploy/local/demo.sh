#!/usr/bin/env bash
# Builds the engine, starts a local cluster (master + 2 workers), counts the
# words of the Gutenberg books with the built-in wordcount app, and prints the
# ten most frequent words.
#
#   demo.sh [--keep]
#
# The cluster is stopped at the end unless --keep is given.
# Environment: MR_DEMO_ROOT (default /tmp/mr-demo) holds the cluster's state,
# logs and the job's output; BUILD_DIR overrides the build directory.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROOT=${MR_DEMO_ROOT:-/tmp/mr-demo}
BIN=${BUILD_DIR:-$REPO/build}/bin
CLUSTER=$REPO/deploy/local/cluster.sh
KEEP=0

for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown argument: $arg (usage: demo.sh [--keep])" >&2; exit 2 ;;
  esac
done

"$REPO/deploy/build.sh"

shopt -s nullglob
books=("$REPO"/../shared/data/gutenberg/pg-*.txt)
shopt -u nullglob
((${#books[@]} > 0)) || { echo "demo.sh: no corpus found: ../shared/data/gutenberg/pg-*.txt beside the repository" >&2; exit 1; }
for i in "${!books[@]}"; do  # absolute paths without the ../
  books[i]=$(cd "$(dirname "${books[i]}")" && pwd)/$(basename "${books[i]}")
done

mkdir -p "$ROOT"
ROOT=$(cd "$ROOT" && pwd)
OUT=$ROOT/wordcount-out

"$CLUSTER" stop --root "$ROOT" --bin "$BIN"  # a cluster left over from an earlier run
"$CLUSTER" start --root "$ROOT" --workers 2 --bin "$BIN"
if ((KEEP == 0)); then
  trap '"$CLUSTER" stop --root "$ROOT" --bin "$BIN"' EXIT
fi
MASTER=$(head -n 1 "$ROOT/master.addr")

echo
echo "wordcount over ${#books[@]} books:"
"$BIN/mrctl" --master "$MASTER" submit --app wordcount --input "${books[@]}" \
  --output "$OUT" --overwrite --wait

echo
echo "ten most frequent words:"
# sed, not head: it reads to the end, so sort never dies of SIGPIPE (pipefail).
cat "$OUT"/part-* | LC_ALL=C sort -k2,2nr -k1,1 | sed -n '1,10p'

echo
echo "output: $OUT (part-*)"
if ((KEEP)); then
  echo "Cluster still running (master $MASTER): stop it with deploy/local/cluster.sh stop --root $ROOT"
else
  echo "Cluster stopped (run with --keep to leave it running)."
fi
