#!/usr/bin/env bash
# search_vs_optuna.sh — hpcml's random search and TPE against Optuna 3.1's TPE, each with
# early stopping, on the real trainer (issue 14's protocol).
#
#   benchmarks/search_vs_optuna.sh BUILD_DIR [OUT_DIR] [-s section.key=value]...
#
# For each data set in DATASETS (default "adult fraud"): (a) the UCI Adult data in
# tests/data through configs/adult.cfg, metric val_auc; (b) the synthetic fraud set of
# configs/sweep_efficiency.cfg (ROWS rows, default 284,807), metric val_pr_auc. For each
# seed in SEEDS (default "1 2 3 4 5"), the same space (configs/sweep_efficiency.cfg's
# sweep.space) and TRIALS trials (default 100), the arms of ARMS (default all five):
#   random       hpcml-sweep --pool, sweep.search = "random", ASHA as configured (grace 3, rf 3)
#   tpe          the same with sweep.search = "tpe" (Optuna's defaults)
#   optuna       Optuna 3.1 TPESampler(seed) + SuccessiveHalvingPruner(grace, rf) driving
#                hpcml-train, every epoch reported, one process per rung (OPTUNA_CALLS=epoch:
#                per epoch; the same trials) (benchmarks/search_vs_optuna.py)
#   full_random  random search with sweep.scheduler = "none" (every trial to max_t)
#   full_tpe     TPE with sweep.scheduler = "none"
# Arms run random and tpe seed by seed, then optuna for every seed, then the full searches
# (so a run cut short has comparable pairs). A finished arm of a seed is kept and skipped on a
# re-run of the same OUT_DIR, and an arm that another run of this script is running (its
# process in sSEED/ARM.pid is alive) is skipped, so runs with other SEEDS or ARMS can share
# OUT_DIR side by side. Then, per seed, the best config of each arm is retrained
# to its last epoch with train.evaluate = true (its /test metric, and the metric's
# bootstrap standard deviation over the /test rows), and report prints:
#   - per seed and arm: best validation value, trials to reach random search's final best,
#     epochs trained, /test value ± bootstrap sd; best-so-far curves
#     curves-DATASET-sSEED.{csv,svg};
#   - medians over seeds; goal 1 (TPE+ASHA reaches random's best within GOAL_TRIALS = 50
#     trials, median over seeds), goal 2 (TPE's best on /test at least Optuna's minus one
#     bootstrap sd), goal 3 (ASHA's best within one bootstrap sd of the full search's best
#     with at most 35 % of its epochs, for random and TPE).
# All arms train with a constant learning rate (the Optuna arm's epoch-at-a-time calls
# would change a schedule that depends on train.epochs). Extra -s options go to every
# hpcml program. NP (default 2) ranks for the pool arms (groups of 1 rank); the Optuna
# arm runs its trials one after another. REPORT_ONLY=1 runs nothing: it evaluates the
# finished arms and reports what OUT_DIR holds (e.g. after a run was cut short; unfinished
# arms are reported with the trials they have). Not a test: goals are reported, not asserted.
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
ARMS=${ARMS:-random tpe optuna full_random full_tpe}
ROWS=${ROWS:-284807}
GOAL_TRIALS=${GOAL_TRIALS:-50}
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
echo "$(date -u +%FT%TZ) search_vs_optuna: datasets '$DATASETS', seeds '$SEEDS', arms '$ARMS'," \
  "$TRIALS trials, max_t $max_t, grace $grace, rf $rf, rows $ROWS (fraud); $(nproc) cores," \
  "load $(cut -d' ' -f1-3 /proc/loadavg); extra: $*"

