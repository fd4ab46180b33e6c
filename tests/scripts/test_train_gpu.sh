#!/usr/bin/env bash
# hpcml-train on a GPU node (skipped, exit 77, where no CUDA device is
# usable): train.device = "cuda" against "cpu" on the same data and seed —
# per-epoch training loss and the final weights agree within float
# tolerance (fp32 GEMMs); 2 ranks (NCCL with 2+ GPUs; sharing one GPU is
# detected and summed over MPI) agree with 1 rank; tf32 and bf16 runs train (loss falls);
# a preempted GPU run (SIGUSR2, train.preempt_signal = "USR2") resumes on
# the CPU. Never run on this project's machines: see docs/gpu.md.
# labels: gpu mpi train
# timeout: 600
# ranks: 1, 2 (one GPU per rank where there are two)
# options: configs written by the script; -s train.activation, train.batch_size,
#   train.checkpoint_every, train.cuda_math, train.dataset, train.device, train.dropout,
#   train.epochs, train.hidden, train.output_dir, train.preempt_signal, train.resume
# skips (exit 77): no usable CUDA device
source "$(dirname "$0")/lib.sh" "$@"
n_gpu=$("$TBIN/gpu_step_equiv" --probe) || { echo "SKIP: no usable CUDA device"; exit 77; }
train=$BIN/hpcml-train
ds=$TMP/ds.h5
$PY "$SRC/tests/scripts/make_train_dataset.py" "$ds" --train 4000 --val 800 --test 800 \
  --features 12 --seed 4
common=(-q -s "train.dataset=$ds" -s 'train.hidden=[64, 32]' -s train.batch_size=128
        -s train.epochs=3 -s train.resume=never -s train.activation=gelu -s train.dropout=0.2)

close_models() { # DIR_A DIR_B RTOL: final /model of two runs within tolerance
  $PY - "$@" <<'PY'
import sys, h5py, numpy as np
a, b, rtol = sys.argv[1], sys.argv[2], float(sys.argv[3])
def model(d):
    last = open(f"{d}/checkpoints/latest").read().strip()
    with h5py.File(f"{d}/checkpoints/{last}") as f:
        out = {}
        f["model"].visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
        return out
ma, mb = model(a), model(b)
assert ma.keys() == mb.keys(), (ma.keys(), mb.keys())
for k in ma:
    assert ma[k].dtype == np.float32 and mb[k].dtype == np.float32, k
    err = np.max(np.abs(ma[k] - mb[k]) / (1e-4 + np.abs(mb[k])))
    assert err <= rtol, f"{k}: relative difference {err}"
PY
}
losses() { $PY -c 'import json,sys; print(" ".join("%.6f" % json.loads(l)["train_loss"] for l in open(sys.argv[1])))' "$1/metrics.jsonl"; }

expect_exit 0 "$train" "${common[@]}" -s train.device=cpu -s "train.output_dir=$TMP/cpu"
expect_exit 0 "$train" "${common[@]}" -s train.device=cuda -s "train.output_dir=$TMP/gpu"
echo "train_loss cpu: $(losses "$TMP/cpu")  gpu: $(losses "$TMP/gpu")"
close_models "$TMP/gpu" "$TMP/cpu" 1e-2 || fail "GPU and CPU weights differ"
pass "1 rank: cuda (fp32) == cpu within tolerance"

expect_exit 0 "${MPIRUN[@]}" -np 2 "$train" "${common[@]}" -s train.device=cuda \
  -s "train.output_dir=$TMP/gpu2" -v
want="NCCL"
[[ $n_gpu -ge 2 ]] || want="MPI through host memory" # one GPU shared: NCCL refuses it
grep -q "device gradients summed by $want" "$TMP/err" ||
  { cat "$TMP/err"; fail "2 ranks on $n_gpu GPU(s): gradients not summed by $want"; }
close_models "$TMP/gpu2" "$TMP/gpu" 1e-2 || fail "2-rank GPU run differs from 1 rank"
pass "2 ranks on the GPU == 1 rank within tolerance"

for math in tf32 bf16; do
  expect_exit 0 "$train" "${common[@]}" -s train.device=cuda -s train.cuda_math=$math \
    -s "train.output_dir=$TMP/$math"
  $PY -c 'import json,sys; l=[json.loads(x)["train_loss"] for x in open(sys.argv[1])]; assert l[-1] < l[0], l' \
    "$TMP/$math/metrics.jsonl" || fail "$math: the loss did not fall"
  echo "train_loss $math: $(losses "$TMP/$math")"
done
pass "tf32 and bf16 GEMMs train"

# preempted on the GPU with SIGUSR2, resumed on the CPU
big=(-s train.epochs=100000 -s train.checkpoint_every=1000 -s train.preempt_signal=USR2)
"$train" "${common[@]}" "${big[@]}" -s train.device=cuda -s "train.output_dir=$TMP/pre" &
pid=$!
sleep 3
kill -USR2 $pid
got=0
wait $pid || got=$?
[[ $got -eq 75 ]] || fail "preempted GPU run: exit $got, want 75"
expect_exit 0 "$train" "${common[@]}" "${big[@]}" -s train.epochs=1 -s train.device=cpu \
  -s train.resume=auto -s "train.output_dir=$TMP/pre" -v
grep -q "resuming from" "$TMP/err" || { cat "$TMP/err"; fail "CPU did not resume the GPU checkpoint"; }
pass "GPU run preempted by SIGUSR2 (exit 75), resumed on the CPU"
