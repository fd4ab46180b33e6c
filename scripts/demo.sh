#!/usr/bin/env bash
# demo.sh — the main job: the whole pipeline on the built-in default dataset
# (configs/demo.cfg), locally under mpirun, no cluster needed:
# gen -> etl -> sweep -> final training with best.cfg -> evaluation -> a new, drifted
# batch scored with the final model.h5 (predictions, predict_quality.json, drift verdict)
# -> report.html.
#   scripts/demo.sh [-np N] [--slurm] [-s section.key=value]...
# --slurm: the same pipeline as Slurm jobs on a real one-node Slurm on this machine:
# starts it (slurm/local/start.sh, in $HPCML_SLURM_DIR, default /tmp/hpcml-slurm),
# submits slurm/pipeline.sh --wait (gen -> etl -> sweep job array -> final training ->
# report), prints evaluation.json and the report's path and stops the cluster (also on
# failure). Needs root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
np=2
slurm=0
overrides=()
cd "$root" # outputs go to hpcml-out/ in the checkout (configs/demo.cfg)
while (($#)); do
  case "$1" in
    -np) np=$2; shift 2 ;;
    -s) overrides+=(-s "$2"); shift 2 ;;
    --slurm) slurm=1; shift ;;
    *) echo "usage: scripts/demo.sh [-np N] [--slurm] [-s section.key=value]..." >&2; exit 1 ;;
  esac
done
if ((slurm)); then "$root/scripts/setup.sh" --slurm; else "$root/scripts/setup.sh"; fi
export HPCML_BUILD_DIR=${HPCML_BUILD_DIR:-$root/build}
"$root/scripts/build.sh"
bin=$HPCML_BUILD_DIR/bin
cfg=$root/configs/demo.cfg

if ((slurm)); then
  # As in the local demo, 16 trials (-s sweep.trials=100 for configs/demo.cfg's full
  # sweep); here they are tasks of a job array, sweep.max_parallel at a time.
  echo "== a one-node Slurm on this machine (slurm/local/start.sh)"
  trap '"$root/slurm/local/stop.sh"' EXIT
  eval "$("$root/slurm/local/start.sh")"
  echo "== slurm/pipeline.sh --wait: gen -> etl -> sweep array -> final training -> report (logs in hpcml-out/slurm/)"
  HPCML_PREFIX=$HPCML_BUILD_DIR "$root/slurm/pipeline.sh" "$cfg" -s sweep.trials=16 "${overrides[@]}" --wait
  echo "== done: hpcml-out/train/evaluation.json"
  cat hpcml-out/train/evaluation.json
  report=$("$bin/hpcml-report" -c "$cfg" "${overrides[@]}" --print-config |
    sed -n '/^report = {$/,/^};$/s/^  output = "\(.*\)";$/\1/p')
  [[ $report == /* ]] || report=$root/$report
  echo "== report: $report (one self-contained page: open it in a browser)"
  exit 0
fi
run() { mpirun --allow-run-as-root --oversubscribe -np "$np" "$@"; }

echo "== hpcml-gen: synthetic data"
run "$bin/hpcml-gen" -c "$cfg" "${overrides[@]}"
echo "== hpcml-etl: CSV -> hpcml-out/dataset.h5"
run "$bin/hpcml-etl" -c "$cfg" "${overrides[@]}"
# A local demo runs the sweep in pool mode (trials share the ranks) with 16
# trials; on a cluster slurm/pipeline.sh runs configs/demo.cfg's 100 trials
# as a job array. -s sweep.trials=100 here does the same locally.
echo "== hpcml-sweep: ASHA over the search space (pool mode)"
run "$bin/hpcml-sweep" -c "$cfg" -s sweep.trials=16 "${overrides[@]}" --pool
echo "== hpcml-train: final training with the sweep's best.cfg, then evaluation on /test"
run "$bin/hpcml-train" -c hpcml-out/sweep/best.cfg "${overrides[@]}"
echo "== test metrics: hpcml-out/train/evaluation.json"
cat hpcml-out/train/evaluation.json
# Next week's data: a fresh batch in which some features moved and a new category appeared
# (hpcml-gen's drift keys), scored with the final model's package, drift checked.
echo "== hpcml-gen: a new, drifted batch -> hpcml-out/new/"
run "$bin/hpcml-gen" -c "$cfg" "${overrides[@]}" -s gen.output_dir=hpcml-out/new -s gen.seed=2027 \
  -s gen.rows=50000 -s gen.shards=2 -s gen.drift_shift=0.5 -s gen.new_category_fraction=0.02 \
  -s 'gen.drift_columns=["V1","V2","V3","V4","V5","V6","V7","V8","V9","V10","V11","V12","V13","V14","V15","V16","Amount"]'
echo "== hpcml-predict: score it with hpcml-out/train/model.h5"
run "$bin/hpcml-predict" -c "$cfg" "${overrides[@]}" -s 'predict.input=["hpcml-out/new/*.csv"]' \
  -s predict.output=hpcml-out/predict/predictions.csv
echo "predictions:   hpcml-out/predict/predictions.csv"
echo "data quality:  hpcml-out/predict/predict_quality.json"
echo "drift report:  hpcml-out/predict/drift.json (picture: drift.svg)"
if [[ -e hpcml-out/predict/DRIFT ]]; then
  echo "drift verdict: DRIFT: $(cat hpcml-out/predict/DRIFT)"
else
  echo "drift verdict: no dataset drift"
fi
echo "== hpcml-export: model.h5 and its preprocessing -> one ONNX graph (docs/export.md)"
run1() { mpirun --allow-run-as-root --oversubscribe -np 1 "$@"; }
run1 "$bin/hpcml-export" -q -c "$cfg" "${overrides[@]}" --model hpcml-out/train/model.h5 \
  -o hpcml-out/model.onnx
echo "onnx model:    hpcml-out/model.onnx (raw columns in, probabilities and label out)"
echo "== hpcml-report: the run's files -> one self-contained HTML page"
run1 "$bin/hpcml-report" -q -c "$cfg" "${overrides[@]}"
report=$("$bin/hpcml-report" -c "$cfg" "${overrides[@]}" --print-config |
  sed -n '/^report = {$/,/^};$/s/^  output = "\(.*\)";$/\1/p')
[[ $report == /* ]] || report=$root/$report
echo "== report: $report (open it in a browser; it needs no network)"
