#!/usr/bin/env bash
# etl_vs_pandas.sh — hpcml-etl against pandas + h5py doing the same work.
#
#   benchmarks/etl_vs_pandas.sh BUILD_DIR [RUNS] [--rows N] [--np "1 2 4"] [--ob1-only]
#
# Generates the demo set (284,807 rows, 8 shards, 1 categorical column, 1 %
# missing values; configs/demo.cfg) with hpcml-gen, or N rows of it with
# --rows N (gen.rows = N: the large sets where start-up no longer hides the
# work, issue 15), then times, RUNS times
# each (default 5), end to end (the whole command: process and MPI start-up,
# imports included):
#   pandas + h5py (benchmarks/etl_pandas.py: read, validate, stratified split,
#   impute, standardize, one-hot, SHA-256, write), and
#   hpcml-etl on 1, 2 and 4 ranks (4 is oversubscribed when the machine has
#   fewer cores, and marked so; --np chooses the rank counts), with Open MPI's
#   default transport selection (not with --ob1-only)
#   and with OMPI_MCA_pml=ob1 (shared memory only: the usual choice on one
#   node; the default pml, UCX, spends ~0.2 s probing network transports in
#   MPI_Init);
#   the floor: `mpirun -np N hpcml-etl --version` (process start, MPI_Init,
#   MPI_Finalize, no work).
# The previous output is removed before every run, outside the timing, for
# both tools (replacing a 40 MB file costs its block freeing, ~0.08 s here).
# Prints the medians, input MB/s, the ratio to pandas, and next to them this
# machine's measured disk read (O_DIRECT), page-cache read and memory copy
# bandwidth, and for each hpcml-etl row the seconds of its stages (plan,
# extract, validate, split, fit, checksum, write: wall_s, the slowest rank,
# from the <output>.profile.json of the run with the median time, each with the CPU
# seconds of its busiest rank), and the load average before and after. Not a
# test: nothing is asserted.
set -euo pipefail
ROWS=""
NPS="1 2 4"
OB1_ONLY=0
args=()
while (($#)); do
  case $1 in
  --rows) ROWS=$2; shift 2 ;;
  --rows=*) ROWS=${1#--rows=}; shift ;;
  --np) NPS=$2; shift 2 ;;
  --ob1-only) OB1_ONLY=1; shift ;;
  *) args+=("$1"); shift ;;
  esac
done
set -- "${args[@]}"
BUILD=$(cd "$1" && pwd)
RUNS=${2:-5}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/hpcml-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
export OMPI_MCA_btl_vader_single_copy_mechanism=none

