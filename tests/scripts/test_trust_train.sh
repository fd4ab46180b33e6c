#!/usr/bin/env bash
# Trust across runs of hpcml-train (issue 19), real MPI, real files, real signals:
#   (1) another optimizer setting on resume (Adam -> SGD, SGD momentum 0.9 -> 0 and
#       back): exit 1 naming both settings; every checkpoint, best.h5 and
#       metrics.jsonl stay byte-identical; --verify-checkpoints with the other
#       optimizer still says ok for every file (validity is the file's, not the
#       reader's). Checkpoints written on 2 ranks, resume attempts on 1 and 4.
#   (3) a NaN in /train/X (what etl impute = "none" keeps) or in /test/X: exit 2 on
#       1, 2 and 4 ranks naming the cell, nothing written; features of 1e38 (finite,
#       but the first forward pass overflows): exit 4 "training diverged" on every
#       rank, no checkpoint, no evaluation.json; eps = 0 and beta1/beta2 = 1 are
#       config errors (exit 1).
#   (5) dataset.h5 replaced at the same path by hpcml-etl's output of other data with
#       the same row counts: resume refused (exit 1, checkpoints kept); the same ETL run
#       again (same inputs and settings, so the same identity) resumes; train.resume =
#       "never" starts over with a warning.
# Ranks: 1, 2 and 4 (mpirun --oversubscribe); 3 epochs of a 1500-row dataset.
# labels: mpi train fault
# timeout: 300
# ranks: 1, 2, 4
# options: configs written by the script; -s etl.check_manifest, etl.columns, etl.input,
#   etl.output, monitoring.profile, train.batch_size, train.dataset, train.epochs,
#   train.evaluate, train.hidden, train.momentum, train.optimizer, train.output_dir,
#   train.resume
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
train=$BIN/hpcml-train
ds=$TMP/ds.h5
$PY "$SRC/tests/scripts/make_train_dataset.py" "$ds" --train 1500 --val 300 --test 300 \
  --features 6 --seed 7
common=(-q -s "train.dataset=$ds" -s 'train.hidden=[16]' -s train.batch_size=50
        -s monitoring.profile=false -s train.evaluate=false -s train.epochs=2)
np1=("${MPIRUN[@]}" -np 1)
np2=("${MPIRUN[@]}" -np 2)
np4=("${MPIRUN[@]}" -np 4)

# snapshot DIR: checksums of everything a run left (checkpoints, metrics)
snapshot() { (cd "$1" && find checkpoints metrics.jsonl -type f | sort | xargs md5sum); }

# --- (1) optimizer changes on resume never delete valid checkpoints ----------------
adam=$TMP/adam
expect_exit 0 "${np2[@]}" "$train" "${common[@]}" -s "train.output_dir=$adam"
before=$(snapshot "$adam")
[[ $(ls "$adam"/checkpoints/step-*.h5 | wc -l) -ge 2 ]] || fail "expected 2 step checkpoints"
for other in "sgd" "sgd -s train.momentum=0" "adamw"; do
  # shellcheck disable=SC2086
  expect_exit 1 "${np1[@]}" "$train" "${common[@]}" -s train.epochs=3 -s train.optimizer=$other \
    -s "train.output_dir=$adam"
  grep -q 'train.optimizer = "adam"; this run has train.optimizer = "' "$TMP/err" ||
    { cat "$TMP/err"; fail "optimizer $other: the message does not name both settings"; }
  grep -q "corrupt\|skipping" "$TMP/err" && { cat "$TMP/err"; fail "valid checkpoints called corrupt"; }
  [[ $(snapshot "$adam") == "$before" ]] || fail "optimizer $other: checkpoints or metrics changed"
