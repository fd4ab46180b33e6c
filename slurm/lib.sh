# lib.sh — shared by slurm/*.sbatch, slurm/pipeline.sh and slurm/monitor.sh (sourced, not run).
#
# What it gives them:
#   hpcml_parse_args         CONFIG [-s section.key=value]... (the programs' contract)
#   hpcml_find_program NAME  $HPCML_PREFIX/bin/NAME, else this install's bin/NAME, else PATH
#   hpcml_load_config PROG   the effective config, from `PROG -c CONFIG -s ... --print-config`
#   hpcml_cfg section.key    one value of it (strings unquoted); no second config parser
#   hpcml_choose_launcher    srun --mpi=pmix, srun or mpirun inside the allocation
#   hpcml_run PROG [ARGS]    launch with signal forwarding, bounded retries of exit 3/4,
#                            requeue on exit 75 (or after a preemption signal)
#   hpcml_stage_hash STAGE   hash of the config sections a stage's outputs depend on
#   hpcml_mark_done FILE     stage marker, read by pipeline.sh to skip finished stages
#   hpcml_wait_job ID        poll until a job ended; "STATE EXIT" (hpcml_job_state: now)
#
# Exit codes (docs/exit-codes.md): 0 ok, 1 usage/config, 2 bad data, 3 I/O, 4 internal,
# 75 preempted. Only 3 and 4 are retried; 75 is requeued; 1 and 2 fail at once.
# Messages go to stderr, which Slurm writes into the job's log (-o).

HPCML_CFG=""
HPCML_SETS=()
HPCML_EFFECTIVE=""
HPCML_LAUNCH=()
HPCML_CHILD=""
HPCML_TRAPPED=0
HPCML_PREEMPTED=""
HPCML_STAGE=${HPCML_STAGE:-slurm}

hpcml_say() { echo "[$(date +%FT%T) hpcml-$HPCML_STAGE] $*" >&2; }
hpcml_die() { # CODE MESSAGE
  local code=$1
  shift
  hpcml_say "error: $*"
  exit "$code"
}

# ---- command line -----------------------------------------------------------------------
# hpcml_parse_args ARGS...: CONFIG [-s K=V | --set K=V | --set=K=V]... plus the options
# named in HPCML_EXTRA_OPTS ("--from-sweep --trial="): a flag sets HPCML_OPT_<name>=1,
# an option ending in '=' takes a value (HPCML_OPT_trial=N).
hpcml_parse_args() {
  local a name
  while (($#)); do
    a=$1
    case $a in
      -s | --set)
        (($# >= 2)) || hpcml_die 1 "$a needs section.key=value (usage: ${HPCML_USAGE:-})"
        HPCML_SETS+=(-s "$2")
        shift 2
        continue
        ;;
      --set=*) HPCML_SETS+=(-s "${a#--set=}") ;;
      -c | --config)
        (($# >= 2)) || hpcml_die 1 "$a needs a file"
        HPCML_CFG=$2
        shift 2
        continue
        ;;
      --config=*) HPCML_CFG=${a#--config=} ;;
      -h | --help)
        echo "usage: ${HPCML_USAGE:-}"
        exit 0
        ;;
      --*)
        name=${a#--}
        name=${name%%=*}
        if [[ " ${HPCML_EXTRA_OPTS:-} " == *" --$name= "* ]]; then
          if [[ $a == *=* ]]; then
            printf -v "HPCML_OPT_${name//-/_}" '%s' "${a#*=}"
          else
            (($# >= 2)) || hpcml_die 1 "$a needs a value"
            printf -v "HPCML_OPT_${name//-/_}" '%s' "$2"
            shift
          fi
        elif [[ " ${HPCML_EXTRA_OPTS:-} " == *" --$name "* && $a != *=* ]]; then
          printf -v "HPCML_OPT_${name//-/_}" '%s' 1
        else
          hpcml_die 1 "unknown option '$a' (usage: ${HPCML_USAGE:-})"
        fi
        ;;
      -*) hpcml_die 1 "unknown option '$a' (usage: ${HPCML_USAGE:-})" ;;
      *)
        [[ -z $HPCML_CFG ]] || hpcml_die 1 "one CONFIG only, got '$HPCML_CFG' and '$a'"
        HPCML_CFG=$a
        ;;
    esac
    shift
  done
  [[ -n $HPCML_CFG ]] || hpcml_die 1 "no CONFIG given (usage: ${HPCML_USAGE:-})"
}

# ---- programs and the effective config ------------------------------------------------------
# An installed copy of these scripts (cmake --install: P/share/hpcml/slurm) has
# install-paths.sh beside lib.sh, naming the install's bin/ relative to it; a source
# tree has none. HPCML_INSTALL_BIN is then that directory, else empty.
HPCML_INSTALL_BIN=""
_hpcml_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -r $_hpcml_lib_dir/install-paths.sh ]]; then
  HPCML_INSTALL_BIN_REL=""
  # shellcheck source=/dev/null
  source "$_hpcml_lib_dir/install-paths.sh"
  HPCML_INSTALL_BIN=$(cd "$_hpcml_lib_dir/$HPCML_INSTALL_BIN_REL" 2>/dev/null && pwd) || HPCML_INSTALL_BIN=""
