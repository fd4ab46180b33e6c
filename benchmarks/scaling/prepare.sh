#!/usr/bin/env bash
# prepare.sh — the inputs of the scaling points, made once (and kept) in WORK:
# hpcml-gen CSV shards for every size the points read, and their hpcml-etl datasets.
#
#   benchmarks/scaling/prepare.sh BIN_DIR WORK "RANKS..." [STRONG_ROWS WEAK_ROWS SWEEP_TRIALS]
#
# Sizes (defaults for a 2-core machine, a few seconds per point): the strong set reads
# STRONG_ROWS (400000) rows, the weak set WEAK_ROWS (200000) per rank, the sweep trains
# SWEEP_TRIALS (8) one-epoch trials on a 20000-row dataset. Recorded in WORK/sizes.
set -euo pipefail
bin=$1 work=$2 ranks=$3
strong=${4:-400000} weak=${5:-200000} trials=${6:-8} sweep_rows=20000
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cfg=$(cd "$here/../.." && pwd)/configs/demo.cfg
export OMPI_MCA_btl_vader_single_copy_mechanism=none
mkdir -p "$work"
printf 'STRONG_ROWS=%s\nWEAK_ROWS=%s\nSWEEP_TRIALS=%s\nSWEEP_ROWS=%s\n' "$strong" "$weak" "$trials" \
  "$sweep_rows" >"$work/sizes"
sizes=("$strong" "$sweep_rows")
for r in $ranks; do sizes+=($((weak * r))); done
for rows in $(printf '%s\n' "${sizes[@]}" | sort -un); do
  [[ -s $work/ds-$rows.h5 ]] && continue
  echo "prepare: $rows rows" >&2
  mpirun --allow-run-as-root --oversubscribe -np 2 "$bin/hpcml-gen" -c "$cfg" -q \
    -s "gen.rows=$rows" -s "gen.output_dir=$work/csv-$rows"
  mpirun --allow-run-as-root --oversubscribe -np 2 "$bin/hpcml-etl" -c "$cfg" -q \
    -s "etl.input=[\"$work/csv-$rows/*.csv\"]" -s "etl.output=$work/ds-$rows.h5" \
    -s monitoring.profile=false
done