genargs=(-s "gen.output_dir=$TMP/raw")
[[ -z $ROWS ]] || genargs+=(-s "gen.rows=$ROWS")
"$BUILD/bin/hpcml-gen" -q -c "$SRC/configs/demo.cfg" "${genargs[@]}"
bytes=$(cat "$TMP"/raw/*.csv | wc -c)
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
cores=$(nproc)
shards=$(ls "$TMP"/raw/*.csv | wc -l)
echo "input: $mb MB in $shards CSV shards, ${ROWS:-284807} rows; $cores cores; median of $RUNS runs"
load0=$(cut -d' ' -f1-3 /proc/loadavg)

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# wall command... -> "wall_seconds inner_seconds": the whole command, and the
# work alone as the program reports it (pandas: after its imports; hpcml-etl:
# from planning to the rename, without MPI start-up and shutdown).
wall() {
  local t0 t1 inner
  rm -rf "$TMP/out" "$TMP/pd.h5"
  sync
  t0=$(date +%s.%N)
  "$@" >"$TMP/cmd.out" 2>&1
  t1=$(date +%s.%N)
  inner=$(grep -o 'in [0-9.]* s (' "$TMP/cmd.out" | awk '{ print $2 }' | tail -1 || true)
  [[ -n $inner ]] || inner=$(tail -1 "$TMP/cmd.out")
  [[ $inner =~ ^[0-9.]+$ ]] || inner=0
  local stages="-"
  [[ -f $TMP/out/dataset.profile.json ]] && stages=$(stage_seconds "$TMP/out/dataset.profile.json")
  awk -v a="$t0" -v b="$t1" -v i="$inner" -v s="$stages" 'BEGIN { printf "%.3f %.3f %s\n", b - a, i, s }'
}
# profile.json -> "plan=0.01/0.01,extract=2.58/2.40,..." (top-level stages: wall_s of the
# slowest rank / CPU seconds, user + system, of the busiest rank; on a loaded machine the
# CPU seconds are the steadier measure of the work)
stage_seconds() {
  $PY - "$1" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
print(",".join(f"{s['name']}={s['wall_s']['max']:.2f}/{s['cpu_user_s']['max'] + s['cpu_sys_s']['max']:.2f}"
               for s in p["stages"] if s["depth"] == 0))
EOF
}
medians() { # "wall inner stages" lines -> "median_wall median_inner stages_of_the_median_run"
  local lines m
  lines=$(cat)
  m=$(awk '{ print $1 }' <<<"$lines" | median)
  echo "$m $(awk '{ print $2 }' <<<"$lines" | median) $(awk -v m="$m" '$1 == m { print $3; exit }' <<<"$lines")"
}
etl() { # np [env...]
  local np=$1
  shift
  env "$@" "${MPIRUN[@]}" -np "$np" "$BUILD/bin/hpcml-etl" -c "$SRC/configs/demo.cfg" \
    -s "etl.input=$TMP/raw/*.csv" -s "etl.output=$TMP/out/dataset.h5"
}
floor() { # np [env...]
  local np=$1
  shift
  env "$@" "${MPIRUN[@]}" -np "$np" "$BUILD/bin/hpcml-etl" --version
}

read -r pandas pandas_in _ < <(for ((i = 0; i < RUNS; i++)); do
  wall $PY "$SRC/benchmarks/etl_pandas.py" "$TMP/pd.h5" "$TMP"/raw/*.csv; done | medians)

envs=("default" "OMPI_MCA_pml=ob1")
((OB1_ONLY == 0)) || envs=("OMPI_MCA_pml=ob1")
read -r -a nps <<<"$NPS"
declare -A t tin fl stg
for e in "${envs[@]}"; do
  envv=()
  [[ $e == default ]] || envv=("$e")
  for np in "${nps[@]}"; do
    read -r t[$e,$np] tin[$e,$np] stg[$e,$np] < <(for ((i = 0; i < RUNS; i++)); do
      wall etl $np "${envv[@]}"; done | medians)
    read -r fl[$e,$np] _ < <(for ((i = 0; i < RUNS; i++)); do
      rm -rf "$TMP/out"; wall floor $np "${envv[@]}"; done | medians)
  done
done

# This machine: disk read with O_DIRECT (bypasses the page cache), the same
# files from the page cache, memory copy.
dd_rate() { awk '/copied/ { print $(NF - 1), $NF }'; }
disk=$(cat "$TMP"/raw/*.csv >/dev/null; dd if="$TMP/raw/part-00000.csv" of=/dev/null bs=4M iflag=direct 2>&1 | dd_rate || true)
cached=$(cat "$TMP"/raw/*.csv | dd of=/dev/null bs=4M 2>&1 | dd_rate || true)
membw=$($PY -c "
import numpy as np, time
a = np.ones(1 << 27); b = np.empty_like(a); best = 1e9
for _ in range(5):
    t = time.perf_counter(); np.copyto(b, a); best = min(best, time.perf_counter() - t)
print(f'{2 * a.nbytes / best / 1e9:.1f} GB/s')")

rate() { awk -v m="$mb" -v s="$1" 'BEGIN { printf "%.0f", (s > 0 ? m / s : 0) }'; }
ratio() { awk -v p="$1" -v s="$2" 'BEGIN { printf "%.1fx", (s > 0 ? p / s : 0) }'; }
row() { printf '%-46s %9s %9s %9s | %9s %9s %9s | %8s | %s\n' "$@"; }
echo
row "" "end2end s" "MB/s" "vs pandas" "work s" "MB/s" "vs pandas" "floor s" "stages: wall s / CPU s (slowest rank)"
row "pandas + h5py (1 process)" "$pandas" "$(rate "$pandas")" "1.0x" "$pandas_in" "$(rate "$pandas_in")" "1.0x" "-" "-"
for e in "${envs[@]}"; do
  for np in "${nps[@]}"; do
    label="hpcml-etl -np $np"
    [[ $e == default ]] || label+=" $e"
    ((np > cores)) && label+=" (oversub.)"
    row "$label" "${t[$e,$np]}" "$(rate "${t[$e,$np]}")" "$(ratio "$pandas" "${t[$e,$np]}")" \
      "${tin[$e,$np]}" "$(rate "${tin[$e,$np]}")" "$(ratio "$pandas_in" "${tin[$e,$np]}")" "${fl[$e,$np]}" "${stg[$e,$np]//,/ }"
  done
done
echo
echo "end2end: the whole command (python imports; mpirun, MPI_Init/Finalize, profile.json);"
echo "work: as the program reports it (pandas: after imports; hpcml-etl: plan to rename);"
echo "floor: mpirun -np N hpcml-etl --version (start-up and shutdown, no work)"
echo "load average (1, 5, 15 min) at the start: $load0, at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($cores cores)"
echo "machine: disk read (O_DIRECT, one shard) ${disk:-n/a}, page-cache read ${cached:-n/a}, memory copy $membw"
for e in "${envs[@]}"; do
  [[ -n ${t[$e,2]:-} ]] || continue
  echo "ratio on 2 ranks ($e): $(ratio "$pandas" "${t[$e,2]}") end to end," \
    "$(ratio "$pandas_in" "${tin[$e,2]}") work alone (goal: 10x end to end)"
done
