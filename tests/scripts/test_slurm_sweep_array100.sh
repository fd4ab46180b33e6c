#!/usr/bin/env bash
# test_slurm_sweep_array100.sh — a 100-trial sweep drains as a Slurm job array on the local
# Slurm: `sbatch --array=0-99%16 slurm/sweep.sbatch`, each task the real
# `hpcml-sweep --trial N` on a tiny dataset and model (about a second of work), all tasks
# sharing the journal. Checks: every task COMPLETED, never more than 16 running at once,
# one stage marker and one `started` record per trial, the journal replays to 100 ended
# trials with some stopped early by ASHA, best.cfg written. Prints the drain time (submit
# to the last task's end), which docs/slurm.md and docs/scaling.md quote.
# labels: slurm sweep
# timeout: 600
# ranks: a 100-task job array (ntasks=1 each) on a one-node local Slurm
# options: configs/demo.cfg; -s monitoring.profile, resources.log_dir, resources.sweep_ntasks,
#   sweep.grace_period, sweep.max_parallel, sweep.max_t, sweep.metric, sweep.output_dir,
#   sweep.reduction_factor, sweep.trials, train.dataset, train.evaluate
# skips (exit 77): not root (slurm_lib.sh slurm_up: the local Slurm runs its daemons as root)
# Usage: bash test_slurm_sweep_array100.sh BUILD_DIR SRC_DIR
source "$(dirname "$0")/lib.sh" "$@"
source "$(dirname "$0")/slurm_lib.sh"
[[ -x $BIN/hpcml-sweep ]] || fail "$BIN/hpcml-sweep not built"
t_start=$SECONDS
# 16 advertised CPUs on 2 real cores: array tasks start in waves of about one per second,
# so more slots is what drains 100 short tasks quickly (docs/slurm.md, Throughput).
slurm_up 7200 16
export HPCML_PREFIX=$BUILD
CFG=$SRC/configs/demo.cfg
cd "$TMP" || fail "cd $TMP"

$PY "$SRC/tests/scripts/make_train_dataset.py" ds.h5 --train 1000 --val 300 --test 100 \
  --features 8 --seed 3
S=(-s train.dataset=ds.h5 -s sweep.trials=100 -s sweep.max_parallel=16 -s sweep.max_t=3
  -s sweep.grace_period=1 -s sweep.reduction_factor=3.0 -s sweep.metric=val_auc
  -s sweep.output_dir=sw -s monitoring.profile=false -s train.evaluate=false
  -s resources.log_dir=logs -s resources.sweep_ntasks=1)

mkdir -p logs # Slurm does not create the directory of -o
t0=$(date +%s.%N)
arr=$(sbatch --parsable --array=0-99%16 -o "logs/sweep-%A_%a.out" "$SRC/slurm/sweep.sbatch" "$CFG" "${S[@]}") ||
  fail "sbatch refused the array"
max_running=0
for _ in $(seq 2400); do # up to 8 min
  # Captured first (no SIGPIPE); -r lists every task of the array.
  states=$(squeue -r -h -j "$arr" -o %T 2>/dev/null) || true
  running=$(grep -c '^RUNNING$' <<<"$states" || true)
  ((running > max_running)) && max_running=$running
  grep -qE '^(PENDING|RUNNING|COMPLETING|CONFIGURING|REQUEUED)$' <<<"$states" || break
  sleep 0.2
done
t1=$(date +%s.%N)
drain=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

all=$(squeue -r -t all -h -j "$arr" -o "%i %T")
ndone=$(grep -c ' COMPLETED$' <<<"$all" || true)
[[ $ndone -eq 100 ]] || { grep -v ' COMPLETED$' <<<"$all" | head >&2; fail "$ndone of 100 tasks COMPLETED"; }
((max_running <= 16)) || fail "$max_running tasks ran at once, more than %16"
((max_running >= 2)) || fail "the tasks never ran side by side (at most $max_running)"
[[ $(ls logs/sweep.done.d | wc -l) -eq 100 ]] || fail "expected 100 trial markers"
[[ $(ls logs/sweep-"$arr"_*.out | wc -l) -eq 100 ]] || fail "expected 100 task logs"

"$BIN/hpcml-sweep" -c "$CFG" "${S[@]}" --status >status.txt || fail "hpcml-sweep --status failed"
grep -q "Number of trials: 100/100" status.txt || { head -8 status.txt; fail "not all 100 trials ended"; }
stopped=$(sed -n 's/.*num_stopped=\([0-9]*\).*/\1/p' status.txt)
[[ -n $stopped && $stopped -ge 1 ]] || { head -8 status.txt; fail "ASHA stopped no trial (num_stopped=$stopped)"; }
$PY - <<'PY' || fail "journal check failed"
import json
started = {}
for line in open("sw/journal.jsonl"):
    r = json.loads(line)
    if r["event"] == "started":
        started[r["trial"]] = started.get(r["trial"], 0) + 1
assert sorted(started) == list(range(100)), sorted(started)
assert all(n == 1 for n in started.values()), {t: n for t, n in started.items() if n != 1}
PY
[[ -s sw/best.cfg ]] || fail "no best.cfg"
rate=$(awk -v d="$drain" 'BEGIN { printf "%.2f", 100 / d }')
train_s=$($PY -c 'import csv; r = list(csv.DictReader(open("sw/results.csv"))); print("%.2f" % (sum(float(x["seconds"]) for x in r) / len(r)))')
pass "100-task sweep array drained in $drain s ($rate tasks/s, at most $max_running running at once, $stopped stopped early by ASHA, mean training time per trial $train_s s)"
pass "all in $((SECONDS - t_start)) s"
