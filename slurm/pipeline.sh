#!/usr/bin/env bash
# pipeline.sh — submit the whole hpcml pipeline as chained Slurm jobs:
#
#   hpcml-gen (when gen.enabled) -> hpcml-etl -> hpcml-sweep array -> hpcml-train with the
#   sweep's best.cfg (training ends with the evaluation on /test: evaluation.json)
#   -> hpcml-report (report.output: one self-contained report.html of the run)
#
#   slurm/pipeline.sh CONFIG [-s section.key=value]... [--wait] [--dry-run] [--force] [--no-sweep]
#
#   -s K=V      override a config key; every stage gets the same overrides
#   --wait      block until the last job ends; exit with the status of the last stage
#               before the report (0 when it completed, else the exit code of the first
#               failed job, or 1); a failed report job is a warning
#   --dry-run   print the sbatch lines (a bash script that would submit them), submit nothing
#   --force     run every stage, even those whose outputs are complete and valid
#   --no-sweep  gen -> etl -> hpcml-train with CONFIG itself
#
# Prints one line per stage on stdout: "STAGE JOBID" or "STAGE skipped". Resource requests
# come from the config's resources section (per stage: *_time, sweep_ntasks, sweep_time).
#
# Chaining: each job depends on the one before with --dependency=afterok and
# --kill-on-invalid-dep=yes, so a failed stage cancels the rest instead of leaving them
# pending forever. The final training waits with afterany on the sweep array: one trial
# that fails (a bad node, a diverging configuration) must not cancel the final training
# while the other trials found a good configuration; train.sbatch itself fails with exit
# 2 when no trial finished (no best.cfg). It also waits afterok on the ETL job, so a failed
# ETL still cancels it. The report job waits with afterany on the training, so a failed
# run still gets its page (it shows what exists and says what is missing).
#
# Re-running skips stages whose outputs are complete and valid: the files pass a format
# check (gen: manifest.json and the shard sizes it lists; etl: dataset.h5 with its
# hpcml_format and format_version attributes; sweep: best.cfg and one marker per trial,
# only missing trials are resubmitted; train: evaluation.json parses) and the stage's
# marker in resources.log_dir records the hash of the config sections the outputs depend
# on. Once a stage runs, every later stage runs too.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HPCML_STAGE=pipeline
# shellcheck source=lib.sh
source "$here/lib.sh"
HPCML_USAGE="slurm/pipeline.sh CONFIG [-s section.key=value]... [--wait] [--dry-run] [--force] [--no-sweep]"
HPCML_EXTRA_OPTS="--wait --dry-run --force --no-sweep"
HPCML_OPT_wait=0 HPCML_OPT_dry_run=0 HPCML_OPT_force=0 HPCML_OPT_no_sweep=0
hpcml_parse_args "$@"
dry=$HPCML_OPT_dry_run

[[ -r $HPCML_CFG ]] || hpcml_die 1 "cannot read config file $HPCML_CFG"
HPCML_CFG=$(realpath "$HPCML_CFG")

# Any hpcml program prints the effective config; all share one schema.
prog=""
for p in hpcml-gen hpcml-etl hpcml-train hpcml-sweep; do
  prog=$(hpcml_find_program "$p") && break
done
[[ -n $prog ]] ||
  hpcml_die 1 "no hpcml program in \$HPCML_PREFIX/bin (HPCML_PREFIX=${HPCML_PREFIX:-unset}) or on PATH"
hpcml_load_config "$prog"

hpcml_cfg_into gen_enabled gen.enabled
hpcml_cfg_into gen_dir gen.output_dir
hpcml_cfg_into etl_output etl.output
hpcml_cfg_into sweep_dir sweep.output_dir
hpcml_cfg_into trials sweep.trials
hpcml_cfg_into max_parallel sweep.max_parallel
hpcml_cfg_into train_dir train.output_dir
hpcml_cfg_into partition resources.partition
hpcml_cfg_into account resources.account
hpcml_cfg_into nodes resources.nodes
hpcml_cfg_into ntpn resources.ntasks_per_node
hpcml_cfg_into cpt resources.cpus_per_task
hpcml_cfg_into gpt resources.gpus_per_task
hpcml_cfg_into mem resources.mem
hpcml_cfg_into time resources.time
hpcml_cfg_into gen_time resources.gen_time
hpcml_cfg_into etl_time resources.etl_time
hpcml_cfg_into train_time resources.train_time
hpcml_cfg_into sweep_ntasks resources.sweep_ntasks
hpcml_cfg_into sweep_time resources.sweep_time
hpcml_cfg_into grace resources.signal_grace_s
hpcml_cfg_into requeue resources.requeue
hpcml_cfg_into log_dir resources.log_dir
hpcml_cfg_into report_output report.output
log_dir=$(realpath -m "$log_dir")

