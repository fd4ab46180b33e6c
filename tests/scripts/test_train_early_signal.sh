#!/usr/bin/env bash
# A preemption signal in the first moments of hpcml-train (issue 19, item 14): SIGUSR1 to
# every rank as soon as it runs hpcml-train (within 0.25 s of its start, during MPI_Init
# or the load) is a preemption request, not the default action that kills the rank with
# 138: the job exits 75 saying it was preempted before training, writes no checkpoint,
# and the same command then trains to the end (exit 0). The same with SIGTERM. A signal
# that is neither SIGTERM nor train.preempt_signal keeps its default action.
# Ranks: 1 and 2 (mpirun --oversubscribe); a 600-row dataset.
# labels: mpi train fault
# timeout: 180
source "$(dirname "$0")/lib.sh" "$@"
train=$BIN/hpcml-train
ds=$TMP/ds.h5
$PY "$SRC/tests/scripts/make_train_dataset.py" "$ds" --train 600 --val 100 --test 100 \
  --features 5 --seed 2
common=(-s "train.dataset=$ds" -s 'train.hidden=[8]' -s train.batch_size=50
        -s monitoring.profile=false -s train.epochs=2)

# catches PID SIGNO: the process has a handler for the signal (SigCgt in /proc)
catches() {
  local mask
  mask=$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $mask ]] && (((0x$mask >> ($2 - 1)) & 1))
}

# early_signal NP SIG OUT [ARGS]: start the job and send SIG to each rank once its process
# runs hpcml-train and catches the signal, or 0.25 s after it started hpcml-train if it
# does not catch it by then (before the fix: the handler came after MPI_Init and the
# load, so the signal killed the rank); the job's exit code in rc
early_signal() {
  local np=$1 sig=$2 out=$3; shift 3
  local signo
  signo=$(kill -l "$sig")
  "${MPIRUN[@]}" -np "$np" "$train" "${common[@]}" -s "train.output_dir=$out" "$@" \
    >"$TMP/out" 2>"$TMP/err" &
  local pid=$! sent=0 p now
  declare -A seen=() done_pids=()
  while ((sent < np)) && kill -0 $pid 2>/dev/null; do
    for p in $(pgrep -P $pid || true); do
      [[ -n ${done_pids[$p]:-} ]] && continue
      [[ $(readlink "/proc/$p/exe" 2>/dev/null) == */hpcml-train ]] || continue
      now=${EPOCHREALTIME/./} # microseconds
      seen[$p]=${seen[$p]:-$now}
      catches "$p" "$signo" || ((now - seen[$p] >= 250000)) || continue
      kill -s "$sig" "$p" 2>/dev/null && sent=$((sent + 1))
      done_pids[$p]=1
    done
  done
  rc=0
  wait $pid || rc=$?
  ((sent == np)) || { cat "$TMP/err"; fail "signalled $sent of $np ranks"; }
}

for np in 1 2; do
  for sig in USR1 TERM; do
    out=$TMP/run-$np-$sig
    early_signal $np $sig "$out"
    ((rc == 75)) || { cat "$TMP/err"; fail "np $np, SIG$sig at start: exit $rc, expected 75"; }
    grep -q "preempted by a signal before training started" "$TMP/err" ||
      { cat "$TMP/err"; fail "np $np, SIG$sig: no preemption message"; }
    ls "$out"/checkpoints/*.h5 >/dev/null 2>&1 && fail "np $np, SIG$sig: a checkpoint was written"
    expect_exit 0 "${MPIRUN[@]}" -np $np "$train" -q "${common[@]}" -s "train.output_dir=$out"
    [[ $(wc -l <"$out/metrics.jsonl") -ge 2 ]] || fail "np $np: the rerun did not train"
  done
done
pass "SIGUSR1 / SIGTERM at the start of 1 and 2 ranks: exit 75, no checkpoint, the rerun trains"

# SIGUSR2 is not train.preempt_signal (USR1): its default action, as before the handler
early_signal 1 USR2 "$TMP/usr2"
((rc == 128 + 12 || rc == 12)) || { cat "$TMP/err"; fail "SIGUSR2 at start: exit $rc, expected the signal's"; }
pass "SIGUSR2 (not the configured signal) keeps its default action"
