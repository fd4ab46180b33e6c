#!/usr/bin/env bash
# test_slurm_monitor.sh — slurm/monitor.sh and slurm/predict.sbatch on a real one-node Slurm
# with the real programs: a model trained on 3,000 generated rows, then
#   - an undrifted batch (another seed): monitor.sh --wait scores it as a job, drift no,
#     nothing else submitted, nothing but DIR/predict and DIR/slurm written;
#   - a drifted batch (gen.drift_columns V1..V18 shifted by 1 sd), retrain_on_drift = true:
#     drift yes, the ETL -> 2-trial sweep -> final training chain runs after the scoring on
#     the training inputs plus the new rows and writes a new model into a new folder; the
#     model in use is untouched;
#   - the same batch with retrain_on_drift = false: drift yes, nothing submitted;
#   - without --wait: the decision runs as a job after the scoring job (afterok) and
#     submits the chain, whose final training writes the new model;
#   - --out naming an existing folder: exit 1, nothing submitted.
# labels: slurm pipeline
# timeout: 400
# ranks: 1, 2 under mpirun, then Slurm jobs on a one-node local Slurm with 8 CPUs
# options: configs/demo.cfg; -s gen.drift_shift, gen.output_dir, gen.positive_fraction,
#   gen.rows, gen.seed, gen.shards, monitoring.profile, monitoring.retrain_on_drift,
#   monitoring.trace, predict.input, predict.model, predict.output, resources.retry_backoff_s,
#   sweep.grace_period, sweep.max_parallel, sweep.max_t, sweep.trials,
#   train.early_stopping_patience, train.epochs
# skips (exit 77): not root (slurm_lib.sh slurm_up: the local Slurm runs its daemons as root)
# Usage: bash test_slurm_monitor.sh BUILD_DIR SRC_DIR
source "$(dirname "$0")/lib.sh" "$@"
source "$(dirname "$0")/slurm_lib.sh"
for p in gen etl sweep train predict; do
  [[ -x $BIN/hpcml-$p ]] || fail "$BIN/hpcml-$p not built"
done
t_start=$SECONDS
slurm_up 7400 8
export HPCML_PREFIX=$BUILD HPCML_POLL_S=0.5
CFG=$SRC/configs/demo.cfg
cd "$TMP" || fail "cd $TMP"

P=(-s gen.rows=3000 -s gen.shards=1 -s gen.positive_fraction=0.1 -s train.epochs=1
  -s sweep.trials=2 -s sweep.max_parallel=2 -s sweep.max_t=1 -s sweep.grace_period=1
  -s train.early_stopping_patience=1 -s resources.retry_backoff_s=1
  -s monitoring.profile=false -s monitoring.trace=false)
q=(-q -c "$CFG" "${P[@]}")

# --- the model in use, and two new batches ---------------------------------------------------
t=$SECONDS
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN/hpcml-gen" "${q[@]}"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN/hpcml-etl" "${q[@]}"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN/hpcml-train" "${q[@]}"
model=hpcml-out/train/model.h5
[[ -s $model ]] || fail "no $model"
sum0=$(sha256sum <"$model")
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN/hpcml-gen" "${q[@]}" -s gen.rows=2000 -s gen.seed=7 \
  -s gen.output_dir=new-ok
dc='gen.drift_columns=["V1","V2","V3","V4","V5","V6","V7","V8","V9","V10","V11","V12","V13","V14","V15","V16","V17","V18"]'
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN/hpcml-gen" "${q[@]}" -s gen.rows=2000 -s gen.seed=8 \
  -s gen.output_dir=new-drift -s "$dc" -s gen.drift_shift=1.0
pass "model trained on 3000 rows, undrifted and drifted batches of 2000 ($((SECONDS - t)) s)"

# lines_of FILE: the first words of monitor.sh's stdout lines.
lines_of() { awk '{ printf "%s%s", (NR > 1 ? " " : ""), $1 }' "$1"; }
val_of() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
njobs() { scontrol show job -o 2>/dev/null | grep -c "JobName=$1 " || true; }

