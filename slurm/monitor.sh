#!/usr/bin/env bash
# monitor.sh — score a new batch as a Slurm job and, when it drifted, retrain on Slurm:
#
#   slurm/monitor.sh CONFIG --new DATA [--wait] [--out DIR] [-s section.key=value]...
#
#   --new DATA  the new CSV records (a path or a glob, quoted): predict.input = [DATA]
#   --wait      block until the scoring job, the decision and (when submitted) the whole
#               retraining chain ended; exit with the first failure's code, else 0
#   --out DIR   the run's folder (default: a new DIR = <parent of train.output_dir>/monitor/
#               <UTC time>); it must not exist: a run never writes over an earlier one
#   -s K=V      override a config key, for the scoring and the retraining alike
#
# 1. slurm/predict.sbatch scores DATA with predict.model into DIR/predict/ (drift.json,
#    and the DRIFT marker when monitoring.drift_share of the columns drifted).
# 2. The decision, after the scoring job ended: without --wait a small job (hpcml-monitor,
#    --dependency=afterok on the scoring job) runs this script with --decide; with --wait
#    this script decides itself. It reads drift.json's dataset_drift (the DRIFT marker when
#    python3 is missing); when the dataset drifted and monitoring.retrain_on_drift = true it
#    runs slurm/pipeline.sh (gen.enabled = false): ETL -> sweep -> final training on
#    etl.input plus DATA, every output inside DIR (dataset.h5, sweep/, train/model.h5,
#    slurm/ logs and markers); the model in use (predict.model) is never touched.
#
# Prints on stdout "run DIR", "predict JOBID", then "decide JOBID" (the follow-up job; its
# log DIR/slurm/hpcml-monitor-JOBID.out has the retraining job ids) or, with --wait,
# "drift yes|no" and the pipeline's lines ("etl JOBID", "sweep JOBID", "train-final JOBID")
# or "retrain skipped". See docs/slurm.md and docs/predict.md.
set -uo pipefail
# Inside the decision job Slurm runs a copy of this script: HPCML_SLURM_SCRIPTS (exported
# below) names the slurm/ directory.
here=${HPCML_SLURM_SCRIPTS:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
HPCML_STAGE=monitor
# shellcheck source=lib.sh
source "$here/lib.sh"
HPCML_USAGE="slurm/monitor.sh CONFIG --new DATA [--wait] [--out DIR] [-s section.key=value]..."
HPCML_EXTRA_OPTS="--new= --wait --out= --decide="
HPCML_OPT_new="" HPCML_OPT_wait=0 HPCML_OPT_out="" HPCML_OPT_decide=""
hpcml_parse_args "$@"
[[ -n $HPCML_OPT_new ]] || hpcml_die 1 "--new DATA is required (usage: $HPCML_USAGE)"
[[ -r $HPCML_CFG ]] || hpcml_die 1 "cannot read config file $HPCML_CFG"
HPCML_CFG=$(realpath "$HPCML_CFG")
export HPCML_SLURM_SCRIPTS=$here

prog=$(hpcml_require_program hpcml-predict) || exit $?
hpcml_load_config "$prog"
hpcml_cfg_into pred_out predict.output
hpcml_cfg_into train_dir train.output_dir
hpcml_cfg_into etl_input etl.input
hpcml_cfg_into retrain monitoring.retrain_on_drift
hpcml_cfg_into partition resources.partition
hpcml_cfg_into account resources.account

# libconfig string: quotes and backslashes escaped.
cfg_str() {
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}
# Absolute, so the jobs (and a glob in DATA) mean the same files from any directory.
new=$(realpath -m "$HPCML_OPT_new")

# ---- the run's folder and its overrides ----------------------------------------------------
if [[ -n $HPCML_OPT_decide ]]; then
  run=$HPCML_OPT_decide
  [[ -d $run ]] || hpcml_die 1 "--decide: no run folder $run"
else
  if [[ -n $HPCML_OPT_out ]]; then
    run=$(realpath -m "$HPCML_OPT_out")
  else
    run=$(realpath -m "$(dirname "$train_dir")/monitor/$(date -u +%Y%m%dT%H%M%SZ)")
    [[ -e $run ]] && run=$run-$$
  fi
  mkdir -p "$(dirname "$run")" || hpcml_die 3 "cannot create $(dirname "$run")"
  # mkdir without -p: fails when the folder exists, so an earlier run is never reused.
  mkdir "$run" 2>/dev/null || hpcml_die 1 "$run exists or cannot be created: a monitoring run needs a new folder (--out)"
  mkdir -p "$run/slurm" || hpcml_die 3 "cannot create $run/slurm"
fi
score_sets=(-s "predict.input=[$(cfg_str "$new")]" -s "predict.output=$(cfg_str "$run/predict/$(basename "$pred_out")")")
# etl.input as --print-config shows it ([ "a", "b" ]) with DATA appended.
inputs=${etl_input%]}
inputs=${inputs%"${inputs##*[! ]}"}
if [[ $inputs == "[" ]]; then inputs+=" $(cfg_str "$new") ]"; else inputs+=", $(cfg_str "$new") ]"; fi
retrain_sets=(-s gen.enabled=false -s "etl.input=$inputs"
  -s "etl.output=$(cfg_str "$run/dataset.h5")" -s "train.dataset=$(cfg_str "$run/dataset.h5")"
  -s "sweep.output_dir=$(cfg_str "$run/sweep")" -s "train.output_dir=$(cfg_str "$run/train")"
  -s "resources.log_dir=$(cfg_str "$run/slurm")" -s "predict.model=$(cfg_str "$run/train/model.h5")"
  -s "report.output=$(cfg_str "$run/report.html")" -s "report.drift=$(cfg_str "$run/predict/drift.json")")

