# shellcheck shell=bash
# lib.sh — shared by slurm/local/start.sh and stop.sh (sourced, not run).

# daemon_pid PIDFILE NAME: print the PID in PIDFILE when it is a live process whose
# command line contains NAME; return 1 otherwise. Zombies count as dead: PID 1 in these
# containers may not reap a stopped daemon at once.
daemon_pid() {
  local pid stat
  [[ -r $1 ]] || return 1
  pid=$(<"$1")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  # Fields after the last ')': the state is the first.
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]] || return 1
  [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$2"* ]] || return 1
  echo "$pid"
}
