#!/usr/bin/env bash
# Runs the container image for real: a master and two workers, each its own
# podman container from localhost/mapreduce:latest (deploy/docker/), count
# the words of the Gutenberg books, submitted by mrctl from the image too.
# The output must equal a reference computed here independently, byte for
# byte.
#
#   tests/container/image_test.sh     (as root; build the image first with
#                                      deploy/docker/build_image.sh)
#
# The daemons are configured as deploy/k8s/base runs them: mutual TLS
# (certificates from deploy/tls/make_dev_certs.sh, mounted read-only at
# /etc/mapreduce/tls), a tokens file (mrctl authenticates with a `submit`
# token), inputs confined to /data/in (the books, read-only) and outputs to
# /data/out, the same paths in the master and the workers. Every container
# runs as the image's user (uid 10001) with a read-only root filesystem, a
# tmpfs /tmp, no capabilities and no-new-privileges: the manifests'
# securityContext. The network is the host's, everything bound to 127.0.0.1
# on ports the OS picks, each daemon writing its address to a file on its
# own volume (host directories under a temporary root). SIGTERM must then
# stop each daemon, PID 1 of its container, with exit code 0. Every
# container and directory made here is removed on exit.
#
# Environment: MR_IMAGE (default localhost/mapreduce:latest), MR_DATA_DIR
# (the books, default REPO/../shared/data/gutenberg), MR_PODMAN_RUNTIME
# (default runc: crun refuses this machine's hybrid cgroup hierarchy).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IMAGE=${MR_IMAGE:-localhost/mapreduce:latest}
BOOKS=${MR_DATA_DIR:-$REPO/../shared/data/gutenberg}
RUNTIME=${MR_PODMAN_RUNTIME:-runc}
REDUCES=3
START_TIMEOUT_S=60
JOB_TIMEOUT_S=300
# The Gutenberg figures tests/wordcount_test.cc (ReferenceTest) asserts.
EXPECTED_WORDS=22107
EXPECTED_TOTAL=623948