# --- undrifted batch: scored, no retraining ------------------------------------------------------
t=$SECONDS
rc=0
"$SRC/slurm/monitor.sh" "$CFG" "${P[@]}" -s monitoring.retrain_on_drift=true --new 'new-ok/*.csv' \
  --wait >ok.out 2>ok.err || rc=$?
[[ $rc -eq 0 ]] || { cat ok.out ok.err "$(val_of ok.out run)"/slurm/* >&2; fail "monitor.sh --wait (undrifted) exited $rc"; }
[[ $(lines_of ok.out) == "run predict drift retrain" ]] || { cat ok.out >&2; fail "undrifted: unexpected output"; }
[[ $(val_of ok.out drift) == no ]] || fail "undrifted batch judged drifted"
run1=$(val_of ok.out run)
[[ $run1 == "$TMP"/hpcml-out/monitor/* ]] || fail "run folder $run1 not under hpcml-out/monitor/"
pid1=$(val_of ok.out predict)
[[ $(job_field "$pid1" JobState) == COMPLETED ]] || fail "scoring job $pid1: $(job_field "$pid1" JobState)"
[[ -s $run1/predict/drift.json && ! -e $run1/predict/DRIFT ]] || fail "undrifted: no drift.json or a DRIFT marker"
[[ $(($(wc -l <"$run1/predict/predictions.csv") - 1)) -eq 2000 ]] || fail "undrifted: predictions.csv has not 2000 rows"
grep -q "no dataset drift" "$run1/slurm/hpcml-predict-$pid1.out" || fail "the scoring log has no verdict"
[[ $(njobs hpcml-etl) -eq 0 && $(njobs hpcml-train) -eq 0 ]] || fail "undrifted batch submitted training jobs"
[[ $(ls "$run1") == $'predict\nslurm' ]] || fail "undrifted run wrote more than predict/ and slurm/: $(ls "$run1")"
pass "undrifted batch: scored as job $pid1, drift no, no retraining ($((SECONDS - t)) s)"

# --- drifted batch: the retraining chain -----------------------------------------------------------
t=$SECONDS
rc=0
"$SRC/slurm/monitor.sh" "$CFG" "${P[@]}" -s monitoring.retrain_on_drift=true --new 'new-drift/*.csv' \
  --wait >d.out 2>d.err || rc=$?
run2=$(val_of d.out run)
[[ $rc -eq 0 ]] || { cat d.out d.err "$run2"/slurm/*.out >&2; fail "monitor.sh --wait (drifted) exited $rc"; }
[[ $(lines_of d.out) == "run predict drift etl sweep train-final report" ]] || { cat d.out >&2; fail "drifted: unexpected output"; }
[[ $(val_of d.out drift) == yes && -e $run2/predict/DRIFT ]] || fail "drifted batch not judged drifted"
[[ $run2 != "$run1" ]] || fail "second run reused the first run's folder"
declare -A J
while read -r k v; do J[$k]=$v; done <d.out
epoch_of() { date -d "$(job_field "$1" "$2")" +%s; }
[[ $(epoch_of "${J[etl]}" SubmitTime) -ge $(epoch_of "${J[predict]}" EndTime) ]] ||
  fail "the retraining was submitted before the scoring ended"
for s in etl train-final; do
  [[ $(job_field "${J[$s]}" JobState) == COMPLETED ]] || fail "$s job ${J[$s]}: $(job_field "${J[$s]}" JobState)"
done
[[ -s $run2/train/model.h5 && -s $run2/train/evaluation.json && -s $run2/sweep/best.cfg ]] ||
  fail "the retraining left no model.h5, evaluation.json or best.cfg in $run2"
[[ -s $run2/report.html && ! -e hpcml-out/report.html ]] ||
  fail "the retraining's report is not $run2/report.html (or it went elsewhere)"
[[ $(sha256sum <"$model") == "$sum0" ]] || fail "the model in use was changed"
cmp -s "$model" "$run2/train/model.h5" && fail "the new model is the old one"
# The new dataset holds the training rows and the new ones.
n=$($PY -c '
import h5py, sys
f = h5py.File(sys.argv[1], "r")
print(sum(f[s + "/y"].shape[0] for s in ("train", "val", "test")))' "$run2/dataset.h5") ||
  fail "$run2/dataset.h5 unreadable"
[[ $n -eq 5000 ]] || fail "the retraining dataset holds $n rows, not 3000 + 2000"
# The new model scores the drifted batch without error (it is a model package).
expect_exit 0 "${MPIRUN[@]}" -np 1 "$BIN/hpcml-predict" "${q[@]}" -s "predict.model=\"$run2/train/model.h5\"" \
  -s 'predict.input=["new-drift/*.csv"]' -s predict.output=rescored/p.csv
pass "drifted batch: drift yes, etl ${J[etl]} -> sweep ${J[sweep]} -> train ${J[train-final]} on 5000 rows, new model in $run2 ($((SECONDS - t)) s)"

# --- retrain_on_drift = false: drift yes, nothing submitted -----------------------------------------
t=$SECONDS
rc=0
"$SRC/slurm/monitor.sh" "$CFG" "${P[@]}" --new 'new-drift/*.csv' --wait >off.out 2>off.err || rc=$?
[[ $rc -eq 0 && $(lines_of off.out) == "run predict drift retrain" && $(val_of off.out drift) == yes ]] ||
  { cat off.out off.err >&2; fail "retrain_on_drift = false: exit $rc, unexpected output"; }
grep -q "monitoring.retrain_on_drift = false" off.err || fail "no reason given for not retraining"
[[ ! -e $(val_of off.out run)/dataset.h5 ]] || fail "retrain_on_drift = false still retrained"
pass "retrain_on_drift = false: drift yes, no retraining ($((SECONDS - t)) s)"

# --- without --wait: the decision is a job after the scoring, and it submits the chain ------------------
t=$SECONDS
"$SRC/slurm/monitor.sh" "$CFG" "${P[@]}" -s monitoring.retrain_on_drift=true --new 'new-drift/*.csv' \
  --out nw >nw.out 2>nw.err || { cat nw.err >&2; fail "monitor.sh without --wait failed"; }
[[ $(lines_of nw.out) == "run predict decide" && $(val_of nw.out run) == "$TMP/nw" ]] ||
  { cat nw.out >&2; fail "no --wait: unexpected output"; }
dec=$(val_of nw.out decide)
[[ $(job_field "$dec" Dependency) == *afterok:$(val_of nw.out predict)* ]] ||
  fail "decision job $dec does not depend on the scoring job: $(job_field "$dec" Dependency)"
wait_job "$dec" 120
log=$(cat "nw/slurm/hpcml-monitor-$dec.out")
[[ $st == COMPLETED ]] || { echo "$log" >&2; fail "decision job: $st (exit $rc)"; }
grep -q "^drift yes" <<<"$log" || { echo "$log" >&2; fail "decision job: wrong verdict"; }
tf=$(awk '$1 == "train-final" { print $2 }' <<<"$log")
[[ -n $tf ]] || { echo "$log" >&2; fail "decision job submitted no final training"; }
wait_job "$tf" 180
[[ $st == COMPLETED && -s nw/train/model.h5 ]] || { cat nw/slurm/*.out >&2; fail "final training $tf: $st, or no nw/train/model.h5"; }
[[ $(sha256sum <"$model") == "$sum0" ]] || fail "the model in use was changed"
pass "no --wait: decision job $dec after the scoring submitted the chain; train $tf wrote nw/train/model.h5 ($((SECONDS - t)) s)"

before=$(scontrol show job -o | wc -l)
expect_exit 1 "$SRC/slurm/monitor.sh" "$CFG" "${P[@]}" --new 'new-ok/*.csv' --out nw
[[ $(scontrol show job -o | wc -l) -eq $before ]] || fail "--out on an existing folder submitted a job"
pass "--out naming an existing folder: exit 1, nothing submitted"
pass "all in $((SECONDS - t_start)) s"
