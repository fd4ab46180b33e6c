#!/usr/bin/env bash
# Checkpoints, resume and preemption of hpcml-train:
#   - 2 epochs, then resume to 4: /model bit-identical to a straight 4-epoch run;
#   - a truncated newest checkpoint is skipped with a warning, the older one used,
#     and the result is still bit-identical;
#   - kill -USR1 on mpirun: the ranks agree at a step boundary, write a checkpoint
#     and exit 75; resuming (even in the middle of an epoch) finishes with the same
#     weights as a run that was never interrupted (in memory and streaming mode);
#   - SIGTERM to the ranks: the same, exit 75;
#   - SIGKILL of one rank ends the whole job promptly and the newest checkpoint
#     stays valid (hpcml-train --verify-checkpoints).
# labels: mpi train fault
# timeout: 300
# ranks: 2
# options: configs written by the script; -s monitoring.profile, train.batch_size,
#   train.checkpoint_every, train.dataset, train.epochs, train.evaluate, train.hidden,
#   train.output_dir, train.stream_chunk_rows, train.stream_window_batches, train.streaming
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
train=$BIN/hpcml-train
ds=$TMP/ds.h5
$PY "$SRC/tests/scripts/make_train_dataset.py" "$ds" --train 3000 --val 500 --test 500 \
  --features 8 --seed 5
common=(-q -s "train.dataset=$ds" -s 'train.hidden=[24, 12]' -s train.batch_size=50
        -s monitoring.profile=false -s train.evaluate=false)
np2=("${MPIRUN[@]}" -np 2)

# --- 2 + 2 epochs == 4 epochs ---------------------------------------------------
expect_exit 0 "${np2[@]}" "$train" "${common[@]}" -s train.epochs=4 -s "train.output_dir=$TMP/s4"
expect_exit 0 "${np2[@]}" "$train" "${common[@]}" -s train.epochs=2 -s "train.output_dir=$TMP/r4"
expect_exit 0 "${np2[@]}" "$train" "${common[@]}" -s train.epochs=4 -s "train.output_dir=$TMP/r4" -v
grep -q "resuming from .*step-0000000120.h5: epoch 2" "$TMP/err" || { cat "$TMP/err"; fail "did not resume"; }
h5diff "$TMP/s4/checkpoints/step-0000000240.h5" "$TMP/r4/checkpoints/step-0000000240.h5" /model /model ||
  fail "resumed /model differs from the straight run"
h5diff "$TMP/s4/checkpoints/step-0000000240.h5" "$TMP/r4/checkpoints/step-0000000240.h5" /optimizer /optimizer ||
  fail "resumed optimizer state differs"
[[ $(grep -c '"train_loss"' "$TMP/r4/metrics.jsonl") -eq 4 ]] || fail "metrics.jsonl of the resumed run"
pass "2 epochs + resume to 4 == 4 epochs (bit-identical /model and /optimizer)"

# --- a truncated newest checkpoint is skipped -------------------------------------
expect_exit 0 "${np2[@]}" "$train" "${common[@]}" -s train.epochs=2 -s "train.output_dir=$TMP/c4"
newest=$TMP/c4/checkpoints/step-0000000120.h5
truncate -s 3000 "$newest"
expect_exit 2 "$train" "${common[@]}" -s "train.output_dir=$TMP/c4" --verify-checkpoints
grep -q "INVALID  $newest" "$TMP/out" || fail "--verify-checkpoints did not flag the truncated file"
expect_exit 0 "${np2[@]}" "$train" "${common[@]}" -s train.epochs=4 -s "train.output_dir=$TMP/c4" -v
grep -q "skipping checkpoint $newest" "$TMP/err" || { cat "$TMP/err"; fail "no warning for the corrupt checkpoint"; }
grep -q "resuming from .*step-0000000060.h5: epoch 1" "$TMP/err" || fail "did not fall back to epoch 1"
h5diff "$TMP/s4/checkpoints/step-0000000240.h5" "$TMP/c4/checkpoints/step-0000000240.h5" /model /model ||
  fail "fallback resume differs from the straight run"
pass "truncated checkpoint detected, skipped with a warning, older one used"

# --- preemption: kill -USR1 on mpirun -----------------------------------------------
# in memory mode, and in streaming mode (windows of 2 batches of 20: the checkpoint
# usually falls inside a window, which the resumed run reads again)
long=(-s train.epochs=100000 -s train.batch_size=20 -s train.checkpoint_every=1000)
for streaming in false true; do
mode=(-s "train.streaming=$streaming" -s train.stream_chunk_rows=64 -s train.stream_window_batches=2)
pre=$TMP/pre-$streaming
"${np2[@]}" "$train" "${common[@]}" "${long[@]}" "${mode[@]}" -s "train.output_dir=$pre" >"$TMP/pre.out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  [[ -s $pre/metrics.jsonl ]] && break
  sleep 0.1
