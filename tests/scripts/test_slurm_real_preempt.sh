#!/usr/bin/env bash
# test_slurm_real_preempt.sh — preemption of a real hpcml-train job through a real Slurm:
# the batch shell of slurm/train.sbatch gets USR1 (`scancel --signal=USR1 --batch`, what
# `--signal=B:USR1@grace` delivers before the time limit), forwards it to the ranks,
# hpcml-train writes a checkpoint in the middle of the run and exits 75, the script
# requeues its own job (scontrol requeue), the requeued job logs SLURM_RESTART_COUNT=1,
# resumes from the checkpoint and finishes. Its final /model and /optimizer are
# bit-identical (h5diff) to those of the same job run without interruption. The same
# again with SIGTERM (what some sites send on preemption).
# labels: slurm train fault
# timeout: 600
# ranks: Slurm jobs on a one-node local Slurm
# options: configs/demo.cfg; -s monitoring.profile, resources.log_dir, train.batch_size,
#   train.checkpoint_every, train.dataset, train.early_stopping_patience, train.epochs,
#   train.evaluate, train.hidden, train.output_dir
# skips (exit 77): not root (slurm_lib.sh slurm_up: the local Slurm runs its daemons as root)
# Usage: bash test_slurm_real_preempt.sh BUILD_DIR SRC_DIR
source "$(dirname "$0")/lib.sh" "$@"
source "$(dirname "$0")/slurm_lib.sh"
[[ -x $BIN/hpcml-train ]] || fail "$BIN/hpcml-train not built"
t_start=$SECONDS
slurm_up 7100 4 # the preempted jobs and the uninterrupted one run side by side
export HPCML_PREFIX=$BUILD
CFG=$SRC/configs/demo.cfg
cd "$TMP" || fail "cd $TMP"

$PY "$SRC/tests/scripts/make_train_dataset.py" ds.h5 --train 4000 --val 500 --test 500 \
  --features 8 --seed 5
# 40 epochs of 0.04 s (on an idle machine; 0.1-0.2 s with 2 jobs on 2 busy cores): long
# enough to be interrupted after the first; checkpoints only at the end and on preemption
# (checkpoint_every larger than the epochs).
C=(-s train.dataset=ds.h5 -s 'train.hidden=[256, 256]' -s train.batch_size=50 -s train.epochs=40
  -s train.checkpoint_every=1000 -s train.early_stopping_patience=0 -s train.evaluate=false
  -s monitoring.profile=false -s resources.log_dir=logs)

ref=$(sbatch --parsable -o ref-%j.out "$SRC/slurm/train.sbatch" "$CFG" "${C[@]}" -s train.output_dir=ref) ||
  fail "sbatch refused the reference job"

# preempt SIGNAL: one preempted job, checked; sets pre_dir to its output directory.
preempt() {
  local sig=$1 t=$SECONDS jid log
  pre_dir=pre-$sig
  jid=$(sbatch --parsable -o "$pre_dir-%j.out" "$SRC/slurm/train.sbatch" "$CFG" "${C[@]}" \
    -s train.output_dir="$pre_dir") || fail "sbatch refused"
  for _ in $(seq 1200); do # the job is past its first epoch
    [[ -s $pre_dir/metrics.jsonl ]] && break
    sleep 0.05
  done
  [[ -s $pre_dir/metrics.jsonl ]] || { cat "$pre_dir-$jid.out" >&2; fail "the training job did not start"; }
  scancel --signal="$sig" --batch "$jid" || fail "scancel --signal=$sig --batch $jid failed"
  wait_job "$jid" 300
  log=$(cat "$pre_dir-$jid.out")
  [[ $st == COMPLETED && $rc -eq 0 ]] || { echo "$log" >&2; fail "SIG$sig: the preempted job ended $st, exit $rc"; }
  [[ $(job_field "$jid" Restarts) == 1 ]] || { echo "$log" >&2; fail "SIG$sig: the job was not requeued once"; }
  for want in "got SIG$sig: forwarding SIGUSR1 to the MPI job" "preempted by a signal" \
    "hpcml-train exited 75" "requeued job $jid" "SLURM_RESTART_COUNT=1" "resuming from " \
    "training ended after 40 epochs"; do
    grep -q "$want" <<<"$log" || { echo "$log" >&2; fail "SIG$sig: the log lacks '$want'"; }
  done
  # The checkpoint was written in the middle of the run, not at its end.
  pre_epoch=$(sed -n 's/.*preempted by a signal[^0-9]*epoch \([0-9]*\).*/\1/p' <<<"$log" | head -1)
  [[ -n $pre_epoch ]] && ((pre_epoch >= 1 && pre_epoch < 40)) ||
    { echo "$log" >&2; fail "SIG$sig: preempted at epoch '$pre_epoch', not inside 1..39"; }
  secs=$((SECONDS - t))
}

preempt USR1
usr1_epoch=$pre_epoch usr1_secs=$secs
wait_job "$ref" 300
[[ $st == COMPLETED ]] || { cat ref-"$ref".out >&2; fail "the reference job ended $st"; }
grep -q "SLURM_RESTART_COUNT=1" ref-"$ref".out && fail "the reference job was restarted"
last=$(cat ref/checkpoints/latest)
[[ $(cat pre-USR1/checkpoints/latest) == "$last" ]] ||
  fail "final checkpoints differ in name: $last vs $(cat pre-USR1/checkpoints/latest)"
for g in /model /optimizer; do
  h5diff "ref/checkpoints/$last" "pre-USR1/checkpoints/$last" "$g" "$g" ||
    fail "USR1: $g after preemption + requeue differs from the uninterrupted run"
done
pass "USR1 via scancel --batch: checkpoint at epoch $usr1_epoch, exit 75, requeued, resumed with SLURM_RESTART_COUNT=1; final /model and /optimizer bit-identical to the uninterrupted job ($usr1_secs s)"

preempt TERM
for g in /model /optimizer; do
  h5diff "ref/checkpoints/$last" "pre-TERM/checkpoints/$last" "$g" "$g" ||
    fail "TERM: $g after preemption + requeue differs from the uninterrupted run"
done
pass "SIGTERM via scancel --batch: forwarded as USR1, checkpoint at epoch $pre_epoch, requeued, bit-identical result ($secs s)"
pass "all in $((SECONDS - t_start)) s"