# run_arm DS SEED ARM: one arm of one seed, unless it finished before.
run_arm() {
  local ds=$1 seed=$2 arm=$3 R=$D/s$2 t0 search sched
  mkdir -p "$R"
  t0=$(date +%s)
  if [[ -n ${REPORT_ONLY:-} ]]; then # runs nothing; --status rewrites results.csv and .status
    [[ $arm != optuna && -s $R/$arm/journal.jsonl ]] || return 0
    search=${arm#full_} sched=asha
    [[ $arm == full_* ]] && sched=none
    "$BUILD/bin/hpcml-sweep" -c "$CFG" "${S[@]}" -s "sweep.seed=$seed" -s "sweep.search=$search" \
      -s "sweep.scheduler=$sched" -s "sweep.output_dir=$R/$arm" --status >"$R/$arm.status"
    return 0
  fi
  if [[ $arm == optuna ]]; then
    [[ -s $R/optuna/trials.csv ]] && return 0
    # another run of this script (on other seeds, side by side) may be running this arm
    if [[ -s $R/optuna.pid ]] && kill -0 "$(cat "$R/optuna.pid")" 2>/dev/null; then
      echo "$ds seed $seed optuna: running in process $(cat "$R/optuna.pid"), skipped"
      return 0
    fi
    rm -rf "$R/optuna" # an interrupted Optuna arm starts again (it has no journal)
    $PY "$SRC/benchmarks/search_vs_optuna.py" optuna "$BUILD/bin/hpcml-train" "$CFG" \
      "$R/optuna" "$TRIALS" "$seed" "$max_t" "$grace" "$rf" "$metric" "${S[@]}" \
      -s train.blas_threads=1 >"$R/optuna.log" 2>&1 &
    echo $! >"$R/optuna.pid"
    wait $! || { tail -20 "$R/optuna.log" >&2; echo "$ds seed $seed optuna failed" >&2; return 1; }
  else
    [[ -s $R/$arm/results.csv ]] && grep -q "Number of trials: $TRIALS/$TRIALS" "$R/$arm.status" 2>/dev/null &&
      return 0
    # one pool of NP ranks per arm: another run of this script may be running it
    if [[ -s $R/$arm.pid ]] && kill -0 "$(cat "$R/$arm.pid")" 2>/dev/null; then
      echo "$ds seed $seed $arm: running in process $(cat "$R/$arm.pid"), skipped"
      return 0
    fi
    search=${arm#full_} sched=asha
    [[ $arm == full_* ]] && sched=none
    # an interrupted pool resumes from its journal (failed trials are retried)
    "${MPIRUN[@]}" -np "$NP" "$BUILD/bin/hpcml-sweep" -c "$CFG" "${S[@]}" -s "sweep.seed=$seed" \
      -s "sweep.search=$search" -s "sweep.scheduler=$sched" -s "sweep.output_dir=$R/$arm" \
      --pool >>"$R/$arm.log" 2>&1 &
    echo $! >"$R/$arm.pid"
    wait $! || { tail -20 "$R/$arm.log" >&2; echo "$ds seed $seed $arm failed" >&2; return 1; }
    "$BUILD/bin/hpcml-sweep" -c "$CFG" "${S[@]}" -s "sweep.seed=$seed" -s "sweep.search=$search" \
      -s "sweep.scheduler=$sched" -s "sweep.output_dir=$R/$arm" --status >"$R/$arm.status"
  fi
  echo "$(date -u +%FT%TZ) $ds seed $seed $arm: $(($(date +%s) - t0)) s"
}

# evaluate SEED ARM: the arm's best config retrained to its last epoch, evaluated on /test.
evaluate() {
  local R=$D/s$1 arm=$2 src best
  src=$R/$arm/journal.jsonl
  [[ $arm == optuna ]] && src=$R/optuna/trials.csv
  [[ -s $src && ! -s $R/eval-$arm/predictions.h5 ]] || return 0
  # only finished arms (a cut run's Optuna arm has trials.partial.csv, not trials.csv)
  [[ $arm == optuna ]] || grep -q "Number of trials: $TRIALS/$TRIALS" "$R/$arm.status" 2>/dev/null ||
    return 0
  best=$($PY "$SRC/benchmarks/search_vs_optuna.py" best "$src" "$R/eval-$arm.args")
  mapfile -t A <"$R/eval-$arm.args"
  rm -rf "$R/eval-$arm"
  "$BUILD/bin/hpcml-train" -q -c "$CFG" "${S[@]}" "${A[@]}" -s "train.output_dir=$R/eval-$arm" \
    -s train.evaluate=true -s train.resume=never -s train.blas_threads=1 >"$R/eval-$arm.log" 2>&1 ||
    { tail -5 "$R/eval-$arm.log" >&2; echo "retraining $arm's best failed" >&2; return 1; }
  # the retrained model's last validation value must be the one the arm recorded
  # shellcheck disable=SC2086 # best is "trial epochs value"
  $PY - "$R/eval-$arm/metrics.jsonl" "$metric" $best <<'PY' || return 1
import json, sys
path, metric, trial, epochs, value = sys.argv[1:]
rec = [json.loads(x) for x in open(path) if x.strip()][-1]
got = float(rec[metric])
same = f"{got:.9e}" == f"{float(value):.9e}"  # metrics.jsonl keeps 10 significant digits
print(f"  best trial {trial} at epoch {epochs}: recorded {float(value):.6f}, retrained {got:.6f}"
      f" ({'the same to 10 digits' if same else 'DIFFERENT'})")
PY
}

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
  # the two ASHA arms of hpcml seed by seed (a run cut short has pairs), then the Optuna
  # arm of every seed, then the full searches
  for group in "random tpe" optuna "full_random full_tpe"; do
    for seed in $SEEDS; do
      for arm in $group; do
        [[ " $ARMS " == *" $arm "* ]] && run_arm "$ds" "$seed" "$arm"
      done
    done
  done
  for seed in $SEEDS; do
    R=$D/s$seed
    [[ -d $R ]] || continue
    echo "== $ds, seed $seed, $TRIALS trials =="
    curves=()
    for arm in $ARMS; do
      src=$R/$arm/journal.jsonl
      [[ $arm == optuna ]] && src=$R/optuna/trials.csv
      [[ $arm == optuna && ! -s $src ]] && src=$R/optuna/trials.partial.csv
      [[ -s $src ]] && curves+=("$arm=$src")
      evaluate "$seed" "$arm"
    done
    $PY "$SRC/benchmarks/search_vs_optuna.py" summary "$OUT/curves-$ds-s$seed.csv" \
      "$OUT/curves-$ds-s$seed.svg" "${curves[@]}" | tee "$R/summary.txt"
  done
  echo "== $ds: report over seeds $SEEDS =="
  # shellcheck disable=SC2086 # SEEDS is a list
  $PY "$SRC/benchmarks/search_vs_optuna.py" report "$D" "$metric" "$GOAL_TRIALS" "$TRIALS" $SEEDS |
    tee "$D/report.md"
done