fi

# hpcml_find_program NAME: print its path. $HPCML_PREFIX/bin first (a Spack or CMake
# install prefix, or a build tree: an explicit choice wins), then the bin/ of the install
# these scripts belong to (so P/share/hpcml/slurm runs P/bin's programs, even when the
# module of another version is loaded), then PATH (where a module puts them).
hpcml_find_program() {
  if [[ -n ${HPCML_PREFIX:-} && -x $HPCML_PREFIX/bin/$1 ]]; then
    echo "$HPCML_PREFIX/bin/$1"
  elif [[ -n $HPCML_INSTALL_BIN && -x $HPCML_INSTALL_BIN/$1 ]]; then
    echo "$HPCML_INSTALL_BIN/$1"
  else
    command -v "$1" 2>/dev/null
  fi
}

hpcml_require_program() {
  hpcml_find_program "$1" ||
    hpcml_die 1 "$1 not found in \$HPCML_PREFIX/bin (HPCML_PREFIX=${HPCML_PREFIX:-unset})${HPCML_INSTALL_BIN:+, $HPCML_INSTALL_BIN} or on PATH on $(hostname -s); load the module or set HPCML_PREFIX"
}

# hpcml_load_config PROG [CONFIG]: HPCML_EFFECTIVE = PROG's --print-config with the -s
# overrides. A config error exits with the program's code (1) and its message.
hpcml_load_config() {
  local prog=$1 cfg=${2:-$HPCML_CFG} err rc=0
  err=$(mktemp "${TMPDIR:-/tmp}/hpcml-cfg.XXXXXX") || hpcml_die 3 "cannot create a temp file"
  HPCML_EFFECTIVE=$("$prog" -c "$cfg" "${HPCML_SETS[@]}" --print-config 2>"$err") || rc=$?
  if ((rc != 0)); then
    cat "$err" >&2
    rm -f "$err"
    hpcml_die "$rc" "config $cfg ${HPCML_SETS[*]} rejected by $(basename "$prog") (exit $rc)"
  fi
  rm -f "$err"
}

