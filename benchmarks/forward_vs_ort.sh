#!/usr/bin/env bash
# forward_vs_ort.sh — hpcml-predict's forward pass on 2 ranks against the same network,
# exported by hpcml-export --network-only, in ONNX Runtime with 2 threads (npm
# onnxruntime-node, CPU, installed by scripts/setup.sh --test into .cache/npm).
#
#   benchmarks/forward_vs_ort.sh BUILD_DIR [RUNS]
#
# Makes the demo set (configs/demo.cfg: 284,807 rows), a dataset and a model (hpcml-train,
# 1 epoch: only the weights' shape matters), scores every row with hpcml-predict -np 2
# (one BLAS thread per rank; the records without their label column, so that no metrics are
# computed) RUNS times (default 3) and takes its "forward" stage from
# profile.json (the slowest rank's wall time: GEMMs, activations, softmax and the
# exchange of the chunks that straddle a rank boundary); ONNX Runtime runs the exported
# network over as many feature rows (dataset.h5's X, all splits, repeated to the same
# count: the arithmetic does not depend on the values), as one batch and in batches of
# 2,048 rows (hpcml's chunk), after a warm-up pass, RUNS passes, median and best; the
# session is created outside the timing. The ratio compares medians. Prints both rates, the ratio (ORT time / hpcml
# time: >= 1 means hpcml is at least as fast) and both as shares of the sgemm-bound rate:
# 2 cores x the rows/s that the forward GEMMs alone reach on one thread at 2,048 rows
# (benchmarks/gemm_rate.c --forward). Not a test: nothing is asserted.
set -euo pipefail
BUILD=$(cd "$1" && pwd)
RUNS=${2:-3}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
ORT=${HPCML_ORT_NODE:-$SRC/.cache/npm/node_modules/onnxruntime-node}
[[ -d $ORT ]] || { echo "no onnxruntime-node at $ORT: run scripts/setup.sh --test" >&2; exit 1; }
TMP=$(mktemp -d /tmp/hpcml-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
export OMPI_MCA_btl_vader_single_copy_mechanism=none
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
common=(-q -c "$SRC/configs/demo.cfg" -s train.epochs=1 -s train.resume=never)
"${MPIRUN[@]}" -np 2 "$BUILD/bin/hpcml-gen" "${common[@]}"
"${MPIRUN[@]}" -np 2 "$BUILD/bin/hpcml-etl" "${common[@]}"
"${MPIRUN[@]}" -np 2 "$BUILD/bin/hpcml-train" "${common[@]}" -s monitoring.alerts='()'
model=hpcml-out/train/model.h5
"$BUILD/bin/hpcml-export" -q --model "$model" --network-only -o net.onnx

# the records without their label: with labels, hpcml-predict's forward stage also computes
# the metrics of evaluation.json (AUC's sort among them); ONNX Runtime computes none
mkdir -p nolabel
for f in hpcml-out/raw/*.csv; do
  $PY -c '
import csv, sys
r = csv.reader(open(sys.argv[1])); w = csv.writer(open(sys.argv[2], "w"), lineterminator="\n")
h = next(r); k = h.index("Class"); w.writerow(h[:k] + h[k + 1:])
for row in r: w.writerow(row[:k] + row[k + 1:])' "$f" "nolabel/$(basename "$f")"
done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
t_h=()
for r in $(seq "$RUNS"); do
  rm -rf out-h
  OPENBLAS_NUM_THREADS=1 "${MPIRUN[@]}" -np 2 -x OPENBLAS_NUM_THREADS "$BUILD/bin/hpcml-predict" \
    "${common[@]}" -s "predict.model=$model" -s 'predict.input=["nolabel/*.csv"]' \
    -s predict.output=out-h/p.csv -s monitoring.profile=true
  t_h+=("$($PY -c '
import json, sys
p = json.load(open("out-h/profile.json"))
print([s for s in p["stages"] if s["name"] == "forward"][0]["wall_s"]["max"])')")
done
th=$(printf '%s\n' "${t_h[@]}" | median)
rows=$(($(wc -l <out-h/p.csv) - 1))

# the same number of feature rows for ONNX Runtime
$PY - "$rows" <<'PYEOF'
import sys, h5py, numpy as np
rows = int(sys.argv[1])
with h5py.File("hpcml-out/dataset.h5") as f:
    X = np.concatenate([f[s]["X"][:] for s in ("train", "val", "test") if s in f])
X = np.resize(X.astype(np.float32), (rows, X.shape[1]))
X.tofile("features.f32")
open("n_features", "w").write(str(X.shape[1]))
PYEOF
nf=$(cat n_features)
ort_all=$(node "$SRC/benchmarks/ort_forward.js" "$ORT" net.onnx features.f32 "$nf" 2 "$RUNS" 0)
ort_2k=$(node "$SRC/benchmarks/ort_forward.js" "$ORT" net.onnx features.f32 "$nf" 2 "$RUNS" 2048)
widths=$($PY -c 'import h5py; print(" ".join(str(int(w)) for w in h5py.File("'"$model"'")["model/widths"][:]))')
cc -O2 "$SRC/benchmarks/gemm_rate.c" -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas \
  -o gemm_rate
gemm=$(./gemm_rate --forward 2048 1 $widths)

$PY - "$th" "$rows" "$ort_all" "$ort_2k" "$gemm" "$widths" <<'PYEOF'
import json, sys
th, rows = float(sys.argv[1]), int(sys.argv[2])
o_all, o_2k, gemm = json.loads(sys.argv[3]), json.loads(sys.argv[4]), json.loads(sys.argv[5])
widths = sys.argv[6]
bound = 2 * gemm["gemm_bound_samples_per_s"]  # two cores, one thread each
to = min(o_all["median_s"], o_2k["median_s"])  # medians, as hpcml's
print(f"network {widths.replace(' ', ' -> ')}, {rows} rows; sgemm-bound rate (2 x 1 thread, "
      f"2048-row GEMMs, {gemm['gflops']:.1f} GFLOP/s per thread): {bound:,.0f} rows/s")
print(f"hpcml-predict forward, 2 ranks: median {th:.3f} s  {rows / th:,.0f} rows/s  "
      f"({rows / th / bound:.0%} of the sgemm bound)")
for name, o in (("one batch", o_all), ("2048-row batches", o_2k)):
    print(f"ONNX Runtime, 2 threads, {name}: median {o['median_s']:.3f} s (best {o['best_s']:.3f})  "
          f"{rows / o['median_s']:,.0f} rows/s  ({rows / o['median_s'] / bound:.0%} of the sgemm bound)")
print(f"ratio ONNX Runtime / hpcml time (medians of the runs, ORT's "
      f"faster batching): {to / th:.2f}x  (goal: >= 1.0)")
PYEOF
