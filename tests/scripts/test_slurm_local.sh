#!/usr/bin/env bash
# test_slurm_local.sh — slurm/ against a real one-node Slurm (slurm/local/start.sh):
# hpcml-gen as a batch job (srun and mpirun launchers), sbatch --wait exit codes, a
# config or data error fails at once while an I/O error is retried with back-off, a
# preempted training job (USR1 through Slurm) is forwarded, requeued and finishes with
# SLURM_RESTART_COUNT=1, pipeline.sh chains and skips stages, and its --dry-run lines
# match tests/scripts/golden/pipeline_dry_run.txt. hpcml-etl, -sweep and -train are
# stood in for by slurm_fake_program.sh here, so the plumbing is tested on its own.
# labels: slurm
# timeout: 600
# ranks: Slurm jobs (srun and mpirun launchers) on a one-node local Slurm with 8 CPUs
# options: configs/demo.cfg; -s etl.input, etl.output, gen.enabled, gen.output_dir, gen.rows,
#   gen.seed, gen.shards, resources.account, resources.gpus_per_task, resources.launcher,
#   resources.log_dir, resources.max_retries, resources.mem, resources.partition,
#   resources.requeue, resources.retry_backoff_s, resources.signal_grace_s,
#   resources.train_time, sweep.max_parallel, sweep.output_dir, sweep.trials, train.output_dir
# skips (exit 77): not root (slurm_lib.sh slurm_up: the local Slurm runs its daemons as root)
# Usage: bash test_slurm_local.sh BUILD_DIR SRC_DIR
source "$(dirname "$0")/lib.sh" "$@"

source "$(dirname "$0")/slurm_lib.sh"
[[ -x $BIN/hpcml-gen ]] || fail "$BIN/hpcml-gen not built"

t_start=$SECONDS
slurm_up 6900 8 # jobs of a pipeline run side by side; tasks share the cores
eval "$("$SRC/slurm/local/start.sh" 2>/dev/null)" # idempotent
[[ -n ${SLURM_CONF:-} ]] || fail "a second start.sh printed no SLURM_CONF"

# Programs: the real hpcml-gen, fakes for the others (see slurm_fake_program.sh).
prefix=$TMP/prefix
mkdir -p "$prefix/bin"
ln -s "$BIN/hpcml-gen" "$prefix/bin/hpcml-gen"
for p in etl sweep train; do
  ln -s "$SRC/tests/scripts/slurm_fake_program.sh" "$prefix/bin/hpcml-$p"
done
export HPCML_PREFIX=$prefix FAKE_REAL=$BIN/hpcml-gen FAKE_PY=$PY FAKE_LOG=$TMP/fake.log
CFG=$SRC/configs/demo.cfg
cd "$TMP" || fail "cd $TMP"

# --- hpcml-gen as a batch job -----------------------------------------------------------
t=$SECONDS
run_job -o "$TMP/gen-%j.out" "$SRC/slurm/gen.sbatch" "$CFG" -s gen.rows=20000 \
  -s gen.output_dir="$TMP/raw" -s resources.log_dir="$TMP/logs"
log=$(cat "$TMP"/gen-*.out)
[[ $rc -eq 0 ]] || { echo "$log" >&2; fail "gen.sbatch exited $rc"; }
[[ -s $TMP/raw/manifest.json ]] || fail "no manifest.json"
[[ $(ls "$TMP"/raw/part-*.csv | wc -l) -eq 8 ]] || fail "expected 8 shards"
rows=$(cat "$TMP"/raw/part-*.csv | grep -vc '^Time,')
[[ $rows -eq 20000 ]] || fail "expected 20000 rows, found $rows"
[[ -s $TMP/logs/gen.done ]] || fail "no stage marker gen.done"
grep -q "SLURM_RESTART_COUNT=0" <<<"$log" || fail "restart count not logged"
grep -q "launcher: srun .*--mpi=pmix" <<<"$log" || fail "auto launcher is not srun --mpi=pmix: $log"
grep -q "on 2 ranks" <<<"$log" || fail "hpcml-gen did not run on 2 ranks: $log"
pass "gen.sbatch: 20000 rows in 8 shards, 2 ranks under srun --mpi=pmix ($((SECONDS - t)) s)"

t=$SECONDS
run_job -o "$TMP/gen-mpirun.out" "$SRC/slurm/gen.sbatch" "$CFG" -s gen.rows=20000 \
  -s gen.output_dir="$TMP/raw2" -s resources.log_dir="$TMP/logs2" -s resources.launcher=mpirun
[[ $rc -eq 0 ]] || { cat "$TMP/gen-mpirun.out" >&2; fail "gen.sbatch under mpirun exited $rc"; }
grep -q "launcher: mpirun --allow-run-as-root" "$TMP/gen-mpirun.out" || fail "not launched by mpirun"
grep -q "on 2 ranks" "$TMP/gen-mpirun.out" || fail "mpirun did not start 2 ranks"
for f in "$TMP"/raw/part-*.csv; do
  cmp -s "$f" "$TMP/raw2/$(basename "$f")" || fail "$(basename "$f") differs between srun and mpirun"
