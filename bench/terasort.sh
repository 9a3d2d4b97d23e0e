#!/usr/bin/env bash
# TeraSort benchmark: the local cluster (master + workers) against GNU sort
# on the same gensort records, then a memory check at a larger size.
#
#   bench/terasort.sh [--records N] [--big-records N] [--maps M] [--reduces R]
#                     [--workers N] [--slots S] [--root DIR] [--keep]
#                     [--no-build | --bin DIR]
#
#   --records N      main run, default 10000000 (1 GB): teragen N ASCII
#                    records, terasort them on the cluster, sort the same
#                    records with `LC_ALL=C sort --parallel=2 -S 50%`, check
#                    both outputs are byte-identical, teravalidate
#   --big-records N  big run, default 40000000 (4 GB): teragen, terasort and
#                    teravalidate only; fails when a worker daemon's or a
#                    task's peak RSS reaches 1 GiB. 0 skips it
#   --maps M         teragen maps (so part files), default 4
#   --reduces R      terasort reduces (part files), default 4
#   --workers N      workers in the local cluster, default 2
#   --slots S        task slots per worker, default: cluster.sh's (cores/workers)
#   --root DIR       scratch dir, default /tmp/mr-bench-terasort: DIR/main and
#                    DIR/big (records, outputs, the cluster and its logs)
#   --keep           keep the scratch data (default: removed at the end; on
#                    failure only the logs and job statuses are kept)
#   --no-build       do not run ninja; use the binaries as they are
#   --bin DIR        use the binaries in DIR (implies --no-build)
#
# Binaries come from $BUILD_DIR (default REPO/build); missing or stale ones
# are built first (under the shared build lock when flock exists).
#
# Each run uses a fresh cluster. Times are wall times: teragen and terasort
# are `mrctl submit --wait` (terasort's includes its sampling); GNU sort reads
# teragen's part files and writes its output to a file in the scratch dir,
# as the cluster writes its part files. Prints, per run: the times and MB/s
# (MB = 10^6 bytes), "ratio (sort/terasort)" (> 1: the cluster is faster),
# each worker daemon's VmHWM per job (reset before each job when the kernel
# allows, else cumulative), and the largest task child's peak ("max ...
# task memory bytes" counters). Checks teragen's and teravalidate's record
# counts and "record checksum" counters agree. Refuses to start when the
# scratch file system lacks room (see need_bytes). Exit status 1 when a job
# or a check fails, 2 on a usage error.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
export BUILD_DIR
RECORDS=10000000
BIG_RECORDS=40000000
MAPS=4
REDUCES=4
WORKERS=2
SLOTS=""
ROOT=/tmp/mr-bench-terasort
KEEP=0
NO_BUILD=0
BIN=""
RECORD_BYTES=100
MEM_LIMIT=$((1 << 30))
SORT_CMD=(sort --parallel=2 -S 50%)  # run under LC_ALL=C

usage() {
  sed -n '5,7p' "${BASH_SOURCE[0]}" | sed '1s/^#   /usage: /; 2,$s/^#/    /' >&2
  exit 2
}
die() {
  echo "terasort.sh: $*" >&2
  exit 1
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --records) RECORDS=${2:?--records needs a value}; shift 2 ;;
    --records=*) RECORDS=${1#*=}; shift ;;
    --big-records) BIG_RECORDS=${2:?--big-records needs a value}; shift 2 ;;
    --big-records=*) BIG_RECORDS=${1#*=}; shift ;;
    --maps) MAPS=${2:?--maps needs a value}; shift 2 ;;
    --maps=*) MAPS=${1#*=}; shift ;;
    --reduces) REDUCES=${2:?--reduces needs a value}; shift 2 ;;
    --reduces=*) REDUCES=${1#*=}; shift ;;
    --workers) WORKERS=${2:?--workers needs a value}; shift 2 ;;
    --workers=*) WORKERS=${1#*=}; shift ;;
    --slots) SLOTS=${2:?--slots needs a value}; shift 2 ;;
    --slots=*) SLOTS=${1#*=}; shift ;;
    --root) ROOT=${2:?--root needs a value}; shift 2 ;;
    --root=*) ROOT=${1#*=}; shift ;;
    --keep) KEEP=1; shift ;;
    --no-build) NO_BUILD=1; shift ;;
    --bin) BIN=${2:?--bin needs a value}; NO_BUILD=1; shift 2 ;;
    --bin=*) BIN=${1#*=}; NO_BUILD=1; shift ;;
    -h|--help) usage ;;
    *) echo "terasort.sh: unknown argument: $1" >&2; usage ;;
  esac
