#!/usr/bin/env bash
# Debian packages the test session needs (PostgreSQL server binaries, tmux, Java for PySpark).
set -euo pipefail
need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
command -v tmux >/dev/null || need+=(tmux)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)  # PySpark (redun-aws Glue test)
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
