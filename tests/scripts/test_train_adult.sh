#!/usr/bin/env bash
# Quality on UCI Adult: hpcml-etl (configs/adult.cfg) -> hpcml-train on 2 ranks,
# and PyTorch (benchmarks/torch_mlp.py) on the same dataset.h5 with the same
# architecture, optimizer, batch, epochs and split, both evaluating on /test
# the epoch with the best validation AUC: the test AUCs agree within 0.005.
# labels: mpi train quality
# timeout: 300
# ranks: 1 (etl), 2 (train)
# options: configs/adult.cfg; -s etl.output, monitoring.profile, train.batch_size,
#   train.dataset, train.dropout, train.early_stopping_metric, train.epochs, train.hidden,
#   train.lr, train.output_dir, train.resume
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
cd "$SRC"
expect_exit 0 "$BIN/hpcml-etl" -q -c configs/adult.cfg -s "etl.output=$TMP/adult.h5"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN/hpcml-train" -q -s "train.dataset=$TMP/adult.h5" \
  -s "train.output_dir=$TMP/train" -s train.epochs=8 -s 'train.hidden=[64, 32]' \
  -s train.dropout=0.2 -s train.batch_size=256 -s train.lr=0.001 -s train.resume=never \
  -s train.early_stopping_metric=val_auc -s monitoring.profile=false
OPENBLAS_NUM_THREADS=1 $PY "$SRC/benchmarks/torch_mlp.py" "$TMP/adult.h5" --threads 1 \
  --epochs 8 --hidden 64,32 --dropout 0.2 --batch 256 --lr 0.001 --select-best >"$TMP/torch.json"
$PY - "$TMP/train/evaluation.json" "$TMP/torch.json" <<'PYEOF' || fail "test AUC differs from PyTorch's"
import json, sys
h = json.load(open(sys.argv[1]))["test"]["auc"]
t = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])["test_auc"]
print(f"test AUC: hpcml {h:.5f}, PyTorch {t:.5f}, difference {abs(h - t):.5f}")
assert h > 0.88 and abs(h - t) < 0.005
PYEOF
pass "Adult: hpcml test AUC within 0.005 of PyTorch's"