# ---- which stages are done --------------------------------------------------------------
py=$(command -v python3 || true)

gen_valid() {
  local m=$gen_dir/manifest.json
  [[ -r $m && -n $py ]] || return 1
  # Every shard the manifest lists is there with the size it records.
  "$py" - "$m" <<'EOF' || return 1
import json, os, sys
m = json.load(open(sys.argv[1]))
assert m.get("format") == "hpcml-gen-manifest"
d = os.path.dirname(sys.argv[1])
for s in m["shards"]:
    assert os.path.getsize(os.path.join(d, s["file"])) == s["bytes"]
EOF
  hpcml_marker_ok "$log_dir/gen.done" "$(hpcml_stage_hash gen)"
}

etl_valid() {
  local out
  [[ -r $etl_output ]] && command -v h5dump >/dev/null 2>&1 || return 1
  out=$(h5dump -a /hpcml_format "$etl_output" 2>/dev/null) || return 1
  [[ $out == *'"hpcml-dataset"'* ]] || return 1
  h5dump -a /format_version "$etl_output" >/dev/null 2>&1 || return 1
  hpcml_marker_ok "$log_dir/etl.done" "$(hpcml_stage_hash etl)"
}

# sweep_missing: the trials without a current marker, as an --array list ("0-99", "3,7-9").
sweep_missing() {
  local h i start=-1 out=""
  h=$(hpcml_stage_hash sweep)
  for ((i = 0; i <= trials; i++)); do
    if ((i < trials)) && { ((HPCML_OPT_force)) || ! hpcml_marker_ok "$log_dir/sweep.done.d/$i" "$h"; }; then
      ((start >= 0)) || start=$i
    elif ((start >= 0)); then
      out+=${out:+,}$start
      ((i - 1 > start)) && out+=-$((i - 1))
      start=-1
    fi
  done
  echo "$out"
}

train_valid() {
  local ev=$train_dir/evaluation.json stage=$1
  [[ -s $ev && -n $py ]] || return 1
  "$py" -c 'import json, sys; json.load(open(sys.argv[1]))' "$ev" 2>/dev/null || return 1
  hpcml_marker_ok "$log_dir/$stage.done" "$(hpcml_stage_hash "$stage")"
}

stages=()
[[ $gen_enabled == true ]] && stages+=(gen)
stages+=(etl)
if ((HPCML_OPT_no_sweep)); then stages+=(train); else stages+=(sweep train-final); fi
# The last job writes report.html (after the training, whatever its outcome). An install
# without hpcml-report (an older one) runs the pipeline without it.
if hpcml_find_program hpcml-report >/dev/null; then
  stages+=(report)
else
  hpcml_say "note: hpcml-report not found; no report job"
fi

declare -A run=() why=()
running=0
array_spec=""
for s in "${stages[@]}"; do
  if ((!running && !HPCML_OPT_force)); then
    case $s in
      gen) gen_valid && why[$s]="$gen_dir/manifest.json" ;;
      etl) etl_valid && why[$s]="$etl_output" ;;
      sweep)
        array_spec=$(sweep_missing)
        [[ -z $array_spec && -s $sweep_dir/best.cfg ]] && why[$s]="$sweep_dir/best.cfg"
        ;;
      train | train-final) train_valid "$s" && why[$s]="$train_dir/evaluation.json" ;;
      report) [[ -s $report_output ]] && why[$s]=$report_output ;;
    esac
  fi
  if [[ -z ${why[$s]:-} ]]; then
    running=1
    run[$s]=1
  fi
done
if [[ -n ${run[sweep]:-} ]]; then
  # All trials when an earlier stage runs (new data) or none is missing (no best.cfg yet).
  [[ -n ${run[etl]:-} || -z $array_spec ]] && array_spec=0-$((trials - 1))
  array_spec+=%$max_parallel
fi

