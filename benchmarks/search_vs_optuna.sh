#!/usr/bin/env bash
# search_vs_optuna.sh — hpcml's random search and TPE against Optuna 3.1's TPE, each with
# early stopping, on the real trainer.
#
#   benchmarks/search_vs_optuna.sh BUILD_DIR [OUT_DIR] [-s section.key=value]...
#
# For each data set in DATASETS (default "adult fraud"): (a) the UCI Adult data in
# tests/data through configs/adult.cfg, metric val_auc; (b) the synthetic fraud set of
# configs/sweep_efficiency.cfg (ROWS rows, default 284,807), metric val_pr_auc. For each
# seed in SEEDS (default "1 2 3 4 5"), the same space (configs/sweep_efficiency.cfg's
# sweep.space) and TRIALS trials (default 100), three arms:
#   random  hpcml-sweep --pool, sweep.search = "random", ASHA as configured (grace 3, rf 3)
#   tpe     the same with sweep.search = "tpe" (Optuna's defaults)
#   optuna  Optuna 3.1 TPESampler(seed) + SuccessiveHalvingPruner(grace, rf) driving
#           hpcml-train one epoch at a time (benchmarks/search_vs_optuna.py)
# All arms train with a constant learning rate (the Optuna arm's epoch-at-a-time calls
# would change a schedule that depends on train.epochs). Prints per seed the best-so-far
# table and the trials each arm needs to reach random search's final best, writes
# curves-DATASET-sSEED.{csv,svg}, and at the end the medians over seeds.
# Extra -s options go to every hpcml program. NP (default 2) ranks for the pool arms
# (groups of 1 rank); the Optuna arm runs its trials one after another. Not a test.
set -euo pipefail
BUILD=$(cd "$1" && pwd)
shift
OUT=/tmp/hpcml-search-bench
if [[ $# -gt 0 && $1 != -s ]]; then OUT=$1; shift; fi
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
NP=${NP:-2}
TRIALS=${TRIALS:-100}
SEEDS=${SEEDS:-1 2 3 4 5}
DATASETS=${DATASETS:-adult fraud}
ROWS=${ROWS:-284807}
CFG=$SRC/configs/sweep_efficiency.cfg
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
export OMPI_MCA_btl_vader_single_copy_mechanism=none
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
exec > >(tee -a "$OUT/bench.log") 2>&1
cd "$SRC" # configs/adult.cfg names its inputs relative to the repository root
max_t=$(sed -n 's/^ *max_t = \([0-9]*\);.*/\1/p' "$CFG" | head -1)
grace=$(sed -n 's/^ *grace_period = \([0-9]*\);.*/\1/p' "$CFG" | head -1)
rf=$(sed -n 's/^ *reduction_factor = \([0-9.]*\);.*/\1/p' "$CFG" | head -1)
[[ $rf =~ ^[0-9]+(\.0*)?$ ]] || { echo "Optuna's pruner needs an integer reduction_factor" >&2; exit 1; }
echo "$(date -u +%FT%TZ) search_vs_optuna: datasets '$DATASETS', seeds '$SEEDS', $TRIALS trials," \
  "max_t $max_t, grace $grace, rf $rf; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

for ds in $DATASETS; do
  D=$OUT/$ds
  mkdir -p "$D"
  if [[ $ds == adult ]]; then
    metric=val_auc
    [[ -s $D/dataset.h5 ]] || "${MPIRUN[@]}" -np 1 "$BUILD/bin/hpcml-etl" -q -c configs/adult.cfg \
      -s "etl.output=$D/dataset.h5"
  else
    metric=val_pr_auc
    if [[ ! -s $D/dataset.h5 ]]; then
      "${MPIRUN[@]}" -np 2 "$BUILD/bin/hpcml-gen" -q -c "$CFG" -s "gen.output_dir=$D/raw" \
        -s "gen.rows=$ROWS"
      "${MPIRUN[@]}" -np 2 "$BUILD/bin/hpcml-etl" -q -c "$CFG" -s "etl.input=$D/raw/*.csv" \
        -s "etl.output=$D/dataset.h5"
    fi
  fi
  S=(-s "train.dataset=$D/dataset.h5" -s train.lr_schedule=constant -s "sweep.metric=$metric"
    -s "train.early_stopping_metric=$metric" -s "sweep.trials=$TRIALS" "$@")
  for seed in $SEEDS; do
    R=$D/s$seed
    mkdir -p "$R"
    for arm in random tpe; do
      [[ -s $R/$arm/results.csv ]] && continue
      t0=$(date +%s)
      "${MPIRUN[@]}" -np "$NP" "$BUILD/bin/hpcml-sweep" -c "$CFG" "${S[@]}" -s "sweep.seed=$seed" \
        -s "sweep.search=$arm" -s "sweep.output_dir=$R/$arm" --pool >"$R/$arm.log" 2>&1 ||
        { tail -20 "$R/$arm.log" >&2; echo "$ds seed $seed $arm failed" >&2; exit 1; }
      echo "$(date -u +%FT%TZ) $ds seed $seed $arm: $(($(date +%s) - t0)) s"
    done
    if [[ ! -s $R/optuna/trials.csv ]]; then
      t0=$(date +%s)
      $PY "$SRC/benchmarks/search_vs_optuna.py" optuna "$BUILD/bin/hpcml-train" "$CFG" \
        "$R/optuna" "$TRIALS" "$seed" "$max_t" "$grace" "$rf" "$metric" "${S[@]}" \
        -s train.blas_threads=1 >"$R/optuna.log" 2>&1 ||
        { tail -20 "$R/optuna.log" >&2; echo "$ds seed $seed optuna failed" >&2; exit 1; }
      echo "$(date -u +%FT%TZ) $ds seed $seed optuna: $(($(date +%s) - t0)) s"
    fi
    echo "== $ds, seed $seed, $TRIALS trials =="
    $PY "$SRC/benchmarks/search_vs_optuna.py" summary "$OUT/curves-$ds-s$seed.csv" \
      "$OUT/curves-$ds-s$seed.svg" "random=$R/random/journal.jsonl" \
      "tpe=$R/tpe/journal.jsonl" "optuna=$R/optuna/trials.csv" | tee "$R/summary.txt"
  done
  echo "== $ds: medians over seeds $SEEDS =="
  $PY - "$D" $SEEDS <<'EOF'
import re, statistics, sys
d, seeds = sys.argv[1], sys.argv[2:]
reach, best = {}, {}
for s in seeds:
    for line in open(f"{d}/s{s}/summary.txt").read().splitlines()[1:]:
        arm, n, b, r = line.split(None, 3)
        best.setdefault(arm, []).append(float(b))
        reach.setdefault(arm, []).append(int(r) if r.isdigit() else float("inf"))
for arm in best:
    print(f"{arm:<8} median best {statistics.median(best[arm]):.6f}, median trials to reach "
          f"random's best {statistics.median(reach[arm])}")
EOF
done
