#!/usr/bin/env bash
# A real one-node SLURM cluster on loopback, for the redun-slurm tests.
#
#   bash .ci/setup-slurm.sh              # install slurm-wlm and munge (as root)
#   bash .ci/setup-slurm.sh start DIR    # install, then start a cluster in DIR
#   bash .ci/setup-slurm.sh stop DIR     # stop the cluster started in DIR
#
# `start` writes everything under DIR (munge key and socket, slurm.conf,
# state, spool, logs), picks free ports for slurmctld and slurmd, starts
# munged, slurmctld and slurmd, waits until the node takes jobs, and prints
# `export SLURM_CONF=DIR/slurm.conf`: with it, sbatch/squeue/scancel talk to
# this cluster only. The daemons' PIDs are in DIR/pids; `stop` ends exactly
# those. Nothing outside DIR is touched, so other clusters (or other test
# sessions' clusters) on the machine are left alone. REDUN_SLURM_CPUS and
# REDUN_SLURM_MEMORY_MB set the node's size (default: this machine's CPUs,
# 4000 MB); partition `debug` is the default, `short` allows 1 minute.
set -euo pipefail

install() {
  local need=() pkg
  for pkg in slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      need+=("$pkg")
  done
  if [ "${#need[@]}" -gt 0 ]; then
    echo "setup-slurm: installing ${need[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${need[@]}" >&2
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The daemon logs' last lines, for a start that failed.
show_logs() {
  local dir=$1 log
  for log in "$dir"/munge/munged.log "$dir"/log/*.log; do
    [ -f "$log" ] && { echo "--- $log" >&2; tail -n 5 "$log" >&2; }
  done
  return 0
}

start() {
  local dir node cpus memory ctld_port slurmd_port deadline state
  dir=$(mkdir -p "$1" && cd "$1" && pwd)
  node=$(hostname)
  cpus=${REDUN_SLURM_CPUS:-$(nproc)}
  memory=${REDUN_SLURM_MEMORY_MB:-4000}
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  : >"$dir/pids"

  # munged wants its key, socket and log in a directory only it may write,
  # which everyone may enter (clients reach the socket through it).
  chown munge:munge "$dir/munge"
  chmod 0755 "$dir/munge"
  runuser -u munge -- mungekey --create --keyfile="$dir/munge/munge.key" --force
  runuser -u munge -- munged --foreground --socket="$dir/munge/munge.socket" \
    --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/munged.pid" \
    --seed-file="$dir/munge/munged.seed" --log-file="$dir/munge/munged.log" \
    </dev/null >/dev/null 2>&1 &
  echo "munged $!" >>"$dir/pids"
  deadline=$((SECONDS + 20))
  until [ -S "$dir/munge/munge.socket" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "setup-slurm: munged did not start" >&2; show_logs "$dir"; return 1; }
    sleep 0.1
  done

  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done
  cat >"$dir/slurm.conf" <<EOF
ClusterName=redun-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
SchedulerType=sched/backfill
# Start batch jobs at once (the default batches them for up to 3 s).
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=500
MinJobAge=3600
KillWait=2
InactiveLimit=0
# The node may claim more CPUs than the machine has (benchmarks of many short jobs).
SlurmdParameters=config_overrides
ReturnToService=2
MaxArraySize=1001
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
PartitionName=short Nodes=$node MaxTime=1 State=UP
EOF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -D -i -f "$SLURM_CONF" </dev/null >>"$dir/log/slurmctld.out" 2>&1 &
  echo "slurmctld $!" >>"$dir/pids"
  slurmd -D -f "$SLURM_CONF" -N "$node" </dev/null >>"$dir/log/slurmd.out" 2>&1 &
  echo "slurmd $!" >>"$dir/pids"

  deadline=$((SECONDS + 60))
  while :; do
    state=$(sinfo --noheader --nodes="$node" --format=%T 2>/dev/null || true)
    case "$state" in idle | mixed | allocated) break ;; esac
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "setup-slurm: node $node did not become idle (state: ${state:-none})" >&2
      show_logs "$dir"
      stop "$dir"
      return 1
    fi
    sleep 0.2
  done
  echo "export SLURM_CONF=$SLURM_CONF"
}

stop() {
  local dir=$1 pids pid alive
  [ -f "$dir/pids" ] || return 0
  # Only the daemons this directory's `start` launched, all at once (each takes
  # about 2 s to shut down), then SIGKILL whatever is still there after 5 s.
  pids=$(awk '{ print $2 }' "$dir/pids")
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    alive=""
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ -n "$alive" ] || break
    sleep 0.1
  done
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -f "$dir/pids"
}

case "${1:-install}" in
  install) install ;;
  start) [ -n "${2:-}" ] || { echo "usage: $0 start DIR" >&2; exit 2; }; install; start "$2" ;;
  stop) [ -n "${2:-}" ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
  *) echo "usage: $0 [install | start DIR | stop DIR]" >&2; exit 2 ;;
esac
