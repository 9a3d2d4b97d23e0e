#!/usr/bin/env bash
# Builds the container image (deploy/docker/Dockerfile) with podman, with no
# container registry: the Debian 12 base image is made here with debootstrap
# and imported, once (kept in podman's store and reused while it exists).
#
#   deploy/docker/build_image.sh [--base-only] [PODMAN_BUILD_ARGS...]
#     e.g. --no-cache to rebuild every layer (the C++ still hits ccache)
#
# Environment:
#   MR_IMAGE        the image to build (default localhost/mapreduce:latest)
#   MR_BASE_IMAGE   the base (default localhost/debian:bookworm-minbase)
#   DEBIAN_MIRROR   for debootstrap and the image's apt (default
#                   http://deb.debian.org/debian; security updates come
#                   from the matching debian-security)
#   CCACHE_DIR      the host's ccache, mounted into the build stage (default:
#                   ccache's own setting); MR_IMAGE_CCACHE=0 builds without it
#   JOBS            compile jobs in the build stage (default 2)
#
# Needs root (podman as root, debootstrap). The packages come from
# deploy/install_deps.sh. `podman build` runs with --isolation=chroot: these
# machines cannot give it the namespaces of the default OCI isolation.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IMAGE=${MR_IMAGE:-localhost/mapreduce:latest}
BASE_IMAGE=${MR_BASE_IMAGE:-localhost/debian:bookworm-minbase}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

base_only=0
if [[ "${1:-}" == "--base-only" ]]; then
  base_only=1
  shift
fi

"$REPO/deploy/install_deps.sh"

# The base: a minbase Debian 12 with apt pointed at the release, its updates
# and the security archive, no package lists or .debs left in it. A base
# made by an older version of this script stays until removed
# (podman rmi localhost/debian:bookworm-minbase).
make_base() {
  local dir
  dir=$(mktemp -d /var/tmp/mr-debootstrap.XXXXXX)
  [[ -d "$dir" && "$dir" == /var/tmp/mr-debootstrap.* ]] || exit 1
  # shellcheck disable=SC2064  # expand $dir now
  trap "rm -rf '$dir'" EXIT
  echo "build_image.sh: debootstrap bookworm into $dir (from $MIRROR)"
  debootstrap --variant=minbase bookworm "$dir" "$MIRROR" >"$dir.log" 2>&1 || {
    tail -n 30 "$dir.log" >&2
    echo "build_image.sh: debootstrap failed (log: $dir.log)" >&2
    exit 1
  }
  rm -f "$dir.log"
  cat >"$dir/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
EOF
  # Slim, as Debian's own -slim images: no manuals, documentation (but the
  # copyright files) or translations, now nor in what apt installs later.
  printf '%s\n' 'path-exclude /usr/share/doc/*' \
    'path-include /usr/share/doc/*/copyright' 'path-exclude /usr/share/man/*' \
    'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
    'path-include /usr/share/locale/locale.alias' 'path-exclude /usr/share/groff/*' \
    'path-exclude /usr/share/lintian/*' >"$dir/etc/dpkg/dpkg.cfg.d/01-mr-slim"
  local share="$dir/usr/share"
  find "$share/doc" -type f ! -name copyright -delete
  find "$share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  find "$share/man" "$share/info" "$share/groff" "$share/lintian" -mindepth 1 \
    -maxdepth 1 -exec rm -rf {} + 2>/dev/null || true
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/archives/*.deb \
    "$dir"/var/cache/apt/*.bin "$dir"/var/log/*.log "$dir"/var/log/apt/*
  tar -C "$dir" -c . | podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$dir"
  trap - EXIT
  echo "build_image.sh: imported $BASE_IMAGE"
}

if podman image exists "$BASE_IMAGE"; then
  echo "build_image.sh: base $BASE_IMAGE exists, kept"
else
  make_base
fi
[[ $base_only -eq 1 ]] && exit 0

volume_args=()
if [[ "${MR_IMAGE_CCACHE:-1}" != 0 ]]; then
  cache=${CCACHE_DIR:-$(ccache -k cache_dir)}
  mkdir -p "$cache"
  volume_args=(--volume "$cache:/ccache")
fi

# The context is the repository; .dockerignore keeps build trees and .git out.
cd "$REPO"
podman build --isolation=chroot "${volume_args[@]}" \
  --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg JOBS="${JOBS:-2}" \
  -f deploy/docker/Dockerfile -t "$IMAGE" "$@" .
echo "build_image.sh: built $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE") bytes)"
