#!/usr/bin/env bash
# forward_vs_ort.sh — hpcml-predict's forward pass on 2 ranks against the same network,
# exported by hpcml-export --network-only, in ONNX Runtime with 2 threads (npm
# onnxruntime-node, CPU, installed by scripts/setup.sh --test into .cache/npm), and both
# against the sgemm-bound rate.
#
#   benchmarks/forward_vs_ort.sh BUILD_DIR [RUNS]
#
# Makes the demo set (configs/demo.cfg: 284,807 rows), a dataset and a model (hpcml-train,
# 1 epoch: only the weights' shape matters). Then RUNS rounds (default 3), each timing, one
# right after the other so that they meet the same machine load:
#   hpcml     hpcml-predict -np 2 on every record (one thread per rank; the records without
#             their label column, so that no metrics are computed): the "forward" stage of
#             profile.json, the slowest rank's wall time (mlp_infer and softmax, nothing else)
#   ORT       the exported network over as many feature rows (dataset.h5's X, all splits,
#             repeated to the same count: the arithmetic does not depend on the values), as
#             one batch and in batches of 2,048 rows, one pass each after a warm-up pass; the
#             session is created outside the timing; the faster of the two counts
#   bound     the sgemm-bound rate: the forward GEMMs alone (benchmarks/gemm_rate.c
#             --forward: cblas_sgemm per layer, 2,048-row calls, no bias, activation or
#             softmax), one thread in each of two processes started together (the two
#             cores, as the 2 ranks and ORT's 2 threads), as many rows each as a rank
#             scores; the bound is the sum of the two processes' rates
# and prints the medians over rounds: each time, the ratio ORT time / hpcml time of each
# round (>= 1 means hpcml is at least as fast) and each rate's share of its round's bound.
# The bound is OpenBLAS's sgemm on these shapes, not the machine's peak: a forward that
# multiplies better than OpenBLAS does on them exceeds it. Last, load-independent:
# benchmarks/infer_rate.c, mlp_infer's kernel against the same sgemm calls on one core in CPU
# time (median of 5 alternated repetitions over a rank's rows). Not a test: nothing is asserted.
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

widths=$($PY -c 'import h5py; print(" ".join(str(int(w)) for w in h5py.File("'"$model"'")["model/widths"][:]))')
cc -O2 "$SRC/benchmarks/gemm_rate.c" -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas \
  -o gemm_rate
cc -O2 -ffp-contract=off -fno-math-errno -I"$SRC/src" "$SRC/benchmarks/infer_rate.c" \
  "$SRC/src/nn/infer_cpu.c" "$SRC/src/core/status.c" \
  -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas -lm -o infer_rate

score() { # one hpcml-predict run: prints the forward stage's slowest-rank seconds
  rm -rf out-h
  OPENBLAS_NUM_THREADS=1 "${MPIRUN[@]}" -np 2 -x OPENBLAS_NUM_THREADS "$BUILD/bin/hpcml-predict" \
    "${common[@]}" -s "predict.model=$model" -s 'predict.input=["nolabel/*.csv"]' \
    -s predict.output=out-h/p.csv -s monitoring.profile=true >&2
  $PY -c '
import json
p = json.load(open("out-h/profile.json"))
print([s for s in p["stages"] if s["name"] == "forward"][0]["wall_s"]["max"])'
}

# the first run also gives the row count for ONNX Runtime's features
th1=$(score)
rows=$(($(wc -l <out-h/p.csv) - 1))
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
iters=$(( (rows / 2 + 2047) / 2048 ))

: >rounds.jsonl
for r in $(seq "$RUNS"); do
  th=${th1:-$(score)}
  th1=
  o_all=$(node "$SRC/benchmarks/ort_forward.js" "$ORT" net.onnx features.f32 "$nf" 2 1 0)
  o_2k=$(node "$SRC/benchmarks/ort_forward.js" "$ORT" net.onnx features.f32 "$nf" 2 1 2048)
  ./gemm_rate --forward --iters "$iters" --reps 1 2048 1 $widths >g0 &
  ./gemm_rate --forward --iters "$iters" --reps 1 2048 1 $widths >g1
  wait
  $PY -c '
import json, sys
g = [json.load(open(f)) for f in ("g0", "g1")]
print(json.dumps({"hpcml_s": float(sys.argv[1]), "ort_all": json.loads(sys.argv[2]),
                  "ort_2k": json.loads(sys.argv[3]),
                  "bound_rows_per_s": sum(x["gemm_bound_samples_per_s"] for x in g),
                  "bound_gflops": sum(x["gflops"] for x in g)}))' "$th" "$o_all" "$o_2k" >>rounds.jsonl
  echo "round $r: $(tail -1 rounds.jsonl)" >&2
done

$PY - "$rows" "$widths" <<'PYEOF'
import json, statistics as st, sys
rows, widths = int(sys.argv[1]), sys.argv[2]
R = [json.loads(l) for l in open("rounds.jsonl")]
med = st.median
w = [int(x) for x in widths.split()]
flops_row = 2 * sum(a * b for a, b in zip(w, w[1:]))  # the GEMMs' multiply-adds, x 2
def line(name, times, shares):
    print(f"{name}: median {med(times):.3f} s (best {min(times):.3f})  {rows / med(times):,.0f} rows/s"
          f"  {rows * flops_row / med(times) * 1e-9:.1f} GFLOP/s"
          f"  ({med(shares):.0%} of the sgemm bound, median of the rounds' shares)")
print(f"network {widths.replace(' ', ' -> ')}, {rows} rows, {len(R)} rounds; sgemm bound "
      f"(2 x 1 thread at once, 2048-row GEMMs): median {med(r['bound_rows_per_s'] for r in R):,.0f} "
      f"rows/s ({med(r['bound_gflops'] for r in R):.1f} GFLOP/s over both cores)")
line("hpcml-predict forward, 2 ranks", [r["hpcml_s"] for r in R],
     [rows / r["hpcml_s"] / r["bound_rows_per_s"] for r in R])
for key, name in (("ort_all", "one batch"), ("ort_2k", "2048-row batches")):
    line(f"ONNX Runtime, 2 threads, {name}", [r[key]["median_s"] for r in R],
         [rows / r[key]["median_s"] / r["bound_rows_per_s"] for r in R])
ratios = [min(r["ort_all"]["median_s"], r["ort_2k"]["median_s"]) / r["hpcml_s"] for r in R]
print(f"ratio ONNX Runtime / hpcml time (per round, ORT's faster batching): median "
      f"{med(ratios):.2f}x, rounds {' '.join(f'{x:.2f}' for x in ratios)}  (goal: >= 1.0)")
PYEOF
echo "one core, CPU time (benchmarks/infer_rate.c): $(./infer_rate $((rows / 2)) 5 $widths)"
