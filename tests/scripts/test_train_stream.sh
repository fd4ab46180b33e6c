#!/usr/bin/env bash
# hpcml-train with train.streaming = true: deterministic (same seed and ranks:
# bit-identical /model), np=1 and np=2 agree (the order does not depend on the
# rank count), resume at an epoch boundary is bit-exact, the model is as good
# as in memory mode, a read error on one rank ends the job (exit 3); and a dataset larger than the memory cap trains: each
# rank's peak RSS stays under a cap smaller than the training data, while the
# same job in memory mode needs more than the cap (so the check can fail).
# labels: mpi train
# timeout: 300
# ranks: 2, 3
# options: configs written by the script; -s train.batch_size, train.blas_threads,
#   train.dataset, train.epochs, train.evaluate, train.hidden, train.lr, train.output_dir,
#   train.resume, train.stream_chunk_rows, train.stream_window_batches, train.streaming
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
train=$BIN/hpcml-train
ds=$TMP/ds.h5
$PY "$SRC/tests/scripts/make_train_dataset.py" "$ds" --train 3000 --val 800 --test 800 \
  --features 10 --positive 0.25 --seed 3
# chunks of 100 rows, windows of 4 batches of 64: 12 windows per epoch, a short last chunk
common=(-q -s "train.dataset=$ds" -s 'train.hidden=[32, 16]' -s train.batch_size=64
        -s train.epochs=3 -s train.resume=never -s train.streaming=true
        -s train.stream_chunk_rows=100 -s train.stream_window_batches=4)
ck=checkpoints/step-0000000141.h5

expect_exit 0 "${MPIRUN[@]}" -np 2 "$train" "${common[@]}" -s "train.output_dir=$TMP/a"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$train" "${common[@]}" -s "train.output_dir=$TMP/b"
h5diff "$TMP/a/$ck" "$TMP/b/$ck" /model /model || fail "two streaming runs differ"
pass "streaming: same seed, same ranks: bit-identical /model"

expect_exit 0 "$train" "${common[@]}" -s "train.output_dir=$TMP/np1"
expect_exit 0 "$train" "${common[@]}" -s "train.output_dir=$TMP/mem" -s train.streaming=false
$PY - "$TMP/np1" "$TMP/a" "$TMP/mem" <<'PYEOF' || fail "streaming np=1 / np=2 / memory mode"
import json, sys, h5py, numpy as np
np1, np2, mem = sys.argv[1:]
ck = "checkpoints/step-0000000141.h5"
a, b = (h5py.File(f"{d}/{ck}") for d in (np1, np2))
worst = max(np.abs(a["model"][k][:] - b["model"][k][:]).max() for k in a["model"])
assert worst < 1e-4, worst
la = [json.loads(l)["train_loss"] for l in open(f"{np1}/metrics.jsonl")]
lb = [json.loads(l)["train_loss"] for l in open(f"{np2}/metrics.jsonl")]
assert np.allclose(la, lb, rtol=1e-4), (la, lb)
s = json.load(open(f"{np2}/evaluation.json"))["test"]["auc"]
m = json.load(open(f"{mem}/evaluation.json"))["test"]["auc"]
assert s > 0.75 and abs(s - m) < 0.03, (s, m)
print(f"np1/np2 worst weight difference {worst:.2g}; test auc streaming {s:.4f}, memory {m:.4f}")
PYEOF
pass "streaming: np=1 and np=2 agree within 1e-4, test AUC as in memory mode"

# a batch the ranks do not divide, padding in the last window: np=3 == np=1
odd=(-s train.batch_size=61 -s train.epochs=2 -s train.evaluate=false)
expect_exit 0 "${MPIRUN[@]}" -np 3 "$train" "${common[@]}" "${odd[@]}" -s "train.output_dir=$TMP/o3"
expect_exit 0 "$train" "${common[@]}" "${odd[@]}" -s "train.output_dir=$TMP/o1"
$PY - "$TMP/o1" "$TMP/o3" <<'PYEOF' || fail "streaming np=1 / np=3 with batch 61"
import sys, h5py, numpy as np
a, b = (h5py.File(f"{d}/checkpoints/step-0000000100.h5") for d in sys.argv[1:])
worst = max(np.abs(a["model"][k][:] - b["model"][k][:]).max() for k in a["model"])
assert worst < 1e-4, worst
PYEOF
pass "streaming: batch 61 on 3 ranks equals 1 rank within 1e-4"

