# shellcheck shell=bash
# slurm_lib.sh — sourced by the Slurm tests after lib.sh: a private one-node Slurm
# (slurm/local/start.sh) that is stopped on exit, even on failure, and helpers to
# follow jobs. Not a test itself (no test_ prefix).
#
#   source "$(dirname "$0")/slurm_lib.sh"
#   slurm_up PORT_BASE CPUS      start it in $TMP/slurm on PORT_BASE + 2*(PID % 50)
#   job_field ID FIELD           one field of `scontrol show job -o ID`
#   wait_job ID [SECONDS]        poll (0.2 s) until the job is final; sets st and rc
#   run_job SBATCH-ARGS...       submit, wait_job; sets id, st and rc
# shellcheck disable=SC2034 # id, st and rc are read by the tests that source this

# _slurm_down: the EXIT trap. Stops the cluster, then fails the test when any process
# of this cluster (its directory is on the command line of every daemon and job script)
# is still alive 5 s later.
_slurm_down() {
  local rc=$? left
  ((rc == 0)) || echo "test script exited $rc; stopping its Slurm" >&2
  "$SRC/slurm/local/stop.sh"
  # A job process that Slurm has just killed may take a moment to go: 5 s of grace.
  for _ in $(seq 50); do
    left=$(pgrep -d, -f -- "$HPCML_SLURM_DIR/" || true)
    [[ -z $left ]] && break
    sleep 0.1
  done
  if [[ -n $left ]]; then
    echo "FAIL: processes of the test's Slurm still running after stop.sh:" >&2
    ps -o pid,ppid,stat,etime,cmd -p "$left" >&2 || true
    rc=1
  fi
  rm -rf "$TMP"
  exit "$rc"
}

# slurm_up PORT_BASE CPUS: start the cluster (root only: otherwise the test exits 77, skipped).
# Each test has its own PORT_BASE, so tests never meet each other or a demo cluster.
slurm_up() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP: the local Slurm runs its daemons as root"
    exit 77 # skipped (SKIP_RETURN_CODE of the slurm label), never a pass
  fi
  local p t0=$SECONDS
  for p in munged slurmctld slurmd sbatch scontrol; do
    command -v "$p" >/dev/null || fail "$p missing: run scripts/setup.sh --test"
  done
  export HPCML_SLURM_DIR=$TMP/slurm
  export HPCML_SLURM_PORT=$(($1 + ($$ % 50) * 2))
  export HPCML_SLURM_CPUS=$2
  trap _slurm_down EXIT
  eval "$("$SRC/slurm/local/start.sh")"
  [[ -n ${SLURM_CONF:-} ]] || fail "start.sh printed no SLURM_CONF"
  pass "local Slurm up in $((SECONDS - t0)) s ($2 CPUs advertised, port $HPCML_SLURM_PORT)"
}

# job_field ID FIELD: captured first, so no SIGPIPE under pipefail.
job_field() {
  local out
  out=$(scontrol show job -o "$1")
  sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$out"
}

# wait_job ID [SECONDS]: until the job's state is final (default limit 300 s); st = the
# state, rc = its exit code. sbatch --wait polls at 2 s and more, which adds up.
wait_job() {
  local n=$((${2:-300} * 5))
  st="" rc=""
  for _ in $(seq "$n"); do
    st=$(job_field "$1" JobState)
    case $st in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) break ;; esac
    sleep 0.2
  done
  rc=$(job_field "$1" ExitCode)
  rc=${rc%%:*}
}

run_job() {
  id=$(sbatch --parsable "$@") || fail "sbatch refused: $*"
  wait_job "$id"
}
