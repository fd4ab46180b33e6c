#!/usr/bin/env bash
# Checkpoint format versions (issue 16), real MPI and real files:
#   - version 1 (made from this build's version-2 files by ckpt_old_format.py: no
#     /state/dataset_id, no /sampler/stream_* items, checksum recomputed) is read with
#     the documented defaults (memory mode; the dataset is not checked): resuming from it
#     gives bit-identical weights to resuming from the version-2 files, with no data-order
#     warning; a version-1 file of a later build (stream items present) too;
#     --verify-checkpoints says ok for version-1 files;
#   - a file of a version this build does not read (99): resume exits 1 naming the
#     version, nothing skipped, deleted or changed; --verify-checkpoints names it (exit 2).
# Ranks: checkpoints written on 2, resumed on 1. 2 + 1 epochs of a 1200-row dataset.
# labels: mpi train
# timeout: 240
source "$(dirname "$0")/lib.sh" "$@"
train=$BIN/hpcml-train
ds=$TMP/ds.h5
$PY "$SRC/tests/scripts/make_train_dataset.py" "$ds" --train 1200 --val 200 --test 200 \
  --features 6 --seed 5
common=(-s "train.dataset=$ds" -s 'train.hidden=[16]' -s train.batch_size=40
        -s monitoring.profile=false -s train.evaluate=false)
snapshot() { (cd "$1" && find checkpoints metrics.jsonl -type f | sort | xargs md5sum); }
# to_version DIR VERSION [--keep-stream]: every checkpoint of DIR rewritten in that format
to_version() {
  local f
  for f in "$1"/checkpoints/*.h5; do
    $PY "$SRC/tests/scripts/ckpt_old_format.py" "$f" "$f.old" "${@:2}" || fail "converting $f"
    mv "$f.old" "$f"
  done
}

v2=$TMP/v2
expect_exit 0 "${MPIRUN[@]}" -np 2 "$train" "${common[@]}" -s train.epochs=2 \
  -s "train.output_dir=$v2"
v1=$TMP/v1 v1s=$TMP/v1s unknown=$TMP/unknown
for d in "$v1" "$v1s" "$unknown"; do cp -a "$v2" "$d"; done
to_version "$v1" 1
to_version "$v1s" 1 --keep-stream
newest=$(cat "$unknown/checkpoints/latest")
$PY "$SRC/tests/scripts/ckpt_old_format.py" "$unknown/checkpoints/$newest" "$TMP/n.h5" 99
mv "$TMP/n.h5" "$unknown/checkpoints/$newest"
h5dump -a /format_version "$v1/checkpoints/$newest" | grep -q "(0): 1" || fail "not a version-1 file"
! h5ls "$v1/checkpoints/$newest/state" | grep -q dataset_id || fail "version 1 kept dataset_id"

# --- version 1 resumes, bit-identical to version 2 ----------------------------------------
for d in "$v2" "$v1" "$v1s"; do
  expect_exit 0 "${MPIRUN[@]}" -np 1 "$train" "${common[@]}" -s train.epochs=3 \
    -s "train.output_dir=$d"
  grep -q "resuming from .*$newest" "$TMP/err" || { cat "$TMP/err"; fail "$d: did not resume"; }
  grep -q "another data order\|skipping" "$TMP/err" && { cat "$TMP/err"; fail "$d: warned"; }
done
last=$(cat "$v2/checkpoints/latest")
[[ $last != "$newest" ]] || fail "no new checkpoint after the resume"
for d in "$v1" "$v1s"; do
  for obj in /model /optimizer /state/epoch /state/best_metric; do
    h5diff "$v2/checkpoints/$last" "$d/checkpoints/$last" $obj $obj >/dev/null ||
      fail "$d: $obj differs from the resume of the version-2 file"
  done
done
pass "version-1 checkpoints (with and without the stream items) resume bit-identically"

expect_exit 0 "$train" "${common[@]}" -s "train.output_dir=$TMP/v1" --verify-checkpoints
[[ $(grep -c "^ok " "$TMP/out") -eq $(ls "$TMP/v1"/checkpoints/*.h5 | wc -l) ]] ||
  { cat "$TMP/out"; fail "--verify-checkpoints: not every version-1 file ok"; }
pass "--verify-checkpoints reads version-1 checkpoints"

# --- an unknown version: refused, named, kept -------------------------------------------
before=$(snapshot "$unknown")
expect_exit 1 "${MPIRUN[@]}" -np 2 "$train" "${common[@]}" -s train.epochs=3 \
  -s "train.output_dir=$unknown"
grep -q "checkpoint format version 99; this hpcml .* reads versions 1 to 2" "$TMP/err" ||
  { cat "$TMP/err"; fail "the message does not name the version"; }
grep -q "corrupt\|skipping" "$TMP/err" && { cat "$TMP/err"; fail "an unknown version called corrupt"; }
[[ $(snapshot "$unknown") == "$before" ]] || fail "checkpoints or metrics changed"
expect_exit 2 "$train" "${common[@]}" -s "train.output_dir=$unknown" --verify-checkpoints
grep -q "^unknown  .*$newest: .*format version 99" "$TMP/out" ||
  { cat "$TMP/out"; fail "--verify-checkpoints does not name the version"; }
pass "version 99: exit 1 naming it, every file kept; --verify-checkpoints names it"