# hpcml_cfg section.key: the value printed by --print-config (`  key = value;` inside
# `section = {`), strings unquoted. Returns 1 when the key is not there.
hpcml_cfg() {
  local v
  v=$(awk -v sec="${1%%.*}" -v key="${1#*.}" '
    $0 == sec " = {" { ins = 1; next }
    ins && /^};/ { exit }
    ins && index($0, "  " key " = ") == 1 {
      v = substr($0, length(key) + 6); sub(/;$/, "", v); print v; found = 1; exit
    }
    END { exit !found }' <<<"$HPCML_EFFECTIVE") || return 1
  if [[ $v == \"*\" ]]; then
    v=${v:1:${#v}-2}
    v=${v//\\\"/\"}
    v=${v//\\\\/\\}
  fi
  printf '%s\n' "$v"
}

# hpcml_cfg_req section.key: as hpcml_cfg, but a missing key is an error (it exits,
# so call it as v=$(hpcml_cfg_req k) || exit $?).
hpcml_cfg_req() {
  hpcml_cfg "$1" ||
    hpcml_die 1 "key $1 missing from --print-config (a program older than slurm/?)"
}

# hpcml_cfg_into VAR section.key: VAR = the value; a missing key is an error (exit 1).
hpcml_cfg_into() {
  local v
  v=$(hpcml_cfg "$2") || hpcml_die 1 "key $2 missing from --print-config (a program older than slurm/?)"
  printf -v "$1" '%s' "$v"
}

# ---- stage markers -----------------------------------------------------------------------
# The sections whose values decide a stage's outputs; resources never do.
hpcml_stage_sections() {
  local gen=""
  [[ $(hpcml_cfg gen.enabled) == true ]] && gen=gen
  case $1 in
    gen) echo gen ;;
    etl) echo $gen etl ;;
    train) echo $gen etl train monitoring ;;
    sweep | train-final) echo $gen etl train sweep monitoring ;;
    *) hpcml_die 4 "unknown stage $1" ;;
  esac
}

# hpcml_stage_hash STAGE: 16 hex digits of the SHA-256 of those sections' text.
hpcml_stage_hash() {
  local secs
  secs=$(hpcml_stage_sections "$1")
  awk -v secs="$secs" '
    BEGIN { n = split(secs, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
    /^[a-z_]+ = \{$/ { keep = ($1 in want) }
    keep { print }
    /^};$/ { keep = 0 }' <<<"$HPCML_EFFECTIVE" | sha256sum | cut -c1-16
}

# hpcml_mark_done FILE HASH: write the marker atomically (temp name, rename).
hpcml_mark_done() {
  local f=$1 tmp
  mkdir -p "$(dirname "$f")" || { hpcml_say "warning: cannot create $(dirname "$f")"; return 0; }
  tmp=$f.tmp.$$
  if printf '%s job=%s host=%s date=%s\n' "$2" "${SLURM_JOB_ID:-none}" "$(hostname -s)" \
    "$(date -u +%FT%TZ)" >"$tmp" && mv -f "$tmp" "$f"; then
    hpcml_say "marked done: $f"
  else
    rm -f "$tmp"
    hpcml_say "warning: cannot write stage marker $f"
  fi
}

# hpcml_marker_ok FILE HASH: the marker exists and records HASH.
hpcml_marker_ok() {
  local first
  [[ -r $1 ]] || return 1
  read -r first _ <"$1" || return 1
  [[ $first == "$2" ]]
}

# ---- launcher -----------------------------------------------------------------------------
# Sets HPCML_LAUNCH. resources.launcher (or $HPCML_LAUNCHER, which wins):
#   srun    srun, with --mpi=pmix when Open MPI has PMIx (Debian's Open MPI 4.1 has
#           no Slurm PMI-2, so plain srun with MpiDefault=pmi2 would fail)
#   mpirun  mpirun inside the allocation (Open MPI reads the Slurm allocation itself)
#   auto    srun --mpi=pmix when srun offers pmix and Open MPI has a PMIx component;
#           srun when the MPI is not Open MPI (no ompi_info: MPICH, Intel MPI use Slurm's
#           PMI); else mpirun. Outside Slurm: mpirun -np (nodes * ntasks_per_node).
# $1: ranks wanted outside an allocation.
hpcml_choose_launcher() {
  local np_outside=${1:-1} want have_srun="" have_mpirun="" ompi="" list=""
  want=${HPCML_LAUNCHER:-$(hpcml_cfg resources.launcher || echo auto)}
  command -v srun >/dev/null 2>&1 && have_srun=1
  command -v mpirun >/dev/null 2>&1 && have_mpirun=1
  local root_flag=()
  [[ $(id -u) -eq 0 ]] && root_flag=(--allow-run-as-root)

  if [[ -z ${SLURM_JOB_ID:-} ]]; then
    # Run by hand (bash slurm/etl.sbatch CONFIG): no allocation to read.
    [[ -n $have_mpirun ]] || hpcml_die 1 "not in a Slurm job and mpirun not found"
    HPCML_LAUNCH=(mpirun "${root_flag[@]}" --oversubscribe -np "$np_outside")
    return
  fi
  local pmix=""
  if [[ -n $have_srun && $want != mpirun ]]; then
    if command -v ompi_info >/dev/null 2>&1; then
      ompi=$(ompi_info 2>/dev/null) || true
      list=$(srun --mpi=list 2>&1) || true
      [[ $ompi == *"MCA pmix: ext"* && $list == *pmix* ]] && pmix=1
    else
      ompi=none
    fi
  fi
  local srun_cmd=(srun --kill-on-bad-exit=1)
  [[ -n $pmix ]] && srun_cmd+=(--mpi=pmix)
  # Since Slurm 22.05 srun no longer takes -c from the batch job's environment.
  [[ -n ${SLURM_CPUS_PER_TASK:-} ]] && srun_cmd+=(--cpus-per-task="$SLURM_CPUS_PER_TASK")
  local mpirun_cmd=(mpirun "${root_flag[@]}" --bind-to none)

  case $want in
    srun)
      [[ -n $have_srun ]] || hpcml_die 1 "resources.launcher = srun, but srun is not on PATH"
      HPCML_LAUNCH=("${srun_cmd[@]}")
      ;;
    mpirun)
      [[ -n $have_mpirun ]] || hpcml_die 1 "resources.launcher = mpirun, but mpirun is not on PATH"
      HPCML_LAUNCH=("${mpirun_cmd[@]}")
      ;;
    auto)
      if [[ -n $have_srun && (-n $pmix || $ompi == none) ]]; then
        HPCML_LAUNCH=("${srun_cmd[@]}")
      elif [[ -n $have_mpirun ]]; then
        HPCML_LAUNCH=("${mpirun_cmd[@]}")
      elif [[ -n $have_srun ]]; then
        HPCML_LAUNCH=("${srun_cmd[@]}")
      else
        hpcml_die 1 "neither srun nor mpirun found on $(hostname -s)"
      fi
      ;;
    *) hpcml_die 1 "unknown launcher '$want' (auto, srun or mpirun)" ;;
  esac
}

