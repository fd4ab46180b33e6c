#!/usr/bin/env bash
# point.sh — one point of the scaling benchmark: run PROGRAM on RANKS ranks REPS times on
# the inputs that prepare.sh left in WORK, print one CSV row (no header):
#
#   program,set,ranks,oversubscribed,work,unit,reps,wall_s,run_s
#
#   benchmarks/scaling/point.sh BIN_DIR WORK PROGRAM SET RANKS [REPS]
#     PROGRAM  etl | train | sweep
#     SET      strong (the same work for every rank count) | weak (work grows with ranks)
#
# wall_s is the median wall time of the launcher command (MPI start-up included); run_s
# the median of the program's own run time (profile.json run_s, slowest rank), which
# leaves MPI start-up out; the plots use run_s. oversubscribed is 1 when RANKS exceeds
# the cores of this node (nproc): such points time-share cores and are marked.
# Launcher: $HPCML_SCALING_LAUNCH followed by RANKS (default
# "mpirun --allow-run-as-root --oversubscribe --bind-to none -np"; inside a Slurm job
# Open MPI's mpirun takes the allocation).
# Workloads (the sizes are in prepare.sh, recorded in WORK/sizes):
#   etl   strong: STRONG_ROWS CSV rows; weak: WEAK_ROWS per rank
#   train strong: 1 epoch on the strong dataset, global batch 512;
#         weak: 1 epoch on WEAK_ROWS per rank, 256 rows per rank per step
#   sweep strong: SWEEP_TRIALS trials of 1 epoch in --pool mode, 1 rank per trial,
#         scheduler none (every trial does the same work); weak: SWEEP_TRIALS/2 per rank
set -euo pipefail
bin=$1 work=$2 prog=$3 set=$4 ranks=$5 reps=${6:-3}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cfg=$root/configs/demo.cfg
# shellcheck source=/dev/null
source "$work/sizes" # STRONG_ROWS WEAK_ROWS SWEEP_TRIALS SWEEP_ROWS
read -r -a launch <<<"${HPCML_SCALING_LAUNCH:-mpirun --allow-run-as-root --oversubscribe --bind-to none -np}"
export OMPI_MCA_btl_vader_single_copy_mechanism=none
over=0
((ranks > $(nproc))) && over=1
# Ranks that share a core must yield while they wait in MPI. Open MPI does so by itself
# when it sees more ranks than slots, but not inside a Slurm allocation whose node
# advertises more CPUs than it has (the local Slurm's HPCML_SLURM_CPUS).
# HPCML_SCALING_YIELD=1 makes every point yield: on a machine shared with other work,
# busy-polling ranks lose their core to it in every collective (docs/scaling.md).
if ((over)) || [[ ${HPCML_SCALING_YIELD:-0} == 1 ]]; then
  export OMPI_MCA_mpi_yield_when_idle=1
fi

case $set in
  strong) rows=$STRONG_ROWS trials=$SWEEP_TRIALS ;;
  weak) rows=$((WEAK_ROWS * ranks)) trials=$((SWEEP_TRIALS / 2 * ranks)) ;;
  *) echo "point.sh: SET must be strong or weak, got '$set'" >&2; exit 1 ;;
esac
out=$work/points/$prog-$set-$ranks
common=(-q -s monitoring.profile=true)
case $prog in
  etl)
    args=("$bin/hpcml-etl" -c "$cfg" "${common[@]}" -s "etl.input=[\"$work/csv-$rows/*.csv\"]"
      -s "etl.output=$out/dataset.h5")
    prof=$out/dataset.profile.json work_n=$rows unit=rows
    ;;
  train)
    batch=512
    [[ $set == weak ]] && batch=$((256 * ranks))
    args=("$bin/hpcml-train" -c "$cfg" "${common[@]}" -s "train.dataset=$work/ds-$rows.h5"
      -s train.epochs=1 -s train.evaluate=false -s train.checkpoint_every=0
      -s train.early_stopping_patience=0 -s "train.batch_size=$batch" -s train.resume=never
      -s "train.output_dir=$out")
    prof=$out/profile.json work_n=$rows unit=rows
    ;;
  sweep)
    args=("$bin/hpcml-sweep" -c "$cfg" "${common[@]}" -s "train.dataset=$work/ds-$SWEEP_ROWS.h5"
      -s sweep.scheduler=none -s "sweep.trials=$trials" -s sweep.max_t=1 -s sweep.ranks_per_trial=1
      -s "sweep.max_parallel=$ranks" -s train.evaluate=false -s "sweep.output_dir=$out" --pool)
    prof="" work_n=$trials unit=trials
    ;;
  *) echo "point.sh: PROGRAM must be etl, train or sweep, got '$prog'" >&2; exit 1 ;;
esac

walls=() runs=()
for _ in $(seq "$reps"); do
  rm -rf "$out" && mkdir -p "$out"
  t0=$(date +%s.%N)
  "${launch[@]}" "$ranks" "${args[@]}" >"$out.log" 2>&1 ||
    { tail -20 "$out.log" >&2; echo "point.sh: $prog $set $ranks failed" >&2; exit 1; }
  t1=$(date +%s.%N)
  w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
  walls+=("$w")
  if [[ -n $prof && -s $prof ]]; then
    runs+=("$(sed -n 's/.*"run_s": *{[^}]*"max": *\([0-9.eE+-]*\).*/\1/p' <(tr -d '\n ' <"$prof"))")
  else
    runs+=("$w")
  fi
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { printf "%.4f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "$prog,$set,$ranks,$over,$work_n,$unit,$reps,$(median "${walls[@]}"),$(median "${runs[@]}")"