# decide: read the scoring's verdict; submit the retraining (pipeline.sh) when it drifted
# and retrain_on_drift is on. Prints "drift yes|no" and the pipeline's lines. Returns
# pipeline.sh's status (0 when nothing was submitted).
decide() {
  local dir=$run/predict drifted
  [[ -s $dir/drift.json ]] || hpcml_die 3 "no $dir/drift.json: the scoring did not finish"
  if command -v python3 >/dev/null 2>&1; then
    drifted=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d.get("format") == "hpcml-drift", "not an hpcml-drift file"
print("yes" if d["dataset_drift"] else "no")
print("%d of %d columns drifted (drift_share %.3f)" % (d["drifted_columns"], d["columns_total"], d["drift_share"]), file=sys.stderr)
' "$dir/drift.json") || hpcml_die 2 "cannot read $dir/drift.json"
  elif [[ -e $dir/DRIFT ]]; then
    drifted=yes
  else
    drifted=no
  fi
  echo "drift $drifted"
  hpcml_say "dataset drift: $drifted ($dir/drift.json)"
  if [[ $drifted == no ]]; then
    echo "retrain skipped"
    hpcml_say "no retraining: the new data did not drift"
    return 0
  elif [[ $retrain != true ]]; then
    echo "retrain skipped"
    hpcml_say "no retraining: monitoring.retrain_on_drift = false"
    return 0
  fi
  hpcml_say "retraining on etl.input + $new into $run (model: $run/train/model.h5)"
  local w=()
  ((HPCML_OPT_wait)) && w=(--wait)
  "$here/pipeline.sh" "$HPCML_CFG" "${HPCML_SETS[@]}" "${retrain_sets[@]}" "${w[@]}"
}

if [[ -n $HPCML_OPT_decide ]]; then
  hpcml_say "job ${SLURM_JOB_ID:-none}: deciding on the scoring in $run"
  decide
  exit $?
fi

# ---- submit the scoring, then the decision ----------------------------------------------------
command -v sbatch >/dev/null 2>&1 || hpcml_die 1 "sbatch not found: is Slurm's client installed?"
base=(sbatch --parsable --chdir="$PWD" --open-mode=append)
[[ -n $partition ]] && base+=(--partition="$partition")
[[ -n $account ]] && base+=(--account="$account")
hpcml_cfg_into nodes resources.nodes
hpcml_cfg_into ntpn resources.ntasks_per_node
hpcml_cfg_into cpt resources.cpus_per_task
hpcml_cfg_into time resources.time
echo "run $run"
pred=$("${base[@]}" --job-name=hpcml-predict --output="$run/slurm/%x-%j.out" --nodes="$nodes" \
  --ntasks-per-node="$ntpn" --cpus-per-task="$cpt" --time="$time" \
  "$here/predict.sbatch" "$HPCML_CFG" "${HPCML_SETS[@]}" "${score_sets[@]}") ||
  hpcml_die 1 "sbatch refused the scoring job"
pred=${pred%%;*}
echo "predict $pred"
hpcml_say "scoring $new: job $pred, outputs in $run/predict"

if ((!HPCML_OPT_wait)); then
  dec=$("${base[@]}" --job-name=hpcml-monitor --output="$run/slurm/%x-%j.out" --ntasks=1 \
    --time=00:10:00 --dependency=afterok:"$pred" --kill-on-invalid-dep=yes \
    "$here/monitor.sh" "$HPCML_CFG" "${HPCML_SETS[@]}" --new "$new" --decide "$run") || {
    scancel "$pred" 2>/dev/null
    hpcml_die 1 "sbatch refused the decision job; cancelled the scoring job $pred"
  }
  dec=${dec%%;*}
  echo "decide $dec"
  hpcml_say "decision job $dec runs after $pred; its log: $run/slurm/hpcml-monitor-$dec.out"
  exit 0
fi

read -r st ex < <(hpcml_wait_job "$pred" "${HPCML_POLL_S:-2}")
if [[ $st != COMPLETED ]]; then
  hpcml_say "scoring job $pred: $st (exit $ex); log $run/slurm/hpcml-predict-$pred.out"
  exit $((ex > 0 ? ex : 1))
fi
decide
rc=$?
hpcml_say "monitoring run finished: exit $rc; outputs in $run"
exit $rc
