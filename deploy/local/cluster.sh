#!/usr/bin/env bash
# A local MapReduce cluster: one mr-master and N mr-worker daemons on
# 127.0.0.1 (ports picked by the OS), everything kept under one root dir.
#
#   cluster.sh start  --root DIR [--workers N] [--slots S] [--bin DIR]
#     (default slots per worker: this machine's cores divided among the workers)
#   cluster.sh stop   --root DIR
#   cluster.sh status --root DIR [--bin DIR]
#
# Layout of DIR:
#   master/  worker-1/ .. worker-N/   state / data dirs
#   master.addr  worker-i.addr        "host:port" each daemon writes once serving
#   master.pid   worker-i.pid         pids of the daemons this script started
#   logs/master.log  logs/worker-i.log
#
# Binaries: --bin DIR, else $BUILD_DIR/bin, else REPO/build/bin.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
START_TIMEOUT_S=30
STOP_TIMEOUT_S=10

usage() {
  sed -n '5,7p' "${BASH_SOURCE[0]}" | sed 's/^#   /usage: /' >&2
  exit 2
}

die() {
  echo "cluster.sh: $*" >&2
  exit 1
}

# ---------------------------------------------------------------- helpers

# True when the pid in pid file $1 is a live mr-master/mr-worker process.
pid_file_alive() {
  local pid
  [[ -f "$1" ]] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  is_our_daemon "$pid"
}

# True when $1 is a live (not zombie) process running one of our daemons
# (guards against a recycled pid belonging to something else).
is_our_daemon() {
  local stat args
  read -r stat args < <(ps -o stat=,args= -p "$1" 2>/dev/null) || return 1
  [[ "$stat" != Z* ]] || return 1
  [[ "$args" == *mr-master* || "$args" == *mr-worker* ]]
}

log_tail() {  # log_tail NAME LOGFILE
  echo "---- last lines of $2 ($1) ----" >&2
  tail -n 25 "$2" >&2 2>/dev/null || echo "(no log)" >&2
  echo "----" >&2
}

# launch NAME PIDFILE LOGFILE BINARY ARGS...: starts a daemon detached from
# this shell (own session, immune to SIGHUP), stdout+stderr to LOGFILE.
launch() {
  local name=$1 pid_file=$2 log=$3
  shift 3
  # Not being a process-group leader (no job control in a script), setsid
  # execs in place, so $! is the daemon's own pid.
  setsid nohup "$@" >"$log" 2>&1 </dev/null &
  echo $! >"$pid_file"
}

# stop_pid_file PIDFILE: SIGTERM, wait up to STOP_TIMEOUT_S, then SIGKILL
# (to the daemon's process group, which holds any task children it left).
stop_pid_file() {
  local pid_file=$1 pid name
  name=$(basename "$pid_file" .pid)
  if pid_file_alive "$pid_file"; then
    pid=$(cat "$pid_file")
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT_S))
    while is_our_daemon "$pid" && ((SECONDS < deadline)); do
      sleep 0.1
    done
    if is_our_daemon "$pid"; then
      echo "cluster.sh: $name (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT_S}s; sending SIGKILL" >&2
      if [[ "$(ps -o pgid= -p "$pid" | tr -d ' ')" == "$pid" ]]; then
        kill -KILL -- "-$pid" 2>/dev/null || true
      else
        kill -KILL "$pid" 2>/dev/null || true
      fi
      deadline=$((SECONDS + STOP_TIMEOUT_S))
      while is_our_daemon "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
      is_our_daemon "$pid" && echo "cluster.sh: $name (pid $pid) survived SIGKILL" >&2
    fi
  fi
  rm -f "$pid_file"
}

# stop_all: workers first (they finish talking to the master), then master.
stop_all() {
  local f
  for f in "$ROOT"/worker-*.pid; do
    [[ -e "$f" ]] || continue
    if pid_file_alive "$f"; then kill -TERM "$(cat "$f")" 2>/dev/null || true; fi
  done
  for f in "$ROOT"/worker-*.pid; do
    [[ -e "$f" ]] && stop_pid_file "$f"
  done
  stop_pid_file "$ROOT/master.pid"
}

count_workers() {  # count_workers ADDR: workers the master lists
  local json
  json=$("$BIN/mrctl" --master "$1" workers --json 2>/dev/null) || { echo 0; return 0; }
  { grep -o '"workerId"' <<<"$json" || true; } | wc -l
}

# fail_start MESSAGE NAME LOGFILE: report, stop what was started, exit 1.
fail_start() {
  echo "cluster.sh: $1" >&2
  [[ -n "${3:-}" ]] && log_tail "$2" "$3"
  stop_all
  exit 1
}

# ---------------------------------------------------------------- commands

