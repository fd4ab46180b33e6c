#!/usr/bin/env bash
# train_vs_torch.sh — hpcml-train against PyTorch on the same data and cores.
#
#   benchmarks/train_vs_torch.sh BUILD_DIR [DATASET.h5] [EPOCHS]
#
# The seed's model (30 -> 256 -> 128 -> 2, ReLU, dropout 0.3, Adam 1e-3, batch
# 512). Without DATASET a 284,807-row, 30-feature set in the ETL layout is
# generated (70/15/15 split, 0.172 % positives). Runs, each for EPOCHS epochs
# (default 3), and reports the best epoch's training samples/s:
#   hpcml-train on 1 rank (1 and 2 BLAS threads) and on 2 ranks (1 thread each);
#   PyTorch in one process with 1 and 2 threads (OPENBLAS_NUM_THREADS=1), and
#   DistributedDataParallel (gloo) on 2 processes of 1 thread;
#   the 8 GEMMs of one step alone (the sgemm-bound rate).
# Prints a table, the ratio of hpcml on 2 ranks to PyTorch's best, the share of
# the GEMM-bound rate reached and hpcml's allreduce share.
set -euo pipefail
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
DATA=${2:-}
EPOCHS=${3:-3}
PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/hpcml-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
export OMPI_MCA_btl_vader_single_copy_mechanism=none
if [[ -z $DATA ]]; then
  DATA=$TMP/demo.h5
  $PY "$SRC/tests/scripts/make_train_dataset.py" "$DATA" --train 199365 --val 42721 --test 42721 \
    --features 30 --positive 0.00172 --seed 42
fi
echo "dataset: $DATA, $(nproc) cores, $EPOCHS epochs"

best_rate() { # metrics.jsonl -> best samples_per_s, its allreduce share, the last val_auc
  $PY -c "
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if '\"train_loss\"' in l]
r = max(recs, key=lambda r: r['samples_per_s'])
print(f\"{r['samples_per_s']:.0f} {r['allreduce_share']:.4f} {recs[-1]['val_auc']}\")" "$1"
}

cfg=(-q -s "train.dataset=$DATA" -s "train.epochs=$EPOCHS" -s train.resume=never
     -s train.evaluate=false -s monitoring.profile=false -s train.checkpoint_every=0
     -s 'train.hidden=[256, 128]' -s train.dropout=0.3 -s train.batch_size=512 -s train.lr=0.001)
declare -A rate share auc
run_hpcml() { # name np threads
  local out=$TMP/$1
  if [[ $2 -eq 1 ]]; then
    "$BUILD/bin/hpcml-train" "${cfg[@]}" -s "train.output_dir=$out" -s "train.blas_threads=$3"
  else
    "${MPIRUN[@]}" -np "$2" "$BUILD/bin/hpcml-train" "${cfg[@]}" -s "train.output_dir=$out" \
      -s "train.blas_threads=$3"
  fi
  read -r rate[$1] share[$1] auc[$1] <<<"$(best_rate "$out/metrics.jsonl")"
}
run_torch() { # name threads ddp
  local line
  line=$(OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=$2 $PY "$SRC/benchmarks/torch_mlp.py" "$DATA" \
         --threads "$2" --ddp "$3" --epochs "$EPOCHS" | tail -1)
  read -r rate[$1] auc[$1] <<<"$($PY -c "import json,sys; r=json.loads(sys.argv[1]); print(f\"{r['samples_per_s']:.0f} {r['val_auc']}\")" "$line")"
  share[$1]=-
}

run_hpcml hpcml_np1_t1 1 1
run_hpcml hpcml_np1_t2 1 2
run_hpcml hpcml_np2_t1 2 1
run_torch torch_t1 1 1
run_torch torch_t2 2 1
run_torch torch_ddp2 1 2

cc -O2 "$SRC/benchmarks/gemm_rate.c" -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas \
  -o "$TMP/gemm_rate"
gemm1=$("$TMP/gemm_rate" 512 1 30 256 128 2)
gemm2=$("$TMP/gemm_rate" 256 1 30 256 128 2)
echo "GEMMs of one step, 1 rank x 512 rows, 1 thread: $gemm1"
echo "GEMMs of one step, 1 of 2 ranks x 256 rows, 1 thread: $gemm2"
bound2=$($PY -c "import json,sys; print(2 * json.loads(sys.argv[1])['gemm_bound_samples_per_s'])" "$gemm2")

printf '\n%-14s %12s %10s %10s\n' run samples/s allreduce val_auc
for k in hpcml_np1_t1 hpcml_np1_t2 hpcml_np2_t1 torch_t1 torch_t2 torch_ddp2; do
  printf '%-14s %12s %10s %10.5f\n' "$k" "${rate[$k]}" "${share[$k]}" "${auc[$k]}"
done
$PY - "${rate[hpcml_np2_t1]}" "${rate[torch_t1]}" "${rate[torch_t2]}" "${rate[torch_ddp2]}" \
  "$bound2" "${share[hpcml_np2_t1]}" <<'PYEOF'
import sys
h, t1, t2, ddp, bound, share = map(float, sys.argv[1:])
best = max(t1, t2, ddp)
print(f"\nhpcml on 2 ranks / PyTorch's best ({best:.0f}): {h / best:.2f}x   (goal: 5x)")
print(f"hpcml on 2 ranks / its sgemm-bound rate ({bound:.0f}): {100 * h / bound:.0f}%")
print(f"allreduce share of training time on 2 ranks: {100 * share:.1f}%   (goal: < 5%)")
PYEOF
