#!/usr/bin/env bash
# A full file system under train.output_dir (issue 19, item 14): a checkpoint that does not
# fit fails with exit 3 and a message that names the reason ("No space left on device"),
# on every rank at once, leaving no temp file. The full file system is a 512 KiB tmpfs
# (needs root to mount: skipped otherwise).
# Ranks: 1 and 2 (mpirun --oversubscribe); a 600-row dataset, a ~1 MB checkpoint.
# labels: mpi train fault
# timeout: 120
source "$(dirname "$0")/lib.sh" "$@"
[[ $(id -u) -eq 0 ]] || skip "mounting a small tmpfs needs root"
train=$BIN/hpcml-train
ds=$TMP/ds.h5
$PY "$SRC/tests/scripts/make_train_dataset.py" "$ds" --train 600 --val 100 --test 100 \
  --features 5 --seed 2
full=$TMP/full
mkdir -p "$full"
mount -t tmpfs -o size=512k tmpfs "$full" 2>"$TMP/mount.err" ||
  skip "cannot mount a tmpfs here: $(cat "$TMP/mount.err")"
trap 'umount "$full" 2>/dev/null; rm -rf "$TMP"' EXIT
for np in 1 2; do
  out=$full/np$np
  expect_exit 3 "${MPIRUN[@]}" -np $np "$train" -q -s "train.dataset=$ds" \
    -s 'train.hidden=[256, 256]' -s train.batch_size=50 -s train.epochs=1 \
    -s monitoring.profile=false -s "train.output_dir=$out"
  grep -q "cannot write checkpoint .*: No space left on device" "$TMP/err" ||
    { cat "$TMP/err"; fail "np $np: the message does not say the disk is full"; }
  ls "$out"/checkpoints/ | grep -q "\.tmp\." && fail "np $np: a temp file was left"
  rm -rf "$out"
done
pass "a checkpoint on a full file system: exit 3 naming ENOSPC, no temp file (1 and 2 ranks)"
