#!/usr/bin/env bash
# Debian packages the test session needs (PostgreSQL server binaries, tmux).
set -euo pipefail
need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
command -v tmux >/dev/null || need+=(tmux)
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