done
[[ -s $pre/metrics.jsonl ]] || { kill -9 $pid; fail "training did not start"; }
kill -USR1 $pid
start=$(date +%s)
rc=0
wait $pid || rc=$?
((rc == 75)) || { cat "$TMP/pre.out"; fail "preempted run exited $rc, expected 75"; }
(($(date +%s) - start < 20)) || fail "took too long to stop"
grep -q "preempted by a signal" "$TMP/pre.out" || fail "no preemption message"
read -r epoch step <<<"$($PY -c "
import h5py, sys
f = h5py.File(sys.argv[1] + '/checkpoints/' + open(sys.argv[1] + '/checkpoints/latest').read().strip())
print(int(f['state/epoch'][()]), int(f['state/step_in_epoch'][()]))" "$pre")"
echo "preempted at epoch $epoch, step $step of the epoch (streaming $streaming)"
# finish that epoch, and compare with an uninterrupted run of as many epochs
target=$((epoch + 1))
if [[ $streaming == true && $step -gt 0 ]]; then
  # other streaming settings would give the rest of the epoch other rows: refused, exit 1
  for other in "-s train.stream_chunk_rows=32" "-s train.streaming=false"; do
    # shellcheck disable=SC2086
    expect_exit 1 "${np2[@]}" "$train" "${common[@]}" "${long[@]}" "${mode[@]}" $other \
      -s "train.epochs=$target" -s "train.output_dir=$pre"
    grep -q "stopped in the middle of epoch $target with streaming chunks of 64 rows" "$TMP/err" ||
      { cat "$TMP/err"; fail "no message for a resume with $other"; }
  done
  pass "a mid-epoch streaming checkpoint refuses other streaming settings (exit 1, says which)"
elif [[ $streaming == true ]]; then
  echo "note: the signal landed on an epoch boundary: the mid-epoch streaming-settings check did not run"
fi
expect_exit 0 "${np2[@]}" "$train" "${common[@]}" "${long[@]}" "${mode[@]}" -s "train.epochs=$target" \
  -s "train.output_dir=$pre"
expect_exit 0 "${np2[@]}" "$train" "${common[@]}" "${long[@]}" "${mode[@]}" -s "train.epochs=$target" \
  -s "train.output_dir=$TMP/straight-$streaming"
last=$(cat "$TMP/straight-$streaming/checkpoints/latest")
h5diff "$TMP/straight-$streaming/checkpoints/$last" "$pre/checkpoints/$last" /model /model ||
  fail "preempted + resumed run differs from the uninterrupted one (streaming $streaming)"
pass "USR1 (streaming $streaming): exit 75 with a checkpoint at step $step of epoch $((epoch + 1)); resume is bit-identical"
done

# --- SIGTERM sent to the ranks themselves (as Slurm does at the time limit) ----------
term=$TMP/term
"${np2[@]}" "$train" "${common[@]}" "${long[@]}" -s "train.output_dir=$term" >"$TMP/term.out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  [[ -s $term/metrics.jsonl ]] && break
  sleep 0.1
done
kill -TERM $(pgrep -P $pid)
rc=0
wait $pid || rc=$?
((rc == 75)) || { cat "$TMP/term.out"; fail "SIGTERM: exit $rc, expected 75"; }
expect_exit 0 "$train" "${common[@]}" -s "train.output_dir=$term" --verify-checkpoints
pass "SIGTERM to the ranks: exit 75, valid checkpoint"

# --- SIGKILL of one rank -------------------------------------------------------------
kil=$TMP/kill
"${np2[@]}" "$train" "${common[@]}" "${long[@]}" -s train.checkpoint_every=1 \
  -s "train.output_dir=$kil" >"$TMP/kill.out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  [[ -s $kil/metrics.jsonl && $(wc -l <"$kil/metrics.jsonl") -ge 3 ]] && break
  sleep 0.1
done
victim=$(pgrep -P $pid | tail -1)
[[ -n $victim ]] || { kill -9 $pid; fail "no rank process found"; }
kill -9 "$victim"
start=$(date +%s)
ended=0
for _ in $(seq 1 300); do
  kill -0 $pid 2>/dev/null || { ended=1; break; }
  sleep 0.1
done
((ended)) || { kill -9 $pid; fail "the job hung after one rank was killed"; }
rc=0
wait $pid || rc=$?
((rc != 0)) || fail "the job exited 0 after a rank was killed"
echo "job ended with exit $rc after $(($(date +%s) - start))s"
expect_exit 0 "$train" "${common[@]}" -s "train.output_dir=$kil" --verify-checkpoints
grep -q "^ok .*$(cat "$kil/checkpoints/latest")" "$TMP/out" || fail "latest checkpoint not valid"
pass "SIGKILL of a rank ends the job (exit $rc); newest checkpoint valid"
