#!/usr/bin/env bash
# Make `podman run` (and a `docker` that is podman) work on our machines.
#
# Idempotent. Run it (as root) to install the packages and write the config;
# source it, or eval its output, to get the environment:
#
#   bash .ci/setup-podman.sh                  # install + configure
#   source .ci/setup-podman.sh                # ... and export the env here
#   eval "$(bash .ci/setup-podman.sh --env)"  # configure, print `export` lines
#
# Why: podman's defaults fail here (no CAP_SYS_RESOURCE; crun cannot handle the
# hybrid cgroups) and only loopback is reachable, so containers use runc,
# cgroupfs and host networking. The `docker` on PATH is a CLI without a
# daemon, so a shim directory with `docker -> podman` goes first on PATH.
# Everything generated lives in build/podman/ (git-ignored), image storage
# included: each checkout has its own store, so two checkouts (or a test
# session and a developer's `make image`) never retag or prune each other's
# images or containers.

_redun_podman_main() {
  local root conf_dir packages need pkg
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  conf_dir="${REDUN_PODMAN_DIR:-$root/build/podman}"
  packages=(podman runc debootstrap uidmap slirp4netns fuse-overlayfs)
  need=()
  for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      need+=("$pkg")
  done
  if [ "${#need[@]}" -gt 0 ]; then
    echo "setup-podman: installing ${need[*]}" >&2
    apt-get update -qq >&2 || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${need[@]}" >&2 || return 1
  fi

  mkdir -p "$conf_dir/bin" || return 1
  cat >"$conf_dir/containers.conf" <<EOF
[containers]
netns = "host"
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$conf_dir/tmp"
EOF
  cat >"$conf_dir/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$conf_dir/storage"
runroot = "$conf_dir/run"
EOF
  ln -sfn "$(command -v podman)" "$conf_dir/bin/docker" || return 1
  cat >"$conf_dir/env.sh" <<EOF
export CONTAINERS_CONF="$conf_dir/containers.conf"
export CONTAINERS_STORAGE_CONF="$conf_dir/storage.conf"
export REDUN_PODMAN_SHIM="$conf_dir/bin"
case ":\$PATH:" in *":$conf_dir/bin:"*) ;; *) export PATH="$conf_dir/bin:\$PATH" ;; esac
EOF
  # shellcheck source=/dev/null
  . "$conf_dir/env.sh"
  if ! podman info >/dev/null 2>&1; then
    echo "setup-podman: podman is installed but 'podman info' fails:" >&2
    podman info 2>&1 | tail -n 3 >&2
    return 1
  fi
  if [ "${1:-}" = "--env" ]; then
    cat "$conf_dir/env.sh"
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  _redun_podman_main "$@"
else
  _redun_podman_main "$@"
fi