# Programs must be there before anything is submitted.
declare -A prog_of=([gen]=hpcml-gen [etl]=hpcml-etl [sweep]=hpcml-sweep [train]=hpcml-train
  [train-final]=hpcml-train [report]=hpcml-report)
for s in "${stages[@]}"; do
  [[ -n ${run[$s]:-} ]] || continue
  if ! hpcml_find_program "${prog_of[$s]}" >/dev/null; then
    ((dry)) || hpcml_die 1 "${prog_of[$s]} not found (set HPCML_PREFIX or PATH); nothing submitted"
    hpcml_say "warning: ${prog_of[$s]} not found; the $s job would fail"
  fi
done

# ---- the sbatch lines -----------------------------------------------------------------------
base=(sbatch --parsable --chdir="$PWD" --open-mode=append)
[[ -n $partition ]] && base+=(--partition="$partition")
[[ -n $account ]] && base+=(--account="$account")
[[ -n $mem ]] && base+=(--mem="$mem")
mpi_shape=(--nodes="$nodes" --ntasks-per-node="$ntpn" --cpus-per-task="$cpt")
gpus=()
((gpt > 0)) && gpus=(--gpus-per-task="$gpt")
preempt=(--signal=B:USR1@"$grace")
if [[ $requeue == true ]]; then preempt+=(--requeue); else preempt+=(--no-requeue); fi
job_args=("$HPCML_CFG" "${HPCML_SETS[@]}")
log=$log_dir/%x-%j.out
export HPCML_SLURM_SCRIPTS=$here

declare -A job=()
submitted=()
if ((dry)); then
  echo "# slurm/pipeline.sh --dry-run: the jobs it would submit (a bash script)"
  echo "export HPCML_SLURM_SCRIPTS=$(printf '%q' "$here")"
else
  command -v sbatch >/dev/null 2>&1 || hpcml_die 1 "sbatch not found: is Slurm's client installed?"
  mkdir -p "$log_dir" || hpcml_die 3 "cannot create $log_dir"
fi

