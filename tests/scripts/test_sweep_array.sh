#!/usr/bin/env bash
# test_sweep_array.sh — a 20-trial ASHA sweep run as 20 separate processes,
# two at a time, as the tasks of `sbatch --array=0-19%2` would run, with the
# synthetic runner (tests/mpi/mpi_sweep_synthetic.c) in place of the trainer.
# Some trials run on 2 ranks, one takes its number from SLURM_ARRAY_TASK_ID,
# and one is killed right after its first epoch was recorded (before its
# checkpoint) and then re-run.
# Checks: every trial ended; every stop/continue decision in the journal
# equals Ray Tune's rule replayed over the journal's order (an independent
# Python/numpy re-implementation of _Bracket); the re-run recorded nothing
# twice; results.csv, best.cfg (loads as is) and curves.svg are right; a
# finished trial is not run again; --status prints the table; a trial whose
# process died is marked failed after the heartbeat timeout; a process killed
# after the checkpoint of its stop, before the end record: the re-run records
# the end and trains nothing.
# labels: mpi sweep
# timeout: 300
# ranks: 1, 2 (array tasks)
# options: configs written by the script; -s sweep.heartbeat_timeout_s, sweep.mode,
#   sweep.output_dir
# skips (exit 77): never
# Usage: bash test_sweep_array.sh BUILD_DIR SRC_DIR
source "$(dirname "$0")/lib.sh" "$@"

SYN=$TBIN/mpi_sweep_synthetic
OUT=$TMP/sweep
export HPCML_SYNTH_EPOCH_S=0.02
cat >"$TMP/sweep.cfg" <<EOF
train = { seed = 5; };
sweep = {
  trials = 20; max_t = 10; grace_period = 1; reduction_factor = 3.0; seed = 11;
  metric = "val_auc"; mode = "max"; output_dir = "$OUT";
  heartbeat_timeout_s = 600.0; lock_stale_s = 10.0;
  search = "random"; # values a function of (seed, i); TPE arrays: test_sweep_tpe_array.sh
  space = (
    { key = "train.lr"; dist = "loguniform"; low = 1e-4; high = 1.0; },
    { key = "train.dropout"; dist = "uniform"; low = 0.0; high = 0.5; },
    { key = "train.hidden"; dist = "choice"; values = ( [64], [128, 64], [256, 128, 64] ); }
  );
};
EOF

# One array task. Trial 2 is killed once after epoch 1's decision (before
# its checkpoint) and re-run; trial 19 finds its number in SLURM_ARRAY_TASK_ID.
cat >"$TMP/task.sh" <<EOF
set -u
n=\$1
np=1; (( n % 7 == 0 )) && np=2
run() { ${MPIRUN[*]} -np \$np "$SYN" -q -c "$TMP/sweep.cfg" "\$@"; }
if (( n == 2 )); then
  HPCML_SYNTH_DIE_AT=2:1 run --trial 2 >"$TMP/die2.log" 2>&1 && { echo "trial 2 did not die"; exit 1; }
fi
if (( n == 19 )); then SLURM_ARRAY_TASK_ID=19 run; else run --trial \$n; fi
EOF
t0=$SECONDS
seq 0 19 | xargs -P 2 -n 1 bash "$TMP/task.sh" || fail "an array task failed"
pass "20 trials as 20 processes, 2 at a time, in $((SECONDS - t0)) s"

J=$OUT/journal.jsonl
"$PY" "$SRC/tests/scripts/sweep_ray_replay.py" "$J" >"$TMP/replay.json" ||
  { cat "$TMP/replay.json"; fail "a decision differs from Ray's rule replayed over the journal"; }