done
for other in sgd adamw; do
  expect_exit 0 "$train" "${common[@]}" -s train.optimizer=$other -s "train.output_dir=$adam" \
    --verify-checkpoints
  grep -q INVALID "$TMP/out" && { cat "$TMP/out"; fail "--verify-checkpoints ($other) called a valid file INVALID"; }
  [[ $(grep -c "^ok " "$TMP/out") -eq $(ls "$adam"/checkpoints/*.h5 | wc -l) ]] ||
    { cat "$TMP/out"; fail "--verify-checkpoints ($other): not every file ok"; }
  grep -q "cannot resume from it" "$TMP/out" || fail "--verify-checkpoints ($other): no compatibility note"
done
pass "(1) Adam checkpoints + sgd/adamw: exit 1 naming both, nothing deleted, verify says ok"

sgd=$TMP/sgd
expect_exit 0 "${np2[@]}" "$train" "${common[@]}" -s train.optimizer=sgd -s train.momentum=0.9 \
  -s "train.output_dir=$sgd"
before=$(snapshot "$sgd")
expect_exit 1 "${np4[@]}" "$train" "${common[@]}" -s train.epochs=3 -s train.optimizer=sgd \
  -s train.momentum=0 -s "train.output_dir=$sgd"
grep -q "SGD with momentum buffers (train.momentum > 0); this run has train.momentum = 0" "$TMP/err" ||
  { cat "$TMP/err"; fail "momentum 0.9 -> 0: message"; }
[[ $(snapshot "$sgd") == "$before" ]] || fail "momentum 0.9 -> 0: checkpoints or metrics changed"
sgd0=$TMP/sgd0
expect_exit 0 "${np2[@]}" "$train" "${common[@]}" -s train.optimizer=sgd -s train.momentum=0 \
  -s "train.output_dir=$sgd0"
before=$(snapshot "$sgd0")
expect_exit 1 "${np2[@]}" "$train" "${common[@]}" -s train.epochs=3 -s train.optimizer=sgd \
  -s train.momentum=0.5 -s "train.output_dir=$sgd0"
grep -q "SGD without momentum buffers (train.momentum = 0); this run has train.momentum = 0.5" "$TMP/err" ||
  { cat "$TMP/err"; fail "momentum 0 -> 0.5: message"; }
[[ $(snapshot "$sgd0") == "$before" ]] || fail "momentum 0 -> 0.5: checkpoints or metrics changed"
# the same settings still resume
expect_exit 0 "${np2[@]}" "$train" "${common[@]}" -s train.epochs=3 -s train.optimizer=sgd \
  -s train.momentum=0.9 -s "train.output_dir=$sgd" -v
grep -q "resuming from .*epoch 2" "$TMP/err" || { cat "$TMP/err"; fail "same settings did not resume"; }
pass "(1) SGD momentum 0.9 <-> 0: exit 1 naming both (1 and 4 ranks), nothing changed; same settings resume"

# --- (3) non-finite values never give a model ------------------------------------------
poke() { # poke SRC DST SPLIT ROW COL VALUE: copy SRC to DST with X[ROW][COL] = VALUE
  cp "$1" "$2"
  $PY - "$2" "$3" "$4" "$5" "$6" <<'PYEOF'
import sys, h5py
f = h5py.File(sys.argv[1], "r+")
f["/%s/X" % sys.argv[2]][int(sys.argv[3]), int(sys.argv[4])] = float(sys.argv[5])
PYEOF
}
poke "$ds" "$TMP/nan.h5" train 700 3 nan
poke "$ds" "$TMP/nan_test.h5" test 10 0 nan
for np in 1 2 4; do
  out=$TMP/nan$np
  expect_exit 2 "${MPIRUN[@]}" -np $np "$train" "${common[@]}" -s "train.dataset=$TMP/nan.h5" \
    -s "train.output_dir=$out"
  grep -q "nan.h5: /train/X\[700\]\[3\] = nan is not a finite number" "$TMP/err" ||
    { cat "$TMP/err"; fail "NaN in /train/X (np $np): message"; }
  [[ $(grep -c "error:" "$TMP/err") -eq 1 ]] || fail "NaN (np $np): not one message"
  [[ -z $(ls "$out/checkpoints" 2>/dev/null) && ! -e $out/evaluation.json ]] ||
    fail "NaN (np $np): left checkpoints or evaluation.json"
done
expect_exit 2 "${np2[@]}" "$train" "${common[@]}" -s "train.dataset=$TMP/nan_test.h5" \
  -s "train.output_dir=$TMP/nan_test"
grep -q "/test/X\[10\]\[0\] = nan" "$TMP/err" || { cat "$TMP/err"; fail "NaN in /test/X: message"; }
pass "(3) NaN in X: exit 2 naming the cell on 1, 2, 4 ranks; no checkpoint, no evaluation"

$PY - "$ds" "$TMP/huge.h5" <<'PYEOF'
import sys, shutil, h5py
shutil.copy(sys.argv[1], sys.argv[2])
f = h5py.File(sys.argv[2], "r+")
for s in ("train", "val", "test"):
    x = f[s + "/X"][...]
    f[s + "/X"][...] = x.clip(-3, 3) * 1e38  # finite in float32; the forward pass overflows
PYEOF
for np in 1 2 4; do
  out=$TMP/huge$np
  expect_exit 4 timeout 120 "${MPIRUN[@]}" -np $np "$train" "${common[@]}" -s "train.dataset=$TMP/huge.h5" \
    -s "train.output_dir=$out"
  grep -q "training diverged at epoch 1, step 1 of the epoch: the gradient norm is" "$TMP/err" ||
    { cat "$TMP/err"; fail "divergence (np $np): message"; }
  [[ $(grep -c "error:" "$TMP/err") -eq 1 ]] || { cat "$TMP/err"; fail "divergence (np $np): not one message"; }
  grep -q "MPI_Abort\|MPI_ABORT" "$TMP/err" && { cat "$TMP/err"; fail "divergence (np $np): MPI_Abort"; }
  [[ -z $(ls "$out/checkpoints" 2>/dev/null) && ! -e $out/evaluation.json ]] ||
    fail "divergence (np $np): left checkpoints or evaluation.json"
done
pass "(3) overflowing features: exit 4 'training diverged' on 1, 2, 4 ranks, one message, nothing written"

for bad in train.eps=0 train.beta1=1 train.beta2=1; do
  expect_exit 1 "$train" "${common[@]}" -s "$bad" -s "train.output_dir=$TMP/cfg"
  grep -q "expected a value in" "$TMP/err" || { cat "$TMP/err"; fail "$bad: message"; }
done
grep -q "expected a value in \[0, 1), got 1" "$TMP/err" || { cat "$TMP/err"; fail "beta2=1: range not shown open"; }
pass "(3) eps = 0, beta1 = 1, beta2 = 1: config errors (exit 1)"

# --- (5) resume checks the dataset it continues on ----------------------------------------
mk_csv() { # mk_csv FILE SEED
  $PY - "$1" "$2" <<'PYEOF'
import random, sys
random.seed(int(sys.argv[2]))
with open(sys.argv[1], "w") as f:
    f.write("a,b,c,Class\n")
    for i in range(2000):
        a, b = random.gauss(0, 1), random.gauss(0, 1)
        f.write(f"{a:.6f},{b:.6f},{random.gauss(0, 1):.6f},{int(a + b > 0.3)}\n")
PYEOF
}
mk_csv "$TMP/a.csv" 1
mk_csv "$TMP/b.csv" 2
etl_cfg=(-q -s 'etl.columns=({name="Class";type="label";})' -s etl.check_manifest=\"off\")
expect_exit 0 "${np2[@]}" "$BIN/hpcml-etl" "${etl_cfg[@]}" -s "etl.input=[\"$TMP/a.csv\"]" -s "etl.output=$TMP/etl/a.h5"
expect_exit 0 "${np2[@]}" "$BIN/hpcml-etl" "${etl_cfg[@]}" -s "etl.input=[\"$TMP/b.csv\"]" -s "etl.output=$TMP/etl/b.h5"
cp "$TMP/etl/a.h5" "$TMP/live.h5"
dcommon=(-q -s "train.dataset=$TMP/live.h5" -s 'train.hidden=[8]' -s train.batch_size=50
         -s monitoring.profile=false -s train.evaluate=false)
expect_exit 0 "${np2[@]}" "$train" "${dcommon[@]}" -s train.epochs=2 -s "train.output_dir=$TMP/ds5"
before=$(snapshot "$TMP/ds5")
cp "$TMP/etl/b.h5" "$TMP/live.h5" # an ETL re-run on other data, same row counts
expect_exit 1 "${np2[@]}" "$train" "${dcommon[@]}" -s train.epochs=3 -s "train.output_dir=$TMP/ds5"
grep -q "was written while training on another dataset" "$TMP/err" || { cat "$TMP/err"; fail "(5) message"; }
[[ $(snapshot "$TMP/ds5") == "$before" ]] || fail "(5) checkpoints or metrics changed"
# the same ETL again (same input and settings): the same identity, resume goes on
expect_exit 0 "${np2[@]}" "$BIN/hpcml-etl" "${etl_cfg[@]}" -s "etl.input=[\"$TMP/a.csv\"]" -s "etl.output=$TMP/live.h5"
expect_exit 0 "${np1[@]}" "$train" "${dcommon[@]}" -s train.epochs=3 -s "train.output_dir=$TMP/ds5" -v
grep -q "resuming from .*epoch 2" "$TMP/err" || { cat "$TMP/err"; fail "(5) the same dataset did not resume"; }
cp "$TMP/etl/b.h5" "$TMP/live.h5"
expect_exit 0 "${np2[@]}" "$train" "${dcommon[@]}" -s train.epochs=1 -s train.resume=\"never\" \
  -s "train.output_dir=$TMP/ds5" -v
grep -q "starting over: removed .* checkpoint file(s) of an earlier run" "$TMP/err" ||
  { cat "$TMP/err"; fail "(5) resume = never: no warning"; }
pass "(5) another dataset at the same path: resume refused (exit 1, nothing changed); same ETL output resumes; 'never' starts over with a warning"
