#!/usr/bin/env bash
# demo.sh — the main job: the whole pipeline on the built-in default dataset
# (configs/demo.cfg), locally under mpirun, no cluster needed:
# gen -> etl -> sweep -> final training with best.cfg -> evaluation.
#   scripts/demo.sh [-np N] [-s section.key=value]...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
np=2
overrides=()
cd "$root" # outputs go to hpcml-out/ in the checkout (configs/demo.cfg)
while (($#)); do
  case "$1" in
    -np) np=$2; shift 2 ;;
    -s) overrides+=(-s "$2"); shift 2 ;;
    *) echo "usage: scripts/demo.sh [-np N] [-s section.key=value]..." >&2; exit 1 ;;
  esac
done
"$root/scripts/setup.sh"
export HPCML_BUILD_DIR=${HPCML_BUILD_DIR:-$root/build}
"$root/scripts/build.sh"
bin=$HPCML_BUILD_DIR/bin
cfg=$root/configs/demo.cfg
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
echo "== done: hpcml-out/train/evaluation.json"
cat hpcml-out/train/evaluation.json