fail() {
  echo "image_test: FAIL: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || fail "run as root (rootful podman; the volumes are chowned to uid 10001)"
command -v podman >/dev/null || fail "no podman: deploy/install_deps.sh installs it"
podman image exists "$IMAGE" || fail "no image $IMAGE: build it with deploy/docker/build_image.sh"
BOOKS=$(cd "$BOOKS" 2>/dev/null && pwd) || fail "no Gutenberg corpus at $BOOKS"
compgen -G "$BOOKS/pg-*.txt" >/dev/null || fail "no pg-*.txt in $BOOKS"

started=$(date +%s)
TAG="mr-image-test-$$"
ROOT=$(mktemp -d /var/tmp/mr-image-test.XXXXXX)
containers=()

cleanup() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    for c in "${containers[@]}"; do
      echo "---- podman logs --tail 30 $c ----" >&2
      podman logs --tail 30 "$c" >&2 2>&1 || true
    done
  fi
  for c in "${containers[@]}"; do
    podman rm --force --time 5 "$c" >/dev/null 2>&1 || true
  done
  rm -rf "$ROOT"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Per daemon a volume mounted at /var/lib/mapreduce (state or data dir and
# its address file); one shared /data/out for the job's output.
mkdir -p "$ROOT/master" "$ROOT/worker-1" "$ROOT/worker-2" "$ROOT/out" "$ROOT/secrets"
chown 10001:10001 "$ROOT/master" "$ROOT/worker-1" "$ROOT/worker-2" "$ROOT/out"

# The Secrets: the dev CA and daemon certificate (SANs localhost and
# 127.0.0.1), and a tokens file with one `submit` token. Readable by uid
# 10001 only, as Kubernetes' fsGroup would make them.
"$REPO/deploy/tls/make_dev_certs.sh" "$ROOT/tls" >/dev/null
mkdir "$ROOT/secrets/tls"
cp "$ROOT/tls/ca.crt" "$ROOT/tls/daemon.crt" "$ROOT/tls/daemon.key" "$ROOT/secrets/tls/"
token=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
printf '%s submit image-test\n' "$token" >"$ROOT/secrets/tokens"
printf '%s\n' "$token" >"$ROOT/secrets/token"
chown -R 10001:10001 "$ROOT/secrets"
chmod -R go-rwx "$ROOT/secrets"

# The securityContext of the manifests, as podman flags.
# shellcheck disable=SC2054  # the commas are --tmpfs options
run_flags=(
  --runtime "$RUNTIME" --network host
  --user 10001:10001 --read-only --tmpfs /tmp:rw,nosuid,nodev,size=64m
  --cap-drop ALL --security-opt no-new-privileges
  --ulimit nofile=20000:20000 --ulimit nproc=32768:32768
  --label "$TAG"
  --volume "$ROOT/secrets:/etc/mapreduce:ro"
)
tls=(--tls_ca=/etc/mapreduce/tls/ca.crt --tls_cert=/etc/mapreduce/tls/daemon.crt
  --tls_key=/etc/mapreduce/tls/daemon.key)
roots=(--allowed_input_roots=/data/in --allowed_output_roots=/data/out)
data_mounts=(--volume "$BOOKS:/data/in:ro" --volume "$ROOT/out:/data/out")

start_daemon() {  # start_daemon NAME VOLUME_DIR ARGS...
  local name="$TAG-$1" dir=$2
  shift 2
  containers+=("$name")
  podman run --detach --name "$name" "${run_flags[@]}" "${data_mounts[@]}" \
    --volume "$dir:/var/lib/mapreduce" "$IMAGE" "$@" >/dev/null
}

running() { [[ $(podman inspect --format '{{.State.Running}}' "$1" 2>/dev/null) == true ]]; }

wait_for_file() {  # wait_for_file FILE CONTAINER
  local deadline=$((SECONDS + START_TIMEOUT_S))
  until [[ -s "$1" ]]; do
    running "$2" || fail "container $2 exited before writing $1"
    ((SECONDS < deadline)) || fail "no $1 within ${START_TIMEOUT_S}s"
    sleep 0.2
  done
}

mrctl() {  # mrctl ARGS...: mrctl from the image, a client with the CA and a token
  podman run --rm "${run_flags[@]}" "$IMAGE" mrctl --master "$master_addr" \
    --tls_ca /etc/mapreduce/tls/ca.crt --token_file /etc/mapreduce/token "$@"
}

start_daemon master "$ROOT/master" mr-master --bind_host=127.0.0.1 --port=0 \
  --state_dir=/var/lib/mapreduce/state --address_file=/var/lib/mapreduce/master.addr \
  "${tls[@]}" --tokens_file=/etc/mapreduce/tokens "${roots[@]}"
wait_for_file "$ROOT/master/master.addr" "$TAG-master"
master_addr=$(cat "$ROOT/master/master.addr")
for i in 1 2; do
  start_daemon "worker-$i" "$ROOT/worker-$i" mr-worker --master="$master_addr" \
    --bind_host=127.0.0.1 --advertise_host=127.0.0.1 --port=0 --slots=1 \
    --data_dir=/var/lib/mapreduce/data --address_file=/var/lib/mapreduce/worker.addr \
    "${tls[@]}" "${roots[@]}"
done
for i in 1 2; do
  wait_for_file "$ROOT/worker-$i/worker.addr" "$TAG-worker-$i"
done

# The daemons run as the image's user, whatever podman was asked.
for c in "${containers[@]}"; do
  pid=$(podman inspect --format '{{.State.Pid}}' "$c")
  uid=$(ps -o uid= -p "$pid" | tr -d ' ')
  [[ "$uid" == 10001 ]] || fail "$c runs as uid $uid, not 10001"
  [[ $(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$c") == true ]] ||
    fail "$c has a writable root filesystem"
done

# Both workers registered, each under the address it wrote.
want=$(sort "$ROOT/worker-1/worker.addr" "$ROOT/worker-2/worker.addr")
deadline=$((SECONDS + START_TIMEOUT_S))
while :; do
  got=$(mrctl workers --json | jq -r '.workers[].address' | sort) || got=""
  [[ "$got" == "$want" ]] && break
  ((SECONDS < deadline)) || fail "workers listed: [$got], want [$want]"
  sleep 0.5
done

# The configuration took: the master runs TLS (no plaintext warning) and a
# client without a token is refused (UNAUTHENTICATED: mrctl exit code 4).
if podman logs "$TAG-master" 2>&1 | grep -q 'WITHOUT TLS'; then
  fail "the master runs without TLS"
fi
code=0
podman run --rm "${run_flags[@]}" "$IMAGE" mrctl --master "$master_addr" \
  --tls_ca /etc/mapreduce/tls/ca.crt workers >/dev/null 2>&1 || code=$?
[[ $code -eq 4 ]] || fail "mrctl without a token exited with $code, want 4"

# The reference: a word is a maximal run of ASCII letters, case kept
# (apps/wordcount.h); one "word count" line per word, in byte order.
python3 - "$BOOKS" >"$ROOT/expected" <<'PY'
import collections, glob, re, sys
counts = collections.Counter()
for path in sorted(glob.glob(sys.argv[1] + "/pg-*.txt")):
    with open(path, "rb") as f:
        counts.update(re.findall(rb"[A-Za-z]+", f.read()))
sys.stdout.buffer.write(b"".join(b"%s %d\n" % (w, n) for w, n in sorted(counts.items())))
PY
[[ $(wc -l <"$ROOT/expected") -eq $EXPECTED_WORDS ]] || fail "reference: not $EXPECTED_WORDS words"
[[ $(awk '{s += $2} END {print s}' "$ROOT/expected") -eq $EXPECTED_TOTAL ]] ||
  fail "reference: not $EXPECTED_TOTAL words in all"

# The glob is the master's to expand, inside its container. Named, so that
# the cleanup removes it should the timeout leave it behind.
containers+=("$TAG-submit")
status=$(timeout "$JOB_TIMEOUT_S" podman run --rm --name "$TAG-submit" "${run_flags[@]}" \
  "$IMAGE" mrctl --master "$master_addr" --tls_ca /etc/mapreduce/tls/ca.crt \
  --token_file /etc/mapreduce/token submit --app wordcount --input '/data/in/pg-*.txt' \
  --output /data/out/wc --reduces "$REDUCES" --wait --json) ||
  fail "mrctl submit --wait failed: $status"
state=$(jq -r '.state' <<<"$status")
[[ "$state" == JOB_SUCCEEDED ]] || fail "job state $state: $status"

# The output: _SUCCESS and part-r-00000.. part-r-0000{REDUCES-1}, nothing else.
want_entries=$(printf '%s\n' _SUCCESS $(seq -f 'part-r-%05g' 0 $((REDUCES - 1))) | LC_ALL=C sort)
got_entries=$(ls -A "$ROOT/out/wc" | LC_ALL=C sort)
[[ "$got_entries" == "$want_entries" ]] || fail "output entries: $got_entries"
cat "$ROOT"/out/wc/part-r-* | LC_ALL=C sort >"$ROOT/got"
cmp -s "$ROOT/got" "$ROOT/expected" || {
  diff "$ROOT/expected" "$ROOT/got" | head -n 10 >&2
  fail "output differs from the reference"
}

# SIGTERM (podman stop) ends each daemon cleanly: the workers drain (idle
# now, so at once), then the master.
for c in "$TAG-worker-2" "$TAG-worker-1" "$TAG-master"; do
  podman stop --time 30 "$c" >/dev/null
  code=$(podman inspect --format '{{.State.ExitCode}}' "$c")
  [[ "$code" == 0 ]] || fail "$c exited with $code after SIGTERM"
done

echo "image_test: PASS: master + 2 workers from $IMAGE (TLS, token, path roots)," \
  "word count of $(ls "$BOOKS"/pg-*.txt | wc -l) books equal to the reference" \
  "($EXPECTED_WORDS words), $(($(date +%s) - started))s"