# dep TYPE:STAGE ...: the --dependency option for the stages that were submitted.
dep() {
  local d="" t s
  for t in "$@"; do
    s=${t#*:}
    [[ -n ${run[$s]:-} ]] && d+=${d:+,}${t%%:*}:@JOB_${s//-/_}@
  done
  [[ -n $d ]] && echo "--dependency=$d"
}

# submit STAGE SBATCH-ARGS...: run sbatch (or print it); @JOB_x@ stands for job x's id.
submit() {
  local stage=$1 a out id line
  shift
  local args=("$@")
  if ((dry)); then
    line=""
    for a in "${args[@]}"; do
      # Plain words as they are (readable, stable for the golden test); others %q-quoted.
      [[ $a =~ ^[A-Za-z0-9_./:=%@,+-]+$ ]] || a=$(printf '%q' "$a")
      line+=${line:+ }$a
    done
    line=$(sed 's/@JOB_\([a-z_]*\)@/${JOB_\1}/g' <<<"$line")
    echo "JOB_${stage//-/_}=\$($line)"
    return
  fi
  for i in "${!args[@]}"; do
    a=${args[$i]}
    for s in "${!job[@]}"; do a=${a//@JOB_${s//-/_}@/${job[$s]}}; done
    args[$i]=$a
  done
  if ! out=$("${args[@]}" 2>&1); then
    echo "$out" >&2
    if ((${#submitted[@]})); then
      scancel "${submitted[@]}" 2>/dev/null
      hpcml_say "cancelled the jobs already submitted: ${submitted[*]}"
    fi
    hpcml_die 1 "sbatch refused the $stage job: ${args[*]}"
  fi
  id=${out##*$'\n'}
  id=${id%%;*}
  job[$stage]=$id
  submitted+=("$id")
  echo "$stage $id"
}

for s in "${stages[@]}"; do
  if [[ -z ${run[$s]:-} ]]; then
    if ((dry)); then echo "# $s: skipped, outputs complete and valid (${why[$s]})"; else echo "$s skipped"; fi
    hpcml_say "$s: skipped, outputs complete and valid (${why[$s]})"
    continue
  fi
  deps=()
  case $s in
    gen)
      submit gen "${base[@]}" --job-name=hpcml-gen --output="$log" "${mpi_shape[@]}" \
        --time="${gen_time:-$time}" "$here/gen.sbatch" "${job_args[@]}"
      ;;
    etl)
      d=$(dep afterok:gen) && deps=("$d" --kill-on-invalid-dep=yes)
      submit etl "${base[@]}" --job-name=hpcml-etl --output="$log" "${deps[@]}" \
        "${mpi_shape[@]}" --time="${etl_time:-$time}" "$here/etl.sbatch" "${job_args[@]}"
      ;;
    sweep)
      d=$(dep afterok:etl) && deps=("$d" --kill-on-invalid-dep=yes)
      submit sweep "${base[@]}" --job-name=hpcml-sweep --output="$log_dir/%x-%A_%a.out" \
        "${deps[@]}" --array="$array_spec" --ntasks="$sweep_ntasks" --cpus-per-task="$cpt" \
        "${gpus[@]}" --time="$sweep_time" "${preempt[@]}" "$here/sweep.sbatch" "${job_args[@]}"
      ;;
    train | train-final)
      from=()
      if [[ $s == train-final ]]; then
        d=$(dep afterok:etl afterany:sweep) && deps=("$d" --kill-on-invalid-dep=yes)
        from=(--from-sweep)
      else
        d=$(dep afterok:etl) && deps=("$d" --kill-on-invalid-dep=yes)
      fi
      submit "$s" "${base[@]}" --job-name=hpcml-train --output="$log" "${deps[@]}" \
        "${mpi_shape[@]}" "${gpus[@]}" --time="${train_time:-$time}" "${preempt[@]}" \
        "$here/train.sbatch" "${from[@]}" "${job_args[@]}"
      ;;
    report)
      d=$(dep afterany:etl afterany:train afterany:train-final) && deps=("$d")
      submit report "${base[@]}" --job-name=hpcml-report --output="$log" "${deps[@]}" \
        --ntasks=1 --cpus-per-task=1 --time=00:10:00 "$here/report.sbatch" "${job_args[@]}"
      ;;
  esac
done

((dry)) && exit 0
if ((${#submitted[@]} == 0)); then
  hpcml_say "every stage is complete; nothing submitted (--force runs them again)"
  exit 0
fi
hpcml_say "submitted ${submitted[*]}; logs in $log_dir"
((HPCML_OPT_wait)) || exit 0

# ---- --wait ------------------------------------------------------------------------------------
# The pipeline's outcome is its last stage before the report; --wait also waits for the
# report job, whose failure is a warning (report.html then names the unreadable input).
last=${submitted[-1]}
main_last=$last
if [[ -n ${run[report]:-} ]] && ((${#submitted[@]} > 1)); then main_last=${submitted[-2]}; fi
poll=${HPCML_POLL_S:-2}
read -r st ex < <(hpcml_wait_job "$last" "$poll")

rc=0
for s in "${stages[@]}"; do
  [[ -n ${run[$s]:-} ]] || continue
  if [[ $s == report ]]; then
    read -r s_st s_ex < <(hpcml_job_state "${job[$s]}")
    if [[ $s_st == COMPLETED ]]; then
      hpcml_say "report ${job[$s]}: COMPLETED: $report_output"
    else
      hpcml_say "warning: report ${job[$s]}: $s_st (exit $s_ex); see its log in $log_dir"
    fi
    continue
  fi
  if [[ $s == sweep ]]; then
    summary=$(scontrol show job -o "${job[$s]}" 2>/dev/null |
      sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort | uniq -c | awk '{ s = s (NR > 1 ? " " : "") $2 "=" $1 } END { print s }')
    hpcml_say "$s ${job[$s]}: ${summary:-(no longer known to scontrol)}"
    continue
  fi
  read -r s_st s_ex < <(hpcml_job_state "${job[$s]}")
  hpcml_say "$s ${job[$s]}: $s_st (exit $s_ex)"
  if ((rc == 0)) && [[ $s_st == FAILED || $s_st == TIMEOUT || $s_st == OUT_OF_MEMORY || $s_st == NODE_FAIL ]]; then
    rc=$((s_ex > 0 ? s_ex : 1))
  fi
done
if [[ $main_last != "$last" ]]; then read -r st ex < <(hpcml_job_state "$main_last"); fi
if [[ $st == COMPLETED && $ex == 0 ]]; then
  rc=0
elif ((rc == 0)); then
  rc=$((ex > 0 ? ex : 1))
fi
hpcml_say "pipeline finished: last job $main_last $st; exit $rc"
exit "$rc"
