#!/usr/bin/env bash
# Installs the Debian 12 packages the engine needs to build, test and run.
# Idempotent: prints nothing and changes nothing when all are present.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev liblz4-dev zlib1g-dev libsimdjson-dev libabsl-dev libgtest-dev libgmock-dev libssl-dev
  clang libclang-rt-14-dev
  libyaml-cpp-dev libre2-dev
  postgresql-15 libpqxx-dev
  iproute2 iptables procps util-linux jq openssl
  podman buildah debootstrap uidmap fuse-overlayfs slirp4netns runc containernetworking-plugins
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done
# Node.js and npm install the pinned tools of the Kubernetes manifest test
# (tests/k8s/validate_manifests.sh). Any node >= 18 will do: Debian's only
# when there is none (a nodejs from elsewhere would conflict with Debian's npm).
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "install_deps.sh: missing packages: ${missing[*]}" >&2
  echo "install_deps.sh: not root and no sudo; install them as root with apt-get" >&2
  exit 1
fi

echo "install_deps.sh: installing ${missing[*]}"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