"$PY" - "$TMP/replay.json" "$OUT" <<'EOF' || fail "sweep outputs"
import csv, json, sys, xml.etree.ElementTree as ET
r = json.load(open(sys.argv[1]))
out = sys.argv[2]
print("replay:", {k: r[k] for k in ("records", "corrupt", "results", "stopped", "completed", "n_mismatches")})
assert r["stopped"] + r["completed"] == 20, r["status"]
assert r["stopped"] >= 5 and r["completed"] >= 2, "ASHA should stop most and complete some"
assert r["attempts"]["2"] == 2 and all(v == 1 for k, v in r["attempts"].items() if k != "2"), r["attempts"]
assert r["duplicates"] == 0 and not r["holes"] and r["corrupt"] == 0

# the journal's own view of trial 2: epochs 1.. once each, over 2 attempts
recs = [json.loads(l) for l in open(out + "/journal.jsonl")]
it2 = [x["iter"] for x in recs if x["event"] == "result" and x["trial"] == 2]
assert it2 == list(range(1, len(it2) + 1)), it2

rows = list(csv.DictReader(open(out + "/results.csv")))
assert len(rows) == 20 and [int(x["trial"]) for x in rows] == list(range(20))
for x in rows:
    assert x["status"] == r["status"][x["trial"]], (x, r["status"][x["trial"]])
    assert x["train.lr"] and x["train.hidden"].startswith("[")
    assert int(x["iter"]) == (10 if x["status"] == "COMPLETED" else int(x["iter"]))
assert rows[2]["attempts"] == "2"
last = {x["trial"]: float(x["last_val_auc"]) for x in rows if x["last_val_auc"] not in ("", "nan")}
best = max(last, key=lambda t: last[t])
open(out + "/expected_best", "w").write(f"{best} {rows[int(best)]['train.lr']}\n")

svg = ET.parse(out + "/curves.svg").getroot()
ns = "{http://www.w3.org/2000/svg}"
groups = [g for g in svg.iter(ns + "g") if g.get("class") == "trial"]
rungs = [l for l in svg.iter(ns + "line") if l.get("class") == "rung"]
assert len(groups) == 20, len(groups)
assert len(rungs) == 3, len(rungs)  # milestones 1, 3, 9
print("results.csv, curves.svg ok; best trial", best)
EOF
pass "20/20 trials ended; every decision equals Ray's rule over the journal order; re-run trial 2 recorded nothing twice"

# best.cfg: a complete config that loads as it is, with the best trial's values
read -r best best_lr <"$OUT/expected_best"
"$SYN" -q -c "$OUT/best.cfg" --print-config >"$TMP/best.txt" || fail "best.cfg does not load"
grep -q "epochs = 10;" "$TMP/best.txt" || fail "best.cfg lacks train.epochs = sweep.max_t"
"$PY" - "$TMP/best.txt" "$best_lr" <<'EOF' || fail "best.cfg has another lr than the best trial"
import re, sys
text = open(sys.argv[1]).read()
lr = float(re.search(r"\blr = ([^;]+);", text).group(1))
assert lr == float(sys.argv[2]), (lr, sys.argv[2])
EOF
pass "best.cfg (trial $best) loads as is, with train.epochs = 10 and the trial's train.lr"

# a finished trial is not run again; --status prints every trial
size=$(stat -c %s "$OUT/journal.jsonl")
"${MPIRUN[@]}" -np 1 "$SYN" -q -c "$TMP/sweep.cfg" --trial 0 || fail "re-run of trial 0"
[[ $(stat -c %s "$OUT/journal.jsonl") -eq $size ]] || fail "re-running a finished trial appended records"
"$SYN" -c "$TMP/sweep.cfg" --status >"$TMP/status.txt" || fail "--status"
[[ $(grep -c '^| trial_000' "$TMP/status.txt") -eq 20 ]] || { cat "$TMP/status.txt"; fail "status table"; }
grep -q "Number of trials: 20/20" "$TMP/status.txt" || fail "status header"
grep -q "Using AsyncHyperBand" "$TMP/status.txt" || fail "status header"
pass "finished trials are not re-run; --status prints the table"