done
pass "gen.sbatch under mpirun: same bytes ($((SECONDS - t)) s)"

# --- exit codes, retries ----------------------------------------------------------------------
rc=0
sbatch --wait -Q -o /dev/null --wrap 'exit 7' || rc=$?
[[ $rc -eq 7 ]] || fail "sbatch --wait returned $rc for a job exiting 7"

t=$SECONDS
rc=0
sbatch --wait -Q -o "$TMP/cfgerr.out" "$SRC/slurm/gen.sbatch" "$CFG" -s gen.rows=0 \
  -s resources.retry_backoff_s=0.2 || rc=$?
[[ $rc -eq 1 ]] || { cat "$TMP/cfgerr.out" >&2; fail "config error: sbatch --wait returned $rc, not 1"; }
grep -q "gen.rows" "$TMP/cfgerr.out" || fail "the config error is not in the job log"
grep -q "run [0-9] of" "$TMP/cfgerr.out" && fail "a config error was run or retried"

FAKE_EXIT_etl=2 run_job -o "$TMP/dataerr.out" "$SRC/slurm/etl.sbatch" "$CFG" \
  -s resources.retry_backoff_s=0.2 -s resources.log_dir="$TMP/logs"
[[ $rc -eq 2 ]] || { cat "$TMP/dataerr.out" >&2; fail "data error: exit $rc, not 2"; }
[[ $(grep -c "run [0-9] of" "$TMP/dataerr.out") -eq 1 ]] || fail "a data error was retried"
grep -q "bad input data: not retried" "$TMP/dataerr.out" || fail "no 'not retried' message"

HPCML_FAULT='gen.write@*' run_job -o "$TMP/ioerr.out" "$SRC/slurm/gen.sbatch" "$CFG" \
  -s gen.rows=1000 -s gen.output_dir="$TMP/raw3" -s resources.max_retries=2 \
  -s resources.retry_backoff_s=0.2 -s resources.log_dir="$TMP/logs3"
[[ $rc -eq 3 ]] || { cat "$TMP/ioerr.out" >&2; fail "I/O error: exit $rc, not 3"; }
[[ $(grep -c "run [0-9] of at most 3" "$TMP/ioerr.out") -eq 3 ]] || fail "I/O error not run 3 times"
grep -q "retry 1 of 2 in 0.2s" "$TMP/ioerr.out" || fail "no first retry after 0.2 s"
grep -q "retry 2 of 2 in 0.4s" "$TMP/ioerr.out" || fail "no second retry after 0.4 s (back-off doubles)"
[[ -e $TMP/logs3/gen.done ]] && fail "a failed stage was marked done"
pass "exit codes: 7 through sbatch --wait; config (1) and data (2) errors not retried; I/O (3) retried twice, 0.2 s then 0.4 s ($((SECONDS - t)) s)"

# --- preemption: USR1 through Slurm, forwarded, exit 75, requeue, resume -------------------------
t=$SECONDS
id=$(FAKE_PREEMPT=1 sbatch --parsable -o "$TMP/train-%j.out" "$SRC/slurm/train.sbatch" "$CFG" \
  -s train.output_dir="$TMP/train-pre" -s resources.log_dir="$TMP/logs")
for _ in $(seq 300); do
  [[ -e $TMP/train-pre/started ]] && break
  sleep 0.1
done
[[ -e $TMP/train-pre/started ]] || fail "the training job did not start"
scancel -b -s USR1 "$id"
for _ in $(seq 600); do
  st=$(job_field "$id" JobState)
  [[ $st == COMPLETED || $st == FAILED || $st == CANCELLED ]] && break
  sleep 0.1
done
log=$(cat "$TMP/train-$id.out")
[[ $st == COMPLETED ]] || { echo "$log" >&2; fail "preempted job ended $st"; }
[[ $(job_field "$id" Restarts) == 1 ]] || fail "job was not requeued once"
for want in "got SIGUSR1: forwarding SIGUSR1" "exited 75" "requeued job $id" \
  "SLURM_RESTART_COUNT=1"; do
  grep -q "$want" <<<"$log" || { echo "$log" >&2; fail "log lacks '$want'"; }
done
grep -q '"restart": 1' "$TMP/train-pre/evaluation.json" || fail "the requeued run did not finish"
pass "preemption: USR1 forwarded, exit 75, requeued, resumed with SLURM_RESTART_COUNT=1 ($((SECONDS - t)) s)"

# --- pipeline.sh: the chain, --wait, skipping, a failing stage --------------------------------------
t=$SECONDS
P=(-s gen.rows=5000 -s gen.shards=2 -s gen.output_dir=out/raw -s 'etl.input=["out/raw/*.csv"]'
  -s etl.output=out/dataset.h5 -s sweep.output_dir=out/sweep -s sweep.trials=3
  -s sweep.max_parallel=2 -s train.output_dir=out/train -s resources.log_dir=out/slurm)
