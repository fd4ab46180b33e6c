#!/usr/bin/env bash
# etl_vs_pandas.sh — hpcml-etl against pandas + h5py doing the same work.
#
#   benchmarks/etl_vs_pandas.sh BUILD_DIR [RUNS]
#
# Generates the demo set (284,807 rows, 8 shards, 1 categorical column, 1 %
# missing values; configs/demo.cfg) with hpcml-gen, then times, RUNS times
# each (default 5), end to end (the whole command: process and MPI start-up,
# imports included):
#   pandas + h5py (benchmarks/etl_pandas.py: read, validate, stratified split,
#   impute, standardize, one-hot, SHA-256, write), and
#   hpcml-etl on 1, 2 and 4 ranks (4 is oversubscribed when the machine has
#   fewer cores, and marked so).
# Prints the medians, input MB/s, the ratio to pandas, and next to them this
# machine's measured disk read (O_DIRECT) and memory copy bandwidth. Not a
# test: nothing is asserted.
set -euo pipefail
BUILD=$(cd "$1" && pwd)
RUNS=${2:-5}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/hpcml-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
export OMPI_MCA_btl_vader_single_copy_mechanism=none

"$BUILD/bin/hpcml-gen" -q -c "$SRC/configs/demo.cfg" -s "gen.output_dir=$TMP/raw"
bytes=$(cat "$TMP"/raw/*.csv | wc -c)
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
cores=$(nproc)
echo "input: $mb MB in 8 CSV shards, 284807 rows; $cores cores; median of $RUNS runs"

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# wall command... -> "wall_seconds inner_seconds": the whole command, and the
# work alone as the program reports it (pandas: after its imports; hpcml-etl:
# from planning to the rename, without MPI start-up and shutdown).
wall() {
  local t0 t1 inner
  t0=$(date +%s.%N)
  "$@" >"$TMP/cmd.out" 2>&1
  t1=$(date +%s.%N)
  inner=$(grep -o 'in [0-9.]* s (' "$TMP/cmd.out" | awk '{ print $2 }' | tail -1 || true)
  [[ -n $inner ]] || inner=$(tail -1 "$TMP/cmd.out")
  awk -v a="$t0" -v b="$t1" -v i="$inner" 'BEGIN { printf "%.3f %.3f\n", b - a, i }'
}
medians() { # "wall inner" lines -> "median_wall median_inner"
  local lines
  lines=$(cat)
  echo "$(awk '{ print $1 }' <<<"$lines" | median) $(awk '{ print $2 }' <<<"$lines" | median)"
}

read -r pandas pandas_in < <(for ((i = 0; i < RUNS; i++)); do
  wall $PY "$SRC/benchmarks/etl_pandas.py" "$TMP/pd.h5" "$TMP"/raw/*.csv; done | medians)

declare -A t tin
for np in 1 2 4; do
  read -r t[$np] tin[$np] < <(for ((i = 0; i < RUNS; i++)); do
    wall "${MPIRUN[@]}" -np $np "$BUILD/bin/hpcml-etl" -c "$SRC/configs/demo.cfg" \
      -s "etl.input=$TMP/raw/*.csv" -s "etl.output=$TMP/out/dataset.h5"
  done | medians)
done

# This machine: disk read with O_DIRECT (bypasses the page cache), memory copy.
disk=$(dd if="$TMP/raw/part-00000.csv" of=/dev/null bs=4M iflag=direct 2>&1 |
  awk '/copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+$/) v = $i; u = $NF; print v, u }' || true)
membw=$($PY -c "
import numpy as np, time
a = np.ones(1 << 27); b = np.empty_like(a); best = 1e9
for _ in range(5):
    t = time.perf_counter(); np.copyto(b, a); best = min(best, time.perf_counter() - t)
print(f'{2 * a.nbytes / best / 1e9:.1f} GB/s')")

rate() { awk -v m="$mb" -v s="$1" 'BEGIN { printf "%.0f", m / s }'; }
ratio() { awk -v p="$1" -v s="$2" 'BEGIN { printf "%.1fx", p / s }'; }
printf '\n%-34s %9s %9s %9s | %9s %9s %9s\n' "" "end2end s" "MB/s" "vs pandas" "work s" "MB/s" "vs pandas"
printf '%-34s %9s %9s %9s | %9s %9s %9s\n' "pandas + h5py (1 process)" "$pandas" "$(rate "$pandas")" \
  "1.0x" "$pandas_in" "$(rate "$pandas_in")" "1.0x"
for np in 1 2 4; do
  label="hpcml-etl -np $np"
  ((np > cores)) && label+=" (oversubscribed)"
  printf '%-34s %9s %9s %9s | %9s %9s %9s\n' "$label" "${t[$np]}" "$(rate "${t[$np]}")" \
    "$(ratio "$pandas" "${t[$np]}")" "${tin[$np]}" "$(rate "${tin[$np]}")" "$(ratio "$pandas_in" "${tin[$np]}")"
done
echo
echo "end2end: the whole command (python imports; mpirun, MPI_Init/Finalize, profile.json); work: as reported"
echo "machine: disk read (O_DIRECT, one shard) ${disk:-n/a}, memory copy $membw"
echo "ratio on 2 ranks: $(ratio "$pandas" "${t[2]}") end to end, $(ratio "$pandas_in" "${tin[2]}") work alone (goal: 10x)"
