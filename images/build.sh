#!/usr/bin/env bash
# Build the container image that runs redun tasks, without any image registry.
#
#   images/build.sh [IMAGE]      (default localhost/redun:dev; `make image IMAGE=...`)
#
# 1. A Debian bookworm rootfs from debootstrap (python3, venv, CA certificates),
#    cached as build/image/base-<key>.tar and imported once as a podman image.
# 2. Wheels of this checkout's distributions, and their dependencies' wheels for
#    bookworm's CPython 3.11 (downloaded from the package index, or pip's cache).
# 3. `podman build` on top of the base: the wheels are installed offline
#    (--no-index) into /opt/redun, so the build needs no network.
#
# IMAGE_PLUGINS="aws k8s" picks plugins by name (the core always comes along);
# DISTS lists distribution folders instead (default: core and redun-docker). Each
# plugin's SDK (boto3 for aws, ...) comes as wheels from its pyproject's
# dependencies; no `aws` CLI is needed (S3 staging uses `redun fs cp`).
# REBUILD_BASE=1 redoes the debootstrap step; DRY_RUN=1 prints the distributions.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
image="${1:-${IMAGE:-localhost/redun:dev}}"
dists="${DISTS:-core plugins/redun-docker}"
if [ -n "${IMAGE_PLUGINS:-}" ]; then
  dists="core"
  for plugin in $IMAGE_PLUGINS; do
    plugin="${plugin#redun-}"
    if [ ! -f "$root/plugins/redun-$plugin/pyproject.toml" ]; then
      known="$(cd "$root/plugins" && ls -d redun-* | sed 's/^redun-//' | tr '\n' ' ')"
      echo "image: unknown plugin '$plugin' in IMAGE_PLUGINS (known: $known)" >&2
      exit 2
    fi
    dists+=" plugins/redun-$plugin"
  done
fi
if [ -n "${DRY_RUN:-}" ]; then
  echo "$dists"
  exit 0
fi
work="$root/build/image"
python="${PYTHON:-python3}"
[ -x "$root/.venv/bin/python" ] && python="$root/.venv/bin/python"

# shellcheck source=/dev/null
source "$root/.ci/setup-podman.sh"

suite=bookworm
include=python3,python3-venv,ca-certificates
key="$(printf '%s %s' "$suite" "$include" | sha256sum | cut -c1-12)"
base_tar="$work/base-$key.tar"
base_image="localhost/redun-base:$key"
mkdir -p "$work"

if [ -n "${REBUILD_BASE:-}" ] || ! podman image exists "$base_image"; then
  if [ ! -s "$base_tar" ] || [ -n "${REBUILD_BASE:-}" ]; then
    echo "image: debootstrap $suite (cached in $base_tar)" >&2
    rootfs="$(mktemp -d "$work/rootfs.XXXXXX")"
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase --include="$include" "$suite" "$rootfs" \
      http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
      { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$base_tar.tmp" .
    mv "$base_tar.tmp" "$base_tar"
    rm -rf "$rootfs"
    trap - EXIT
  fi
  # Importing under the same tag leaves any previous base untagged, not removed,
  # so images and containers built on it keep working.
  echo "image: importing $base_image" >&2
  podman import "$base_tar" "$base_image" >/dev/null
fi

context="$work/context"
rm -rf "$context"
mkdir -p "$context/wheels"
paths=()
for dist in $dists; do paths+=("$root/$dist"); done
echo "image: building wheels for $dists" >&2
"$python" -m pip wheel -q --no-deps --wheel-dir "$context/wheels" "${paths[@]}" >&2
names=()
for dist in $dists; do
  names+=("$(sed -n 's/^name = "\(.*\)"/\1/p' "$root/$dist/pyproject.toml" | head -n 1)")
done
# Dependencies as wheels for the image's Python (bookworm: CPython 3.11), whatever
# Python runs this script.
arch="$(uname -m)"
platforms=()
for tag in manylinux_2_36 manylinux_2_28 manylinux_2_17 manylinux2014; do
  platforms+=(--platform "${tag}_$arch")
done
"$python" -m pip download -q --only-binary=:all: --implementation cp --python-version 3.11 \
  --abi cp311 --abi abi3 --abi none "${platforms[@]}" --find-links "$context/wheels" \
  --dest "$context/wheels" "${names[@]}" >&2

cat >"$context/Containerfile" <<CONTAINERFILE
FROM $base_image
LABEL redun.image=build.sh
COPY wheels /tmp/wheels
RUN python3 -m venv /opt/redun \\
 && /opt/redun/bin/pip install -q --no-index --no-cache-dir --find-links /tmp/wheels ${names[*]} \\
 && rm -rf /tmp/wheels
ENV PATH=/opt/redun/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    LANG=C.UTF-8
WORKDIR /job
CMD ["redun", "--version"]
CONTAINERFILE

echo "image: podman build $image" >&2
podman build -q --network host -t "$image" "$context" >/dev/null
# The image this build replaced under the same tag is now dangling: drop it.
podman image prune -f --filter label=redun.image=build.sh >/dev/null
podman run --rm --network host "$image" redun --version