rc=0
HPCML_POLL_S=0.5 "$SRC/slurm/pipeline.sh" "$CFG" "${P[@]}" --wait >"$TMP/pipe.out" 2>"$TMP/pipe.err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$TMP/pipe.err" out/slurm/* >&2; fail "pipeline --wait exited $rc"; }
[[ $(awk '{print $1}' "$TMP/pipe.out" | tr '\n' ' ') == "gen etl sweep train-final " ]] ||
  fail "pipeline printed: $(cat "$TMP/pipe.out")"
[[ -s out/train/evaluation.json && -s out/sweep/best.cfg && -s out/dataset.h5 ]] || fail "pipeline outputs missing"
[[ $(sort -n out/sweep/trials-run | tr '\n' ' ') == "0 1 2 " ]] || fail "sweep trials: $(cat out/sweep/trials-run)"
ls out/slurm/hpcml-sweep-*_2.out >/dev/null || fail "no per-task sweep logs"
grep -q "training with the sweep's best configuration" out/slurm/hpcml-train-*.out || fail "final training did not use best.cfg"
pass "pipeline.sh --wait: gen -> etl -> 3-trial sweep -> final train ($((SECONDS - t)) s)"

out=$("$SRC/slurm/pipeline.sh" "$CFG" "${P[@]}" 2>"$TMP/re.err") || { cat "$TMP/re.err" >&2; fail "re-run failed"; }
[[ $out == $'gen skipped\netl skipped\nsweep skipped\ntrain-final skipped' ]] || fail "re-run did not skip: $out"
rm out/slurm/sweep.done.d/1 out/train/evaluation.json
out=$("$SRC/slurm/pipeline.sh" "$CFG" "${P[@]}" --dry-run 2>"$TMP/re.err") || { cat "$TMP/re.err" >&2; fail "dry run failed"; }
grep -q -- "--array=1%2 " <<<"$out" || fail "only trial 1 should be resubmitted: $out"
grep -q "JOB_train_final=.*--dependency=afterany:\${JOB_sweep} " <<<"$out" || fail "train-final not after the sweep: $out"
grep -q "^JOB_etl" <<<"$out" && fail "etl resubmitted: $out"
out=$("$SRC/slurm/pipeline.sh" "$CFG" "${P[@]}" -s gen.seed=3 --dry-run 2>"$TMP/re.err") || { cat "$TMP/re.err" >&2; fail "dry run failed"; }
[[ $(grep -c '^JOB_' <<<"$out") -eq 4 ]] || fail "a changed gen.seed must rerun every stage: $out"
pass "pipeline.sh re-run: complete stages skipped, a missing trial resubmitted alone, a config change reruns all"

t=$SECONDS
rc=0
FAKE_EXIT_etl=2 HPCML_POLL_S=0.5 "$SRC/slurm/pipeline.sh" "$CFG" "${P[@]}" -s sweep.output_dir=out/sweep-f \
  -s etl.output=out/bad.h5 -s train.output_dir=out/train-f --wait >"$TMP/fail.out" 2>"$TMP/fail.err" || rc=$?
[[ $rc -eq 2 ]] || { cat "$TMP/fail.err" >&2; fail "pipeline with a failing ETL exited $rc, not 2"; }
grep -q "train-final .*CANCELLED" "$TMP/fail.err" || { cat "$TMP/fail.err" >&2; fail "final training not cancelled"; }
[[ -e out/train-f/evaluation.json ]] && fail "training ran after a failed ETL"
pass "pipeline.sh --wait: a data error in the ETL cancels the rest and returns 2 ($((SECONDS - t)) s)"

# --- --dry-run golden ------------------------------------------------------------------------------------
mkdir -p "$TMP/dry" && cd "$TMP/dry" || fail "cd $TMP/dry"
{
  "$SRC/slurm/pipeline.sh" "$CFG" -s gen.rows=20000 -s "gen.output_dir=$TMP/dry/raw" --dry-run
  echo "### no gen, a partition, GPUs, no requeue, per-stage time, 10 trials 3 at a time, --no-sweep off"
  "$SRC/slurm/pipeline.sh" "$CFG" -s gen.enabled=false -s resources.partition=gpu \
    -s resources.account=proj1 -s resources.mem=8G -s resources.gpus_per_task=1 \
    -s resources.requeue=false -s resources.train_time=02:00:00 -s resources.signal_grace_s=120 \
    -s sweep.trials=10 -s sweep.max_parallel=3 -s 'etl.input=["my data/*.csv"]' --dry-run
  echo "### --no-sweep"
  "$SRC/slurm/pipeline.sh" "$CFG" --no-sweep --dry-run
} 2>/dev/null | sed -e "s|$SRC|@SRC@|g" -e "s|$TMP|@TMP@|g" >"$TMP/dry.txt" || fail "--dry-run failed"
diff -u "$SRC/tests/scripts/golden/pipeline_dry_run.txt" "$TMP/dry.txt" ||
  fail "--dry-run lines differ from tests/scripts/golden/pipeline_dry_run.txt"
pass "pipeline.sh --dry-run matches the golden file"
cd "$TMP" || fail "cd $TMP"
pass "all in $((SECONDS - t_start)) s"
