#!/usr/bin/env bash
# hpcml-train end to end on a small dataset in the ETL layout: outputs and
# their fields, test metrics equal scikit-learn's on the written predictions,
# the same seed and rank count give bit-identical weights, np=1 and np=2 with
# the same global batch agree within float tolerance, bucketed (overlapped)
# allreduce equals the blocking one, alert rules and early stopping stop the
# run, and bad input is reported with the documented exit codes.
# labels: mpi train
# timeout: 300
# ranks: 1, 2, 3
# options: configs written by the script; -s monitoring.profile, train.batch_size,
#   train.blas_threads, train.bucket_kb, train.class_weight_values, train.class_weights,
#   train.dataset, train.early_stopping_metric, train.early_stopping_patience, train.epochs,
#   train.hidden, train.lr, train.output_dir, train.replicate_max_mb, train.resume
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
train=$BIN/hpcml-train
ds=$TMP/ds.h5
$PY "$SRC/tests/scripts/make_train_dataset.py" "$ds" --train 3000 --val 800 --test 800 \
  --features 10 --positive 0.25 --seed 3
loud=(-s "train.dataset=$ds" -s 'train.hidden=[32, 16]' -s train.batch_size=64
      -s train.epochs=3 -s train.resume=never)
common=(-q "${loud[@]}")

# --- end to end on 2 ranks ---------------------------------------------------
out=$TMP/np2
expect_exit 0 "${MPIRUN[@]}" -np 2 "$train" "${common[@]}" -s "train.output_dir=$out"
for f in metrics.jsonl evaluation.json predictions.h5 profile.json trace.json config.cfg \
         checkpoints/latest checkpoints/best.h5; do
  [[ -s $out/$f ]] || fail "missing $out/$f"
done
[[ $(cat "$out/checkpoints/latest") == "step-0000000141.h5" ]] || fail "latest: $(cat "$out/checkpoints/latest")"
pass "outputs of a 2-rank run"

$PY - "$out" <<'EOF' || fail "metrics check"
import json, sys
import h5py, numpy as np
from sklearn import metrics as skm
out = sys.argv[1]
recs = [json.loads(l) for l in open(f"{out}/metrics.jsonl")]
assert [r["epoch"] for r in recs] == [1, 2, 3], recs
need = {"epoch", "train_loss", "val_loss", "val_accuracy", "val_precision", "val_recall", "val_f1",
        "val_auc", "val_pr_auc", "val_confusion", "epoch_s", "samples_per_s", "lr"}
assert need <= set(recs[0]), need - set(recs[0])
assert all(r["samples_per_s"] > 0 for r in recs)
ev = json.load(open(f"{out}/evaluation.json"))
t = ev["test"]
with h5py.File(f"{out}/predictions.h5") as f:
    y, s, rid = f["label"][:], f["score"][:].astype(np.float64), f["row_id"][:]
    prob = f["prob"][:]
assert len(y) == 800 and t["rows"] == 800
assert (rid == np.arange(3800, 4600)).all(), "row ids"
assert np.allclose(prob.sum(axis=1), 1, atol=1e-5)
thr = ev["threshold"]
pred = (s >= thr).astype(int)
ref = {"auc": skm.roc_auc_score(y, s), "pr_auc": skm.average_precision_score(y, s),
       "f1": skm.f1_score(y, pred, zero_division=0),
       "precision": skm.precision_score(y, pred, zero_division=0),
       "recall": skm.recall_score(y, pred, zero_division=0),
       "accuracy": skm.accuracy_score(y, pred)}
for k, v in ref.items():
    assert abs(t[k] - v) < 1e-9, (k, t[k], v)
assert t["confusion"] == skm.confusion_matrix(y, pred).tolist(), t["confusion"]
assert t["auc"] > 0.75, t["auc"]
print("sklearn agrees:", {k: round(v, 5) for k, v in ref.items()})
EOF
pass "metrics.jsonl fields; evaluation.json equals scikit-learn on predictions.h5"

# --- determinism -------------------------------------------------------------
expect_exit 0 "${MPIRUN[@]}" -np 2 "$train" "${common[@]}" -s "train.output_dir=$TMP/np2b"
h5diff "$out/checkpoints/step-0000000141.h5" "$TMP/np2b/checkpoints/step-0000000141.h5" /model /model ||
  fail "two runs with the same seed and ranks differ"
pass "same seed, same ranks: bit-identical /model"

# --- bucketed allreduce (overlapped with backward) equals the blocking one -----
expect_exit 0 "${MPIRUN[@]}" -np 2 "$train" "${common[@]}" -s "train.output_dir=$TMP/bucket" \
  -s train.bucket_kb=1 -s monitoring.profile=false
h5diff "$out/checkpoints/step-0000000141.h5" "$TMP/bucket/checkpoints/step-0000000141.h5" /model /model ||
  fail "bucketed allreduce changed the weights"
grep -q '"overlap_window_s":[0-9.e-]*[1-9]' "$TMP/bucket/metrics.jsonl" || fail "no overlap window reported"
pass "bucketed allreduce: same weights, overlap reported"

# --- /train replicated on every rank (the default for small sets) equals the sharded exchange ---
expect_exit 0 "${MPIRUN[@]}" -np 2 "$train" "${loud[@]}" -s "train.output_dir=$TMP/repl" \
  -s monitoring.profile=false
grep -q "replicated on every rank" "$TMP/err" || fail "the default run did not replicate its small /train"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$train" "${loud[@]}" -s "train.output_dir=$TMP/shard" \
  -s train.replicate_max_mb=0 -s monitoring.profile=false
