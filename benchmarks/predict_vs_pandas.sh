#!/usr/bin/env bash
# predict_vs_pandas.sh — hpcml-predict on 2 ranks against pandas + PyTorch doing the same
# work (benchmarks/predict_pandas.py: read the CSV, the transform from model.h5, the MLP
# forward pass, write the predictions CSV).
#
#   benchmarks/predict_vs_pandas.sh BUILD_DIR [ROWS] [RUNS] [MODEL_ROWS]
#
# Makes ROWS rows of the demo set (configs/demo.cfg, default 284,807) with hpcml-gen to
# score, and a dataset and a model from MODEL_ROWS rows of it (default: min(ROWS, 284,807);
# hpcml-train, 1 epoch: only the weights' shape matters here), then times RUNS times each
# (default 1; whole commands, start-up included) and prints the medians, the ratio, the input
# MB/s, the peak RSS (hpcml: the largest rank, GNU time over mpirun and profile.json;
# pandas: GNU time), hpcml's forward pass alone (its "forward" stages: rows/s, GFLOP/s) and
# that as a share of the sgemm-bound rate (benchmarks/gemm_rate.c --forward: the same
# layer GEMMs on 2048-row chunks, one thread, timed alone, times 2 ranks). Both score with
# one BLAS thread per process; hpcml with predict.metrics = false (pandas computes none).
# Not a test: nothing is asserted.
set -euo pipefail
BUILD=$(cd "$1" && pwd)
ROWS=${2:-284807}
RUNS=${3:-1}
MODEL_ROWS=${4:-$((ROWS < 284807 ? ROWS : 284807))}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/hpcml-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
export OMPI_MCA_btl_vader_single_copy_mechanism=none
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
cfg=$SRC/configs/demo.cfg
common=(-q -c "$cfg" -s train.epochs=1 -s train.resume=never)
"${MPIRUN[@]}" -np 2 "$BUILD/bin/hpcml-gen" "${common[@]}" -s gen.rows="$MODEL_ROWS" -s gen.output_dir=fit
"${MPIRUN[@]}" -np 2 "$BUILD/bin/hpcml-etl" "${common[@]}" -s 'etl.input=["fit/*.csv"]'
"${MPIRUN[@]}" -np 2 "$BUILD/bin/hpcml-train" "${common[@]}" -s monitoring.alerts='()'
"${MPIRUN[@]}" -np 2 "$BUILD/bin/hpcml-gen" "${common[@]}" -s gen.rows="$ROWS" -s gen.output_dir=score
model=hpcml-out/train/model.h5
mb=$(du -cb score/*.csv | tail -1 | awk '{print $1 / 1e6}')

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
t_h=() t_p=()
for r in $(seq "$RUNS"); do
  rm -rf out-h out-p; mkdir out-p
  s=$(date +%s.%N)
  OPENBLAS_NUM_THREADS=1 /usr/bin/time -v -o rss-h "${MPIRUN[@]}" -np 2 -x OPENBLAS_NUM_THREADS \
    "$BUILD/bin/hpcml-predict" "${common[@]}" -s "predict.model=$model" \
    -s 'predict.input=["score/*.csv"]' -s predict.output=out-h/p.csv -s predict.metrics=false \
    -s monitoring.profile=true
  t_h+=("$(echo "$(date +%s.%N) - $s" | bc)")
  s=$(date +%s.%N)
  OMP_NUM_THREADS=1 /usr/bin/time -f %M -o rss-p "$PY" "$SRC/benchmarks/predict_pandas.py" "$model" \
    out-p/p.csv score/*.csv
  t_p+=("$(echo "$(date +%s.%N) - $s" | bc)")
done
echo "runs (s): hpcml-predict ${t_h[*]}; pandas + torch ${t_p[*]}; load $(cut -d' ' -f1-3 /proc/loadavg)"
th=$(printf '%s\n' "${t_h[@]}" | median)
tp=$(printf '%s\n' "${t_p[@]}" | median)
cc -O2 "$SRC/benchmarks/gemm_rate.c" -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas \
  -o gemm_rate
widths=$($PY -c 'import h5py, sys; print(" ".join(str(int(w)) for w in h5py.File(sys.argv[1])["model/widths"][:]))' "$model")
gemm=$(./gemm_rate --forward 2048 1 $widths)
rss_h=$(awk -F': ' '/Maximum resident set size/ {print $2}' rss-h)
$PY - "$th" "$tp" "$mb" "$ROWS" "$(cat rss-p)" "$rss_h" "$gemm" <<'PYEOF'
import json, sys
import numpy as np
th, tp, mb, rows = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rss_p, rss_time_h, gemm = int(sys.argv[5]), int(sys.argv[6]), json.loads(sys.argv[7])
prof = json.load(open("out-h/profile.json"))
def stages(name):
    return [s for s in prof.get("stages", []) if s.get("name", "").split("/")[-1] == name]
q = json.load(open("out-h/predict_quality.json"))
print(f"rows {rows}, input {mb:.1f} MB, batch_rows {q['batch_rows']}")
print(f"hpcml-predict -np 2: {th:.2f} s ({mb / th:.1f} MB/s)   pandas + torch: {tp:.2f} s ({mb / tp:.1f} MB/s)")
print(f"ratio pandas / hpcml: {tp / th:.2f}x   (goal at 5M rows: 10x)")
a = np.loadtxt("out-h/p.csv", delimiter=",", skiprows=1, usecols=(0, 1))
b = np.loadtxt("out-p/p.csv", delimiter=",", skiprows=1, usecols=(0, 1))
print(f"max |prob difference| hpcml vs torch: {np.abs(a - b).max():.2e}")
rss_h = max(st["peak_rss_bytes"]["max"] for st in prof["stages"])
print(f"peak RSS: hpcml largest rank {rss_h / 2**20:.0f} MB (profile.json), "
      f"{rss_time_h / 1024:.0f} MB (GNU time over mpirun); pandas + torch {rss_p / 1024:.0f} MB")
fwd = stages("forward")
if fwd:
    t = sum(s["wall_s"]["max"] for s in fwd)
    rate = rows / t
    bound = 2 * gemm["gemm_bound_samples_per_s"]
    print(f"forward stages (slowest rank, summed): {t:.3f} s, {rate:.0f} rows/s over 2 ranks; "
          f"sgemm-bound {bound:.0f} rows/s (2 x {gemm['gflops']:.1f} GFLOP/s): "
          f"{100 * rate / bound:.0f}% (goal: 80%)")
for s in prof["stages"]:
    print(f"  stage {s['name']:<24} {s['wall_s']['max']:8.3f} s (slowest rank)")
PYEOF