# ---- running with signals, retries and requeue --------------------------------------------------
# The batch shell gets the preemption signal (--signal=B:USR1@grace, or SIGTERM on sites
# that send that). Bash runs a trap only between foreground commands, so the MPI job runs
# in the background and the shell waits on it; the trap forwards the program's preemption
# signal (train.preempt_signal) to the launcher, which passes it to every rank (srun and
# Open MPI's mpirun both forward SIGUSR1/2). SIGTERM is forwarded as that signal too:
# mpirun would take a SIGTERM as "abort the job" and kill the ranks mid-checkpoint.
_hpcml_on_signal() {
  HPCML_TRAPPED=1
  HPCML_PREEMPTED=$1
  if [[ -n $HPCML_CHILD ]]; then
    hpcml_say "got SIG$1: forwarding SIG$HPCML_FWD_SIG to the MPI job (pid $HPCML_CHILD)"
    kill -s "$HPCML_FWD_SIG" "$HPCML_CHILD" 2>/dev/null || true
  else
    hpcml_say "got SIG$1 between runs"
  fi
}

hpcml_install_traps() {
  HPCML_FWD_SIG=$(hpcml_cfg train.preempt_signal || echo USR1)
  trap '_hpcml_on_signal USR1' USR1
  trap '_hpcml_on_signal TERM' TERM
}

# _hpcml_wait PID: wait for PID through trap interruptions; sets HPCML_RC.
_hpcml_wait() {
  local rc prev=""
  while :; do
    HPCML_TRAPPED=0
    wait "$1"
    rc=$?
    if ((rc > 128 && HPCML_TRAPPED)); then
      prev=$rc
      continue # the trap interrupted wait; the job still runs (or its status is kept)
    fi
    # 127: the status was already collected by an interrupted wait (a rare race).
    if ((rc == 127)) && [[ -n $prev ]]; then rc=$prev; fi
    break
  done
  HPCML_RC=$rc
}

# _hpcml_sleep SECONDS: a sleep that a signal ends at once.
_hpcml_sleep() {
  sleep "$1" &
  local pid=$!
  _hpcml_wait "$pid"
  kill "$pid" 2>/dev/null || true
}

# hpcml_requeue: exit 75 after asking Slurm to requeue this job (it resumes from its
# checkpoint); a clear message where that is impossible.
hpcml_requeue() {
  local id=${SLURM_JOB_ID:-}
  # An array task's own SLURM_JOB_ID may equal the array's id; requeue the task only.
  [[ -n ${SLURM_ARRAY_JOB_ID:-} ]] && id=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}
  if [[ -z $id ]]; then
    hpcml_say "preempted (exit 75) outside Slurm: run the same command again to resume"
  elif [[ $(hpcml_cfg resources.requeue) != true ]]; then
    hpcml_say "preempted (exit 75); resources.requeue = false: resubmit to resume from the checkpoint"
  elif ! command -v scontrol >/dev/null 2>&1; then
    hpcml_say "preempted (exit 75), checkpoint written, but scontrol is not on PATH on $(hostname -s), so the job cannot requeue itself; from a login node run: scontrol requeue $id"
  elif scontrol requeue "$id"; then
    hpcml_say "requeued job $id (restart $((${SLURM_RESTART_COUNT:-0} + 1)) follows); it resumes from its checkpoint"
  else
    hpcml_say "preempted (exit 75) but 'scontrol requeue $id' failed (submitted with --no-requeue?); resubmit to resume"
  fi
  exit 75
}