grep -q "sharded across ranks" "$TMP/err" || fail "replicate_max_mb = 0 did not shard /train"
h5diff "$TMP/repl/checkpoints/step-0000000141.h5" "$TMP/shard/checkpoints/step-0000000141.h5" /model /model ||
  fail "sharded /train (row exchange) and replicated /train (local gather) differ"
expect_exit 0 "${MPIRUN[@]}" -np 3 "$train" "${common[@]}" -s "train.output_dir=$TMP/r3"
expect_exit 0 "${MPIRUN[@]}" -np 3 "$train" "${common[@]}" -s "train.output_dir=$TMP/s3" \
  -s train.replicate_max_mb=0
h5diff "$TMP/r3/checkpoints/step-0000000141.h5" "$TMP/s3/checkpoints/step-0000000141.h5" /model /model ||
  fail "np=3: sharded and replicated /train differ"
pass "replicated /train (local gather) gives the weights of the sharded exchange on 2 and 3 ranks"

# --- np=1 vs np=2: same global batches, only the summation order differs ---------
expect_exit 0 "$train" "${common[@]}" -s "train.output_dir=$TMP/np1"
$PY - "$TMP/np1" "$out" <<'EOF' || fail "np=1 and np=2 disagree"
import sys, h5py, numpy as np
a, b = (h5py.File(f"{d}/checkpoints/step-0000000141.h5") for d in sys.argv[1:])
worst = max(np.abs(a["model"][k][:] - b["model"][k][:]).max() for k in a["model"])
assert worst < 1e-4, worst
print("max |w1 - w2| =", worst)
EOF
pass "np=1 and np=2 agree within 1e-4"

# --- BLAS threads: the config, else Slurm's cores per task, else the rank's cores ---
SLURM_CPUS_PER_TASK=3 expect_exit 0 "$train" "${loud[@]}" -s train.epochs=1 \
  -s "train.output_dir=$TMP/blas" -s monitoring.profile=false
grep -q "3 BLAS threads per rank" "$TMP/err" || fail "SLURM_CPUS_PER_TASK not used"
SLURM_CPUS_PER_TASK=3 expect_exit 0 "$train" "${loud[@]}" -s train.epochs=1 \
  -s "train.output_dir=$TMP/blas" -s monitoring.profile=false -s train.blas_threads=1
grep -q "1 BLAS threads per rank" "$TMP/err" || fail "train.blas_threads not used"
pass "BLAS threads from train.blas_threads / SLURM_CPUS_PER_TASK"

# --- alerts, early stopping, class weights -----------------------------------------
al=$TMP/alert.cfg
cat >"$al" <<'EOF'
monitoring = {
  alerts = ( { metric = "val_loss"; threshold = 100.0; direction = "below"; window = 2; action = "stop"; } );
};
EOF
expect_exit 0 "${MPIRUN[@]}" -np 2 "$train" -c "$al" "${common[@]}" -s train.epochs=5 \
  -s "train.output_dir=$TMP/alert" -s train.class_weights=dataset
grep -q '"alert":"val_loss below 100 for 2 epochs"' "$TMP/alert/metrics.jsonl" || fail "no ALERT record"
[[ $(grep -c '"train_loss"' "$TMP/alert/metrics.jsonl") -eq 2 ]] || fail "alert did not stop after 2 epochs"
grep -q '"stop_reason": "alert"' "$TMP/alert/evaluation.json" || fail "stop reason"
expect_exit 0 "$train" "${common[@]}" -s train.epochs=6 -s train.lr=1e-12 \
  -s train.early_stopping_metric=val_loss -s train.early_stopping_patience=2 \
  -s "train.output_dir=$TMP/es"
[[ $(wc -l <"$TMP/es/metrics.jsonl") -eq 3 ]] || fail "early stopping: $(wc -l <"$TMP/es/metrics.jsonl") epochs"
grep -q '"stop_reason": "early stopping"' "$TMP/es/evaluation.json" || fail "early stopping reason"
pass "alert with action stop; early stopping with patience"

# --- errors --------------------------------------------------------------------------
expect_exit 3 "$train" -s "train.dataset=$TMP/none.h5" -s "train.output_dir=$TMP/e"
grep -q "cannot open dataset" "$TMP/err" || fail "missing dataset message"
echo "not hdf5" >"$TMP/bad.h5"
expect_exit 2 "${MPIRUN[@]}" -np 2 "$train" -s "train.dataset=$TMP/bad.h5" -s "train.output_dir=$TMP/e"
[[ $(grep -c "is not an HDF5 file" "$TMP/err") -eq 1 ]] || fail "bad file message"
expect_exit 1 "$train" "${common[@]}" -s train.batch_size=1 -s "train.output_dir=$TMP/e" -s train.epochs=1 \
  -s train.class_weights=config -s 'train.class_weight_values=[1.0]'
grep -q "class_weight_values has 1 values" "$TMP/err" || fail "class weights message"
expect_exit 1 "${MPIRUN[@]}" -np 2 "$train" "${common[@]}" -s train.batch_size=1 -s "train.output_dir=$TMP/e"
grep -q "smaller than the 2 ranks" "$TMP/err" || fail "batch < ranks message"
HPCML_FAULT=train.checkpoint@1 expect_exit 0 "${MPIRUN[@]}" -np 2 "$train" "${common[@]}" \
  -s "train.output_dir=$TMP/f" -s train.epochs=1 # only rank 0 writes checkpoints
HPCML_FAULT=train.checkpoint@0 expect_exit 3 "${MPIRUN[@]}" -np 2 "$train" "${common[@]}" \
  -s "train.output_dir=$TMP/f" -s train.epochs=1
[[ $(grep -c "injected fault at train.checkpoint on rank 0" "$TMP/err") -eq 1 ]] || fail "fault message"
pass "errors: missing file 3, bad file 2, bad config 1, checkpoint write failure 3"