done
posint='^[1-9][0-9]*$'
[[ "$RECORDS" =~ $posint ]] || die "--records must be a positive integer"
[[ "$BIG_RECORDS" == 0 || "$BIG_RECORDS" =~ $posint ]] || die "--big-records must be a non-negative integer"
[[ "$MAPS" =~ $posint ]] || die "--maps must be a positive integer"
[[ "$REDUCES" =~ $posint ]] || die "--reduces must be a positive integer"
[[ "$WORKERS" =~ $posint ]] || die "--workers must be a positive integer"
[[ -z "$SLOTS" || "$SLOTS" =~ $posint ]] || die "--slots must be a positive integer"
# The scratch dir itself goes at the end (when empty) if it is the default or
# this run made it.
ROOT_EXISTED=0
[[ "$ROOT" == /tmp/mr-bench-terasort || ! -d "$ROOT" ]] || ROOT_EXISTED=1
mkdir -p "$ROOT"
ROOT=$(cd "$ROOT" && pwd)
[[ "$ROOT" != / ]] || die "--root must not be /"
BIN=${BIN:-$BUILD_DIR/bin}
[[ -d "$BIN" ]] && BIN=$(cd "$BIN" && pwd)
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"

# ------------------------------------------------------------------ cleanup

# The foreground command being waited for (see run_child), so that a signal
# can stop it rather than wait for it.
CHILD=""
RUN_DIRS=()  # run dirs this script made, for the cleanup
FAILED=1     # cleared when everything passed