# hpcml_run PROG [ARGS...]: run PROG under the launcher with the config and overrides;
# return its exit code. Exit 3 (I/O) and 4 (internal, may be a failing node) are retried
# resources.max_retries times after resources.retry_backoff_s, doubled each time; exit 75,
# or a failure after a preemption signal, requeues the job (hpcml_requeue does not return).
hpcml_run() {
  local prog=$1
  shift
  local max backoff attempt=0 delay
  max=$(hpcml_cfg_req resources.max_retries) || exit $?
  backoff=$(hpcml_cfg_req resources.retry_backoff_s) || exit $?
  while :; do
    attempt=$((attempt + 1))
    hpcml_say "run $attempt of at most $((max + 1)): ${HPCML_LAUNCH[*]} $prog -c $HPCML_CFG${HPCML_SETS[*]:+ ${HPCML_SETS[*]}}${*:+ $*}"
    "${HPCML_LAUNCH[@]}" "$prog" -c "$HPCML_CFG" "${HPCML_SETS[@]}" "$@" &
    HPCML_CHILD=$!
    _hpcml_wait "$HPCML_CHILD"
    HPCML_CHILD=""
    local rc=$HPCML_RC
    hpcml_say "$(basename "$prog") exited $rc"
    if ((rc == 0)); then
      return 0
    elif ((rc == 75)) || [[ -n $HPCML_PREEMPTED ]]; then
      hpcml_requeue
    elif ((rc == 3 || rc == 4)) && ((attempt <= max)); then
      delay=$(awk -v b="$backoff" -v k="$attempt" 'BEGIN { printf "%g", b * 2 ^ (k - 1) }')
      hpcml_say "transient failure (exit $rc: $([[ $rc == 3 ]] && echo I/O || echo internal/MPI)); retry $attempt of $max in ${delay}s"
      _hpcml_sleep "$delay"
      [[ -z $HPCML_PREEMPTED ]] || hpcml_requeue
    else
      case $rc in
        1) hpcml_say "usage/config error: not retried" ;;
        2) hpcml_say "bad input data: not retried" ;;
        3 | 4) hpcml_say "still failing after $max retries" ;;
      esac
      return "$rc"
    fi
  done
}

# hpcml_job_banner [PROG]: what the log needs to tell one run from another, with the
# program's path and version (--version starts no MPI).
hpcml_job_banner() {
  local id=${SLURM_JOB_ID:-none}
  [[ -n ${SLURM_ARRAY_JOB_ID:-} ]] && id="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} ($SLURM_JOB_ID)"
  hpcml_say "job $id on ${SLURM_JOB_NODELIST:-$(hostname -s)}: SLURM_RESTART_COUNT=${SLURM_RESTART_COUNT:-0}, nodes=${SLURM_NNODES:-1}, tasks=${SLURM_NTASKS:-${SLURM_TASKS_PER_NODE:-?}}, cpus/task=${SLURM_CPUS_PER_TASK:-1}"
  [[ -n ${1:-} ]] && hpcml_say "program: $1 ($("$1" --version 2>/dev/null || echo "version unknown"))"
  hpcml_say "launcher: ${HPCML_LAUNCH[*]}"
}

# ---- following jobs (pipeline.sh --wait, monitor.sh --wait) ----------------------------------
# hpcml_job_state ID: "STATE EXIT" of a job (scontrol while Slurm remembers it, then sacct).
hpcml_job_state() {
  local out st ex
  out=$(scontrol show job -o "$1" 2>/dev/null) || out=""
  out=${out%%$'\n'*}
  if [[ -n $out ]]; then
    st=$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<<"$out")
    ex=$(sed -n 's/.* ExitCode=\([0-9]*\):.*/\1/p' <<<"$out")
  else
    out=$(sacct -n -X -P -j "$1" -o State,ExitCode 2>/dev/null) || out=""
    out=${out%%$'\n'*}
    st=${out%%|*}
    st=${st%% *}
    ex=${out#*|}
    ex=${ex%%:*}
  fi
  echo "${st:-UNKNOWN} ${ex:-0}"
}

hpcml_job_terminal() {
  case $1 in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | PREEMPTED | BOOT_FAIL | DEADLINE | OUT_OF_MEMORY) return 0 ;;
    *) return 1 ;;
  esac
}

# hpcml_wait_job ID [POLL_S]: poll until the job ended; print its "STATE EXIT". A terminal
# state must be seen twice in a row: a requeued job passes through them briefly.
hpcml_wait_job() {
  local st ex seen=""
  while :; do
    read -r st ex < <(hpcml_job_state "$1")
    if hpcml_job_terminal "$st"; then
      [[ $seen == "$st" ]] && break
      seen=$st
    else
      seen=""
    fi
    sleep "${2:-2}"
  done
  echo "$st $ex"
}
