#!/usr/bin/env bash
# predict_vs_pandas.sh — hpcml-predict on 2 ranks against pandas + PyTorch doing the same
# work (benchmarks/predict_pandas.py: read the CSV, the transform from model.h5, the MLP
# forward pass, write the predictions CSV).
#
#   benchmarks/predict_vs_pandas.sh BUILD_DIR [ROWS] [RUNS]
#
# Makes the demo set (configs/demo.cfg, ROWS rows, default 284,807) with hpcml-gen, a
# dataset and a model (hpcml-train, 1 epoch: only the weights' shape matters here), then
# times RUNS times each (default 3; whole commands, start-up included) and prints the
# medians, the ratio, the input MB/s, the peak RSS of each (hpcml: the largest rank, from
# profile.json; pandas: GNU time) and hpcml's forward pass rate (its "forward" stage, rows/s
# and GFLOP/s). Both score with one BLAS thread per process. Not a test: nothing is asserted.
set -euo pipefail
BUILD=$(cd "$1" && pwd)
ROWS=${2:-284807}
RUNS=${3:-3}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/hpcml-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
export OMPI_MCA_btl_vader_single_copy_mechanism=none
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
cfg=$SRC/configs/demo.cfg
common=(-q -c "$cfg" -s gen.rows="$ROWS" -s train.epochs=1 -s train.resume=never)
"${MPIRUN[@]}" -np 2 "$BUILD/bin/hpcml-gen" "${common[@]}"
"${MPIRUN[@]}" -np 2 "$BUILD/bin/hpcml-etl" "${common[@]}"
"${MPIRUN[@]}" -np 2 "$BUILD/bin/hpcml-train" "${common[@]}" -s monitoring.alerts='()'
model=hpcml-out/train/model.h5
mb=$(du -cb hpcml-out/raw/*.csv | tail -1 | awk '{print $1 / 1e6}')

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
t_h=() t_p=()
for r in $(seq "$RUNS"); do
  rm -rf out-h out-p; mkdir out-p
  s=$(date +%s.%N)
  OPENBLAS_NUM_THREADS=1 "${MPIRUN[@]}" -np 2 -x OPENBLAS_NUM_THREADS "$BUILD/bin/hpcml-predict" \
    "${common[@]}" -s "predict.model=$model" -s 'predict.input=["hpcml-out/raw/*.csv"]' \
    -s predict.output=out-h/p.csv
  t_h+=("$(echo "$(date +%s.%N) - $s" | bc)")
  s=$(date +%s.%N)
  OMP_NUM_THREADS=1 /usr/bin/time -f %M -o rss-p "$PY" "$SRC/benchmarks/predict_pandas.py" "$model" \
    out-p/p.csv hpcml-out/raw/*.csv
  t_p+=("$(echo "$(date +%s.%N) - $s" | bc)")
done
th=$(printf '%s\n' "${t_h[@]}" | median)
tp=$(printf '%s\n' "${t_p[@]}" | median)
$PY - "$th" "$tp" "$mb" "$ROWS" "$(cat rss-p)" <<'PYEOF'
import json, sys
import h5py, numpy as np
th, tp, mb, rows, rss_p = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
prof = json.load(open("out-h/profile.json"))
def stage(name):
    for s in prof.get("stages", []):
        if s.get("name") == name:
            return s
    return None
fwd = stage("forward")
w = h5py.File("hpcml-out/train/model.h5")["model/widths"][:]
flops = 2.0 * rows * sum(int(w[k]) * int(w[k + 1]) for k in range(len(w) - 1))
a = np.loadtxt("out-h/p.csv", delimiter=",", skiprows=1, usecols=(0, 1))
b = np.loadtxt("out-p/p.csv", delimiter=",", skiprows=1, usecols=(0, 1))
print(f"rows {rows}, input {mb:.1f} MB")
print(f"hpcml-predict -np 2: {th:.2f} s ({mb / th:.1f} MB/s)   pandas + torch: {tp:.2f} s ({mb / tp:.1f} MB/s)")
print(f"ratio pandas / hpcml: {tp / th:.2f}x   (goal at 5M rows: 10x)")
print(f"max |prob difference| hpcml vs torch: {np.abs(a - b).max():.2e}")
rss_h = max(st["peak_rss_bytes"]["max"] for st in prof["stages"])
print(f"peak RSS: hpcml (largest rank) {rss_h / 2**20:.0f} MB; pandas + torch {rss_p / 1024:.0f} MB")
if fwd:
    t = fwd["wall_s"]["max"]
    print(f"forward stage (slowest rank, incl. the chunk exchange): {t:.3f} s, "
          f"{rows / t:.0f} rows/s, {flops / t / 1e9:.2f} GFLOP/s over 2 ranks")
PYEOF
