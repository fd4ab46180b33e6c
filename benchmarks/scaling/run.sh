#!/usr/bin/env bash
# run.sh — strong and weak scaling of hpcml-etl, hpcml-train and hpcml-sweep:
# prepare the inputs, time every point, write OUT/scaling.csv and OUT/scaling.svg.
#
#   benchmarks/scaling/run.sh BUILD_DIR OUT [--slurm] [--reps N] [--ranks "1 2 4"]
#                             [--sizes "STRONG_ROWS WEAK_ROWS SWEEP_TRIALS"]
#
# Without --slurm the points run one after another under mpirun on this machine. With
# --slurm they are a job array of slurm/scaling.sbatch (one point at a time, %1),
# submitted with sbatch --wait to the cluster that $SLURM_CONF names (the local one:
# HPCML_SLURM_CPUS=4 slurm/local/start.sh, so that 4-rank points fit the allocation).
# Points with more ranks than cores are marked oversubscribed. Inputs are kept in
# OUT/work and reused. See docs/scaling.md.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
shift 2
slurm=0 reps=3 ranks="1 2 4" sizes=""
while (($#)); do
  case $1 in
    --slurm) slurm=1; shift ;;
    --reps) reps=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    *) echo "usage: run.sh BUILD_DIR OUT [--slurm] [--reps N] [--ranks \"1 2 4\"] [--sizes \"S W T\"]" >&2; exit 1 ;;
  esac
done
PY=${PYTHON:-/usr/bin/python3} # Debian's python3-matplotlib
work=$out/work
# shellcheck disable=SC2086 # sizes is a list
"$here/prepare.sh" "$build/bin" "$work" "$ranks" $sizes
echo "program,set,ranks,oversubscribed,work,unit,reps,wall_s,run_s" >"$work/points.csv"
read -r -a rl <<<"$ranks"
n=$((6 * ${#rl[@]}))
max=$(printf '%s\n' "${rl[@]}" | sort -n | tail -1)
if ((slurm)); then
  [[ -n ${SLURM_CONF:-} ]] || echo "run.sh: SLURM_CONF not set; using the default cluster" >&2
  mkdir -p "$out/logs"
  HPCML_PREFIX=$build HPCML_SLURM_SCRIPTS=$root/slurm sbatch --wait --parsable \
    --array="0-$((n - 1))%1" --ntasks="$max" -o "$out/logs/%x-%A_%a.out" \
    "$root/slurm/scaling.sbatch" "$work" "$reps" "${rl[@]}"
else
  for prog in etl train sweep; do
    for set in strong weak; do
      for r in "${rl[@]}"; do
        echo "point: $prog $set $r ranks" >&2
        "$here/point.sh" "$build/bin" "$work" "$prog" "$set" "$r" "$reps" >>"$work/points.csv"
      done
    done
  done
fi
[[ $(($(wc -l <"$work/points.csv") - 1)) -eq $n ]] ||
  { cat "$work/points.csv" >&2; echo "run.sh: expected $n points" >&2; exit 1; }
"$PY" "$here/analyze.py" "$work/points.csv" "$out/scaling.csv" "$out/scaling.svg" \
  --title "$(nproc) cores, $(uname -n), $(date -u +%F)"
cat "$out/scaling.csv"