cmd_start() {
  [[ "$WORKERS" =~ ^[1-9][0-9]*$ ]] || die "--workers must be a positive integer"
  [[ -z "$SLOTS" || "$SLOTS" =~ ^[1-9][0-9]*$ ]] || die "--slots must be a positive integer"
  local b
  for b in mr-master mr-worker mrctl; do
    [[ -x "$BIN/$b" ]] || die "$BIN/$b not found; build first (deploy/build.sh) or pass --bin"
  done
  if pid_file_alive "$ROOT/master.pid"; then
    die "a cluster is already running at $ROOT (master pid $(cat "$ROOT/master.pid")); stop it first"
  fi
  local f
  for f in "$ROOT"/worker-*.pid; do
    [[ -e "$f" ]] || continue
    pid_file_alive "$f" && die "a worker is still running at $ROOT ($(basename "$f") pid $(cat "$f")); stop it first"
    rm -f "$f"
  done

  mkdir -p "$ROOT/master" "$ROOT/logs"
  rm -f "$ROOT/master.addr" "$ROOT"/worker-*.addr

  local master_log="$ROOT/logs/master.log"
  launch master "$ROOT/master.pid" "$master_log" \
    "$BIN/mr-master" --state_dir="$ROOT/master" --address_file="$ROOT/master.addr" --port=0

  local deadline=$((SECONDS + START_TIMEOUT_S))
  until [[ -s "$ROOT/master.addr" ]]; do
    pid_file_alive "$ROOT/master.pid" || fail_start "mr-master exited during startup" master "$master_log"
    ((SECONDS < deadline)) || fail_start "mr-master wrote no $ROOT/master.addr within ${START_TIMEOUT_S}s" master "$master_log"
    sleep 0.1
  done
  local addr
  addr=$(head -n 1 "$ROOT/master.addr")

  # All workers share this machine's cores: by default each gets its share
  # (at least one slot), so task processes do not oversubscribe the CPU.
  if [[ -z "$SLOTS" ]]; then
    SLOTS=$(( $(nproc) / WORKERS ))
    ((SLOTS >= 1)) || SLOTS=1
  fi
  local i slot_args=(--slots="$SLOTS")
  for ((i = 1; i <= WORKERS; i++)); do
    mkdir -p "$ROOT/worker-$i"
    launch "worker-$i" "$ROOT/worker-$i.pid" "$ROOT/logs/worker-$i.log" \
      "$BIN/mr-worker" --master="$addr" --data_dir="$ROOT/worker-$i" \
      --address_file="$ROOT/worker-$i.addr" --port=0 "${slot_args[@]}"
  done

  deadline=$((SECONDS + START_TIMEOUT_S))
  local n=0
  while :; do
    pid_file_alive "$ROOT/master.pid" || fail_start "mr-master exited" master "$master_log"
    for ((i = 1; i <= WORKERS; i++)); do
      pid_file_alive "$ROOT/worker-$i.pid" ||
        fail_start "mr-worker $i exited during startup" "worker-$i" "$ROOT/logs/worker-$i.log"
    done
    n=$(count_workers "$addr")
    ((n >= WORKERS)) && break
    if ((SECONDS >= deadline)); then
      echo "cluster.sh: only $n of $WORKERS workers registered with the master within ${START_TIMEOUT_S}s" >&2
      log_tail master "$master_log"
      for ((i = 1; i <= WORKERS; i++)); do log_tail "worker-$i" "$ROOT/logs/worker-$i.log"; done
      stop_all
      exit 1
    fi
    sleep 0.2
  done
  echo "cluster up: master $addr, $WORKERS workers (logs in $ROOT/logs)"
}

cmd_stop() {
  [[ -d "$ROOT" ]] || return 0
  stop_all
}

cmd_status() {
  local f name pid state addr any_down=0
  if [[ ! -e "$ROOT/master.pid" ]] && ! compgen -G "$ROOT/worker-*.pid" >/dev/null; then
    echo "no cluster at $ROOT"
    return 1
  fi
  for f in "$ROOT/master.pid" "$ROOT"/worker-*.pid; do
    [[ -e "$f" ]] || continue
    name=$(basename "$f" .pid)
    pid=$(cat "$f" 2>/dev/null || echo "?")
    addr=$(head -n 1 "$ROOT/$name.addr" 2>/dev/null || echo "-")
    if pid_file_alive "$f"; then state=running; else state=DOWN; any_down=1; fi
    printf '%-10s pid %-8s %-8s %s\n' "$name" "$pid" "$state" "$addr"
  done
  if pid_file_alive "$ROOT/master.pid" && [[ -x "$BIN/mrctl" ]]; then
    echo
    "$BIN/mrctl" --master "$(head -n 1 "$ROOT/master.addr")" workers || any_down=1
  fi
  return "$any_down"
}

# ---------------------------------------------------------------- main

[[ $# -ge 1 ]] || usage
COMMAND=$1
shift
ROOT=""
WORKERS=2
SLOTS=""
BIN=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) ROOT=${2:?--root needs a value}; shift 2 ;;
    --root=*) ROOT=${1#*=}; shift ;;
    --workers) WORKERS=${2:?--workers needs a value}; shift 2 ;;
    --workers=*) WORKERS=${1#*=}; shift ;;
    --slots) SLOTS=${2:?--slots needs a value}; shift 2 ;;
    --slots=*) SLOTS=${1#*=}; shift ;;
    --bin) BIN=${2:?--bin needs a value}; shift 2 ;;
    --bin=*) BIN=${1#*=}; shift ;;
    -h|--help) usage ;;
    *) echo "cluster.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[[ -n "$ROOT" ]] || { echo "cluster.sh: --root DIR is required" >&2; usage; }
if [[ -z "$BIN" ]]; then
  if [[ -n "${BUILD_DIR:-}" ]]; then BIN=$BUILD_DIR/bin; else BIN=$REPO/build/bin; fi
fi
# Absolute paths: the daemons are started from here but must not depend on cwd.
[[ "$COMMAND" == start ]] && mkdir -p "$ROOT"
[[ -d "$ROOT" ]] && ROOT=$(cd "$ROOT" && pwd)
[[ -d "$BIN" ]] && BIN=$(cd "$BIN" && pwd)

case "$COMMAND" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "cluster.sh: unknown command: $COMMAND" >&2; usage ;;
esac