# run_child OUT ERR CMD...: runs CMD in the background, its stdout to file
# OUT and stderr to file ERR ("-": this script's), and waits for it; returns
# its exit status. (Not a redirection of the call: the traps would inherit
# it.)
run_child() {
  local out=$1 err=$2
  shift 2
  [[ "$out" != - ]] || out=/dev/fd/1
  [[ "$err" != - ]] || err=/dev/fd/2
  "$@" >"$out" 2>"$err" &
  CHILD=$!
  local rc=0
  wait "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}

# remove_run_data DIR: everything in a run dir but the cluster's logs and
# the jobs' statuses and progress (NAME.json, NAME.stderr).
remove_run_data() {
  find "$1" -mindepth 1 -maxdepth 1 ! -name '*.json' ! -name '*.stderr' \
    ! -name cluster -exec rm -rf {} +
  [[ ! -d "$1/cluster" ]] ||
    find "$1/cluster" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$CHILD" ]]; then
    kill -TERM "$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
  fi
  bench_cluster_stop
  if ((!KEEP)); then
    local d
    for d in "${RUN_DIRS[@]}"; do
      [[ -d "$d" ]] || continue
      if ((FAILED)); then
        remove_run_data "$d"
        echo "terasort.sh: logs and job statuses kept in $d" >&2
      else
        rm -rf "$d"
      fi
    done
    ((ROOT_EXISTED)) || rmdir "$ROOT" 2>/dev/null || true  # when empty
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ disk

# need_bytes RECORDS WITH_GNU_SORT: scratch bytes a run may need at its peak,
# for D = RECORDS * 100 bytes of records: D of teragen output, D of
# terasort output, 2D of intermediate data (the maps' spills in the
# workers' RocksDB shuffle stores, uncompressed in the worst case, plus the
# reduces' merge runs), and with GNU sort its output, D, and its temporary
# files, up to D more when the records do not fit in its buffer; plus
# 1 GiB of headroom (logs, RocksDB's write-ahead logs and compactions).
need_bytes() {
  local d=$(($1 * RECORD_BYTES)) n=4
  (($2)) && n=6
  echo $((n * d + (1 << 30)))
}
free_bytes() { df -P -B1 "$ROOT" | awk 'NR == 2 { print $4 }'; }
gb() { awk -v n="$1" 'BEGIN { printf "%.1f GB", n / 1e9 }'; }

# check_disk NEED WHAT: refuses unless the scratch file system has NEED free.
check_disk() {
  local free
  free=$(free_bytes)
  if ((free < $1)); then
    die "not enough free disk in $ROOT for $2: need $(gb "$1"), have $(gb "$free") \
($(df -P "$ROOT" | awk 'NR == 2 { print $6 }')). Use --root on a larger file system, \
fewer records, or --big-records 0"
  fi
}

# ------------------------------------------------------------------ runs

# submit RUNDIR NAME MRCTL-SUBMIT-FLAGS...: runs one job with --wait --json;
# RUNDIR/NAME.json gets its final status. Sets SECS. Dies when it fails,
# with the tail of its progress and of the daemons' logs.
submit() {
  local dir=$1 name=$2
  shift 2
  echo "running $name" >&2
  local t0 t1 rc=0
  t0=$(now)
  run_child "$dir/$name.json" "$dir/$name.stderr" \
    "$BIN/mrctl" --master "$MASTER" submit "$@" --overwrite --wait --json || rc=$?
  t1=$(now)
  SECS=$(elapsed "$t0" "$t1")
  if ((rc != 0)); then
    jq -r '"state \(.state) \(.error)"' "$dir/$name.json" >&2 2>/dev/null || true
    tail -n 10 "$dir/$name.stderr" >&2
    local log
    for log in "$BENCH_CLUSTER"/logs/*.log; do
      echo "---- last lines of $log ----" >&2
      tail -n 10 "$log" >&2
    done
    [[ "$name" == teravalidate* && -f "$dir/validate/part-r-00000" ]] &&
      sed 's/^/  teravalidate report: /' "$dir/validate/part-r-00000" >&2
    die "the $name job failed (exit status $rc; logs in $BENCH_CLUSTER/logs)"
  fi
}

# reset_worker_peaks: restarts each worker daemon's VmHWM, so that the next
# worker_peaks reports the next job alone. HWM_NOTE says when it cannot.
HWM_NOTE=""
reset_worker_peaks() {
  local name pid
  while read -r name pid; do
    reset_vm_hwm "$pid" || HWM_NOTE=" (cumulative: VmHWM cannot be reset here)"
  done < <(bench_worker_pids)
}

# worker_peaks: sets PEAKS to "worker-1 N MiB, worker-2 M MiB"; adds each
# worker daemon at or over MEM_LIMIT to OVER (so: not in a subshell).
OVER=()
PEAKS=""
worker_peaks() {
  local name pid hwm out=()
  while read -r name pid; do
    hwm=$(vm_hwm "$pid")
    [[ -n "$hwm" ]] || die "$name (pid $pid) is gone"
    out+=("$name $(mib "$hwm")")
    ((hwm < MEM_LIMIT)) || OVER+=("$CUR_JOB: $name daemon $(mib "$hwm")")
  done < <(bench_worker_pids)
  join_peaks "${out[@]}"
}
join_peaks() {
  PEAKS=""
  local p
  for p in "$@"; do PEAKS+=${PEAKS:+, }$p; done
}

# task_peaks JSONFILE: sets PEAKS to the job's largest task child peaks
# ("max map task memory bytes", "max reduce task memory bytes"); adds those
# at or over MEM_LIMIT to OVER, and a missing "max task memory bytes" too.
task_peaks() {
  local kind v out=()
  for kind in map reduce; do
    v=$(job_counter "$1" "max $kind task memory bytes")
    [[ -n "$v" ]] || continue
    out+=("$kind $(mib "$v")")
    ((v < MEM_LIMIT)) || OVER+=("$CUR_JOB: a $kind task $(mib "$v")")
  done
  if [[ -z "$(job_counter "$1" "max task memory bytes")" ]]; then
    OVER+=("$CUR_JOB: no \"max task memory bytes\" counter")
    out+=("(no \"max task memory bytes\" counter)")
  fi
  join_peaks "${out[@]}"
}

# plural N WORD: "1 map", "4 maps".
plural() { if (($1 == 1)); then echo "$1 $2"; else echo "$1 ${2}s"; fi; }
# line LABEL TEXT: one line of a run's report.
line() { printf '  %-24s %s\n' "$1" "$2"; }

# run LABEL RECORDS WITH_GNU_SORT: one run on a fresh cluster, its report on
# stdout. With WITH_GNU_SORT=0 (the big run) it fails when a peak RSS
# reaches MEM_LIMIT.
run() {
  local label=$1 records=$2 gnu=$3
  local dir=$ROOT/$label bytes=$(($2 * RECORD_BYTES))
  rm -rf "$dir"
  mkdir -p "$dir"
  RUN_DIRS+=("$dir")
  check_disk "$(need_bytes "$records" "$gnu")" "the $label run ($records records)"
  bench_cluster_start "$dir/cluster" --workers "$WORKERS" ${SLOTS:+--slots "$SLOTS"}
  OVER=()
  local -A hwm task
  local gen_s sort_s gnu_s val_s

  CUR_JOB=teragen
  reset_worker_peaks
  submit "$dir" teragen --app teragen --maps "$MAPS" --param records="$records" \
    --param format=ascii --output "$dir/gen"
  gen_s=$SECS
  worker_peaks
  hwm[teragen]=$PEAKS
  task_peaks "$dir/teragen.json"
  task[teragen]=$PEAKS
  local gen_records gen_sum
  gen_records=$(job_counter "$dir/teragen.json" "teragen records")
  gen_sum=$(job_counter "$dir/teragen.json" "record checksum")
  [[ "$gen_records" == "$records" ]] ||
    die "teragen counted ${gen_records:-no} records, not $records"
  local parts=("$dir"/gen/part-m-*)
  local have
  have=$(cat "${parts[@]}" | wc -c)  # also warms the page cache for both sorts
  [[ "$have" == "$bytes" ]] || die "teragen wrote $have bytes, not $bytes"

  CUR_JOB=terasort
  reset_worker_peaks
  submit "$dir" terasort --app terasort --input "$dir/gen" --output "$dir/sorted" \
    --reduces "$REDUCES"
  sort_s=$SECS
  worker_peaks
  hwm[terasort]=$PEAKS
  task_peaks "$dir/terasort.json"
  task[terasort]=$PEAKS

  if ((gnu)); then
    echo "running LC_ALL=C ${SORT_CMD[*]}" >&2
    mkdir -p "$dir/sort-tmp"
    local t0 t1
    t0=$(now)
    run_child - - env LC_ALL=C "${SORT_CMD[@]}" -T "$dir/sort-tmp" -o "$dir/gnu.sorted" \
      "${parts[@]}" || die "GNU sort failed"
    t1=$(now)
    gnu_s=$(elapsed "$t0" "$t1")
    rm -rf "$dir/sort-tmp"
    echo "comparing the outputs" >&2
    local sorted=("$dir"/sorted/part-r-*)
    [[ ${#sorted[@]} == "$REDUCES" ]] ||
      die "terasort wrote ${#sorted[@]} part files, not $REDUCES"
    if ! cat "${sorted[@]}" | cmp -s - "$dir/gnu.sorted"; then
      cat "${sorted[@]}" | cmp - "$dir/gnu.sorted" >&2 || true
      KEEP=1
      die "terasort's output ($dir/sorted/part-r-*, concatenated) differs from GNU sort's ($dir/gnu.sorted); kept $ROOT"
    fi
    rm -f "$dir/gnu.sorted"
  fi

  CUR_JOB=teravalidate
  reset_worker_peaks
  submit "$dir" teravalidate --app teravalidate --input "$dir/sorted" \
    --output "$dir/validate"
  val_s=$SECS
  worker_peaks
  hwm[teravalidate]=$PEAKS
  task_peaks "$dir/teravalidate.json"
  task[teravalidate]=$PEAKS
  local val_records val_sum
  val_records=$(job_counter "$dir/teravalidate.json" "teravalidate records")
  val_sum=$(job_counter "$dir/teravalidate.json" "record checksum")
  [[ "$val_records" == "$records" ]] ||
    die "teravalidate counted ${val_records:-no} records, not $records"
  [[ -n "$gen_sum" && "$val_sum" == "$gen_sum" ]] ||
    die "record checksums differ: teragen ${gen_sum:-none}, teravalidate ${val_sum:-none}"
  bench_cluster_stop

  local maps spills passes shuffle
  maps=$(jq -r '.mapsTotal' "$dir/terasort.json")
  spills=$(job_counter "$dir/terasort.json" "map spills")
  passes=$(job_counter "$dir/terasort.json" "merge passes")
  shuffle=$(job_counter "$dir/terasort.json" "shuffle bytes")

  printf '%s run: %d records, %d bytes (%s), %d workers\n' "$label" "$records" \
    "$bytes" "$(mib "$bytes")" "$WORKERS"
  line "teragen:" "$gen_s s, $(mbps "$bytes" "$gen_s") MB/s ($(plural "$MAPS" map))"
  line "terasort:" "$sort_s s, $(mbps "$bytes" "$sort_s") MB/s ($(plural "$maps" map),\
 $(plural "$REDUCES" reduce);\
 map spills ${spills:-0}, merge passes ${passes:-0}, shuffle $(mib "${shuffle:-0}"))"
  if ((gnu)); then
    line "GNU sort:" "$gnu_s s, $(mbps "$bytes" "$gnu_s") MB/s (LC_ALL=C ${SORT_CMD[*]})"
    line "ratio (sort/terasort):" \
      "$(awk -v g="$gnu_s" -v t="$sort_s" 'BEGIN { printf "%.2f", g / t }')x (> 1: terasort is faster)"
    line "outputs identical:" "yes ($bytes bytes)"
  fi
  line "teravalidate:" "$val_s s, $val_records records, checksum $val_sum (= teragen's)"
  local job
  printf '  worker daemon VmHWM%s:\n' "$HWM_NOTE"
  for job in teragen terasort teravalidate; do
    line "  $job" "${hwm[$job]}"
  done
  printf '  largest task peak RSS (max task memory bytes):\n'
  for job in teragen terasort teravalidate; do
    line "  $job" "${task[$job]}"
  done
  if ((!gnu)); then
    if ((${#OVER[@]})); then
      printf '  memory limit %s: FAIL\n' "$(mib "$MEM_LIMIT")"
      printf '    %s\n' "${OVER[@]}"
      BIG_FAILED=1
      return  # the cleanup keeps the logs
    else
      printf '  memory limit %s: ok (every worker daemon and task stayed under it)\n' \
        "$(mib "$MEM_LIMIT")"
    fi
  fi
  ((KEEP)) || rm -rf "$dir"
}

bench_build mr-master mr-worker mrctl
command -v jq >/dev/null || die "jq not found (deploy/install_deps.sh installs it)"

# What a previous run left must not count against the disk check.
for d in "$ROOT/main" "$ROOT/big"; do
  "$REPO/deploy/local/cluster.sh" stop --root "$d/cluster" >/dev/null 2>&1 || true
  rm -rf "$d"
done
main_need=$(need_bytes "$RECORDS" 1)
big_need=0
((BIG_RECORDS == 0)) || big_need=$(need_bytes "$BIG_RECORDS" 0)
if ((KEEP)); then
  check_disk $((main_need + big_need)) "both runs with --keep ($(gb "$main_need") + $(gb "$big_need"))"
else
  check_disk $((main_need > big_need ? main_need : big_need)) \
    "the runs ($(gb "$main_need") for the main one, $(gb "$big_need") for the big one)"
fi

BIG_FAILED=0
run main "$RECORDS" 1
((BIG_RECORDS == 0)) || run big "$BIG_RECORDS" 0
((BIG_FAILED)) && exit 1
FAILED=0