expect_exit 0 "${MPIRUN[@]}" -np 2 "$train" "${common[@]}" -s "train.output_dir=$TMP/r" \
  -s train.epochs=2
expect_exit 0 "${MPIRUN[@]}" -np 2 "$train" "${common[@]}" -s "train.output_dir=$TMP/r" \
  -s train.resume=auto
h5diff "$TMP/a/$ck" "$TMP/r/$ck" /model /model || fail "2 epochs + resume to 3 != 3 epochs"
pass "streaming: 2 epochs + resume to 3 is bit-identical to 3 epochs"

# a read error on one rank: every rank exits 3, one message, no hang
HPCML_FAULT=train.stream_read@1 expect_exit 3 timeout 60 "${MPIRUN[@]}" -x HPCML_FAULT -np 2 \
  "$train" "${common[@]}" -s "train.output_dir=$TMP/fault"
grep -q "injected fault at train.stream_read on rank 1" "$TMP/err" || { cat "$TMP/err"; fail "fault message"; }
pass "streaming: a failed read on one rank ends the job with exit 3"

# --- larger than the memory cap -------------------------------------------------
# /train: 2,000,000 rows x 30 float32 features = 240 MB (+ 8 MB labels). Cap per
# rank: 160 MB of resident memory, less than the training data (each rank of
# the in-memory job holds its shard plus the epoch's rows: about 550 MB).
big=$TMP/big.h5
$PY "$SRC/tests/scripts/make_train_dataset.py" "$big" --train 2000000 --val 20000 \
  --test 20000 --features 30 --positive 0.01 --seed 5
cap_kb=$((160 * 1024))
train_kb=$((2000000 * 31 * 4 / 1024))
(( cap_kb < train_kb )) || fail "the cap must be smaller than the data"
peak_rss() { # OUT STREAMING -> prints the largest peak RSS (KB) over the 2 ranks
  "${MPIRUN[@]}" -np 2 "$PY" -c '
import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:])
print("PEAK_RSS_KB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(rc)' "$train" -q -s "train.dataset=$big" -s 'train.hidden=[16]' -s train.batch_size=4096 \
    -s train.epochs=1 -s train.resume=never -s train.evaluate=false -s train.lr=0.003 \
    -s train.blas_threads=1 -s "train.output_dir=$1" -s "train.streaming=$2" 2>"$TMP/rss.err" ||
    { cat "$TMP/rss.err" >&2; fail "the run with streaming=$2 failed"; }
  grep -o 'PEAK_RSS_KB [0-9]*' "$TMP/rss.err" | awk '$2 > m {m = $2} END {print m}'
}
s_kb=$(peak_rss "$TMP/big_s" true)
echo "streaming: peak RSS per rank ${s_kb} KB, cap ${cap_kb} KB, training data ${train_kb} KB"
(( s_kb < cap_kb )) || fail "streaming rank used ${s_kb} KB, over the ${cap_kb} KB cap"
m_kb=$(peak_rss "$TMP/big_m" false)
echo "memory mode: peak RSS per rank ${m_kb} KB"
(( m_kb > cap_kb )) || fail "memory mode fits under the cap: the cap does not test streaming"
$PY - "$TMP/big_s" "$TMP/big_m" <<'PYEOF' || fail "streamed model quality"
import json, sys
s, m = (json.loads(open(f"{d}/metrics.jsonl").readline())["val_auc"] for d in sys.argv[1:])
assert s > 0.75 and s > m - 0.02, (s, m)
print(f"val auc after 1 epoch: streaming {s:.4f}, memory {m:.4f}")
PYEOF
pass "streaming: 248 MB of training data under a 160 MB per-rank cap, val AUC as in memory mode"