# a trial whose process died is marked failed (by its pid on this host at once, or after
# the heartbeat timeout)
OUT2=$TMP/sweep2
hb=(-s sweep.output_dir="$OUT2" -s sweep.heartbeat_timeout_s=1.0)
HPCML_SYNTH_DIE_AT=0:1 "${MPIRUN[@]}" -np 1 "$SYN" -q -c "$TMP/sweep.cfg" "${hb[@]}" --trial 0 \
  >/dev/null 2>&1 && fail "trial 0 should have died"
sleep 1.5
"$SYN" -q -c "$TMP/sweep.cfg" "${hb[@]}" --status >/dev/null || fail "--status on sweep2"
grep -q '^0,FAILED,.*\(heartbeat\|is gone\)' "$OUT2/results.csv" || { cat "$OUT2/results.csv"; fail "dead trial not marked failed"; }
"${MPIRUN[@]}" -np 1 "$SYN" -q -c "$TMP/sweep.cfg" "${hb[@]}" --trial 0 || fail "re-run after failure"
grep -Eq '^0,(STOPPED|COMPLETED),.*,2,[0-9.]+,,random$' "$OUT2/results.csv" || { cat "$OUT2/results.csv"; fail "re-run trial"; }
pass "a dead trial is marked failed after sweep.heartbeat_timeout_s and can be re-run"

# a process killed after the checkpoint of the epoch it was told to stop at, before
# the trial's end was recorded: the re-run records the end and trains nothing more
OUT3=$TMP/sweep3
for t in 0 1 2 3 4 5 6 7 8 9; do
  HPCML_SYNTH_DIE_AFTER_STOP=1 "${MPIRUN[@]}" -np 1 "$SYN" -q -c "$TMP/sweep.cfg" \
    -s sweep.output_dir="$OUT3" --trial $t >/dev/null 2>&1 && fail "trial $t should have died"
  "${MPIRUN[@]}" -np 1 "$SYN" -q -c "$TMP/sweep.cfg" -s sweep.output_dir="$OUT3" --trial $t ||
    fail "re-run of trial $t after its stop"
done
"$PY" "$SRC/tests/scripts/sweep_ray_replay.py" "$OUT3/journal.jsonl" >"$TMP/replay3.json" ||
  { cat "$TMP/replay3.json"; fail "sweep3: decisions differ from Ray's rule, or a result twice"; }
"$PY" - "$OUT3/journal.jsonl" <<'EOF' || fail "a re-run trained on after its stop"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
early = 0
for t in range(10):
    res = [r for r in recs if r["event"] == "result" and r["trial"] == t]
    ends = [r["event"] for r in recs if r["event"] in ("stopped", "completed") and r["trial"] == t]
    starts = [r for r in recs if r["event"] == "started" and r["trial"] == t]
    assert res[-1]["decision"] == "stop", (t, res[-1])
    assert all(r["decision"] == "continue" for r in res[:-1]), t
    assert len(starts) == 2 and len(ends) == 1, (t, len(starts), ends)
    assert ends[0] == ("completed" if res[-1]["iter"] >= 10 else "stopped"), (t, ends)
    early += res[-1]["iter"] < 10
assert early >= 3, f"only {early} trials stopped early"
print("trials stopped early and re-run:", early)
EOF
pass "a trial killed after its stop's checkpoint: the re-run records the end, trains nothing"

# the real program (trainer runner): --status works, a trial outside the sweep is refused
expect_exit 0 "$BIN/hpcml-sweep" -c "$TMP/sweep.cfg" --status
expect_exit 1 "$BIN/hpcml-sweep" -q -c "$TMP/sweep.cfg" --trial 20
grep -q "outside the sweep" "$TMP/err" || fail "real program: trial 20 message"
expect_exit 1 "$SYN" -q -c "$TMP/sweep.cfg" --trial 20
grep -q "outside the sweep" "$TMP/err" || fail "trial 20 message"
expect_exit 1 "$SYN" -q -c "$TMP/sweep.cfg" -s sweep.mode=min --trial 1
grep -q "another sweep" "$TMP/err" || fail "journal/config mismatch message"
pass "usage errors: trial out of range, journal of another sweep"
