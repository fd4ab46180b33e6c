#!/usr/bin/env bash
# stop.sh — stop the one-node Slurm that slurm/local/start.sh started.
#
#   slurm/local/stop.sh            (same $HPCML_SLURM_DIR as start.sh)
#
# Cancels the jobs still queued or running (so no job outlives its cluster),
# then stops slurmd, slurmctld and munged by the PIDs in $HPCML_SLURM_DIR/run,
# TERM first and KILL after a grace time. A PID is only signalled when it is
# still the daemon it names. Zombies count as stopped: PID 1 here may not reap
# them at once, so `ps` may still list them for a moment. Safe to run twice.
set -uo pipefail

D=${HPCML_SLURM_DIR:-/tmp/hpcml-slurm}
say() { echo "slurm/local/stop.sh: $*" >&2; }
[[ -d $D ]] || exit 0
D=$(cd "$D" && pwd)

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# stop_daemon NAME: TERM, wait up to 5 s, then KILL.
stop_daemon() {
  local f=$D/run/$1.pid pid
  pid=$(daemon_pid "$f" "$1") || { rm -f "$f"; return 0; }
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 50); do
    daemon_pid "$f" "$1" >/dev/null || break
    sleep 0.1
  done
  if daemon_pid "$f" "$1" >/dev/null; then
    say "$1 ($pid) ignored SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    sleep 0.2
  fi
  rm -f "$f"
}

conf=$D/etc/slurm.conf
if [[ -r $conf ]] && daemon_pid "$D/run/slurmctld.pid" slurmctld >/dev/null &&
  command -v scancel >/dev/null; then
  export SLURM_CONF=$conf
  jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')
  if [[ -n ${jobs// /} ]]; then
    # shellcheck disable=SC2086 # a list of job ids
    scancel $jobs 2>/dev/null
    # KillWait=5: running jobs get TERM, then KILL 5 s later.
    for _ in $(seq 150); do
      [[ -z $(squeue -h -o %A -t PD,R,CG,S,CF,RQ,RS,RF,RH,SE 2>/dev/null) ]] && break
      sleep 0.1
    done
  fi
fi

stop_daemon slurmd
stop_daemon slurmctld
stop_daemon munged
# A socket directory of its own under /tmp (start.sh: when $D is not searchable by all).
if [[ -r $conf ]]; then
  sock_dir=$(sed -n 's|^AuthInfo=socket=\(/tmp/hpcml-munge-[0-9a-f]*\)/munge.socket.2.*|\1|p' "$conf")
  [[ -n $sock_dir ]] && rm -rf "$sock_dir"
fi
exit 0
