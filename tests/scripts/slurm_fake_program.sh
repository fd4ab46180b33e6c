#!/bin/bash
# slurm_fake_program.sh — a stand-in for hpcml-etl, hpcml-sweep and hpcml-train (by the
# name it is called as) that tests the slurm/ plumbing: chaining, exit codes, retries,
# signal forwarding, requeue and stage skipping, in seconds and before those programs
# exist. It keeps the command-line contract: --print-config and friends go to the real
# program in $FAKE_REAL (hpcml-gen: every program shares one config schema), so config
# errors, -s overrides and the values slurm/ reads are real.
#
# Environment: FAKE_REAL (a real hpcml program), FAKE_PY (python3 with h5py), FAKE_LOG
# (one line appended per rank and run), FAKE_EXIT_<etl|sweep|train> (exit with this code
# instead of working), FAKE_PREEMPT=1 (train and sweep, first run: wait up to 60 s for
# the preemption signal, then exit 75 as a checkpointing trainer would; a requeued run,
# SLURM_RESTART_COUNT >= 1, finishes).
set -uo pipefail
name=$(basename "$0")
stage=${name#hpcml-}
for a in "$@"; do
  case $a in --print-config | --help | --version | --config-reference) exec "$FAKE_REAL" "$@" ;; esac
done
args=()
trial="" status=0
while (($#)); do
  case $1 in
    --trial) trial=$2; shift 2 ;;
    --status) status=1; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
cfg=$("$FAKE_REAL" "${args[@]}" --print-config) || exit 1
val() {
  awk -v sec="${1%%.*}" -v key="${1#*.}" '
    $0 == sec " = {" { ins = 1; next }
    ins && /^};/ { exit }
    ins && index($0, "  " key " = ") == 1 {
      v = substr($0, length(key) + 6); sub(/;$/, "", v); gsub(/^"|"$/, "", v); print v; exit }' <<<"$cfg"
}
rank=${PMIX_RANK:-${OMPI_COMM_WORLD_RANK:-0}}
echo "$name rank=$rank trial=$trial status=$status restart=${SLURM_RESTART_COUNT:-0} job=${SLURM_JOB_ID:-}" >>"${FAKE_LOG:-/dev/null}"
((status)) && { echo "fake $name --status"; exit 0; }

# wait_for_preemption DIR [SUFFIX]: touch DIR/startedSUFFIX, wait up to 60 s for the
# preemption signal, exit 75 as a trainer does after its checkpoint.
wait_for_preemption() {
  local got=""
  trap 'got=1' USR1 USR2 TERM
  ((rank == 0)) && mkdir -p "$1" && touch "$1/started${2:-}"
  for _ in $(seq 600); do
    [[ -n $got ]] && exit 75
    sleep 0.1 &
    wait $!
  done
  exit 4
}

code_var=FAKE_EXIT_$stage
[[ -n ${!code_var:-} ]] && exit "${!code_var}"

case $stage in
  etl)
    out=$(val etl.output)
    ((rank == 0)) || exit 0
    mkdir -p "$(dirname "$out")"
    "$FAKE_PY" - "$out" <<'EOF' || exit 3
import sys, h5py, numpy as np
with h5py.File(sys.argv[1] + ".tmp", "w") as f:
    f.attrs["hpcml_format"] = "hpcml-dataset"
    f.attrs["format_version"] = np.int32(1)
import os
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
EOF
    ;;
  sweep)
    dir=$(val sweep.output_dir)
    if [[ -n ${FAKE_PREEMPT:-} && -z ${SLURM_RESTART_COUNT:-} ]]; then
      wait_for_preemption "$dir" "-$trial"
    fi
    ((rank == 0)) || exit 0
    mkdir -p "$dir"
    echo "$trial" >>"$dir/trials-run"
    printf '%s\n' "$cfg" >"$dir/best.cfg.tmp.$trial" && mv -f "$dir/best.cfg.tmp.$trial" "$dir/best.cfg"
    ;;
  train)
    dir=$(val train.output_dir)
    if [[ -n ${FAKE_PREEMPT:-} && -z ${SLURM_RESTART_COUNT:-} ]]; then
      wait_for_preemption "$dir"
    fi
    ((rank == 0)) || exit 0
    mkdir -p "$dir"
    echo '{"f1": 0.5, "restart": '"${SLURM_RESTART_COUNT:-0}"'}' >"$dir/evaluation.json"
    ;;
  *) echo "$name: not faked" >&2; exit 4 ;;
esac
exit 0
