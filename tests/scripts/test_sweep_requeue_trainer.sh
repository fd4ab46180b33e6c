#!/usr/bin/env bash
# A requeued array task on the real trainer: hpcml-sweep --trial 0 on 2 ranks gets
# the preemption signal (SIGUSR1 to mpirun, as Slurm's --signal sends it) in the
# middle of training; the trainer checkpoints at a step boundary, the task exits 75
# and the journal records the trial failed ("preempted"). The re-run (requeue: the
# number from SLURM_ARRAY_TASK_ID) resumes from that checkpoint, not from scratch:
# every epoch is reported and recorded exactly once over the two attempts, and the
# final weights and every epoch's metric equal a straight hpcml-train run of the
# trial's config (h5diff of /model). A third run finds the trial completed and
# appends nothing.
# labels: mpi sweep train fault
# timeout: 300
# ranks: 2
# options: configs written by the script; -s train.output_dir, train.resume
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
cd "$TMP"
$PY "$SRC/tests/scripts/make_train_dataset.py" ds.h5 --train 40000 --val 2000 --test 500 \
  --features 8 --seed 3
cat >sweep.cfg <<EOF
train = {
  dataset = "$TMP/ds.h5";
  hidden = [ 32, 16 ];
  batch_size = 100;
  blas_threads = 1;
};
monitoring = { profile = false; };
sweep = {
  trials = 2; seed = 2; max_t = 8; grace_period = 1; reduction_factor = 3.0;
  metric = "val_auc"; mode = "max"; output_dir = "$TMP/sweep";
  space = ( { key = "train.lr"; dist = "loguniform"; low = 1e-3; high = 1e-2; } );
};
EOF
J=sweep/journal.jsonl
"${MPIRUN[@]}" -np 2 "$BIN/hpcml-sweep" -c sweep.cfg --trial 0 >run1.log 2>&1 &
pid=$!
for ((i = 0; i < 600; i++)); do # until epoch 2 is recorded (the signal lands in epoch 3)
  [[ $(grep -c '"event": *"result"' "$J" 2>/dev/null) -ge 2 ]] && break
  sleep 0.05
done
kill -USR1 $pid
rc=0
wait $pid || rc=$?
[[ $rc -eq 75 ]] || { tail -20 run1.log; fail "preempted task exited $rc, expected 75"; }
grep -q '"event": *"failed".*preempted' "$J" || fail "no failed/preempted record"
n1=$(grep -c '"event": *"result"' "$J")
((n1 < 8)) || fail "the signal came too late: all 8 epochs ran before it"
pass "preempted in epoch $((n1 + 1)) of 8: checkpoint, exit 75, trial recorded failed (preempted)"

SLURM_ARRAY_TASK_ID=0 "${MPIRUN[@]}" -np 2 "$BIN/hpcml-sweep" -c sweep.cfg -v >run2.log 2>&1 ||
  { tail -20 run2.log; fail "requeued task"; }
grep -q "resuming from .*trial-00000/checkpoints/step-" run2.log || fail "the requeued task did not resume"
"$PY" "$SRC/tests/scripts/sweep_ray_replay.py" "$J" >replay.json ||
  { cat replay.json; fail "a result recorded twice or missing after the requeue"; }
"$PY" - "$J" "$TMP/run2.log" "$n1" <<'EOF' || fail "the requeued task retrained or re-recorded epochs"
import json, re, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
n1 = int(sys.argv[3])
its = [r["iter"] for r in recs if r["event"] == "result" and r["trial"] == 0]
assert its == list(range(1, 9)), its
assert [r["attempt"] for r in recs if r["event"] == "started"] == [1, 2]
assert [r["event"] for r in recs if r.get("trial") == 0 and r["event"] in
        ("failed", "completed", "stopped")] == ["failed", "completed"]
# the second attempt reported only the epochs the first did not finish
again = sorted(int(e) for e in re.findall(r"trial 0 epoch (\d+): val_auc = ",
                                          open(sys.argv[2]).read()))
assert again == list(range(n1 + 1, 9)), (n1, again)
EOF
pass "requeued task resumed from its checkpoint: epochs $((n1 + 1))..8 trained once, 1..8 recorded once"

"${MPIRUN[@]}" -np 2 "$BIN/hpcml-train" -q -c sweep/trial-00000/config.cfg \
  -s train.output_dir="$TMP/straight" -s train.resume=never || fail "straight run"
last=$(ls sweep/trial-00000/checkpoints/step-*.h5 | sort | tail -1)
h5diff "$last" "straight/checkpoints/$(basename "$last")" /model /model ||
  fail "the preempted and requeued trial's weights differ from a straight run"
"$PY" - "$J" <<'EOF' || fail "the requeued trial's metrics differ from a straight run"
import json, sys
got = {r["iter"]: float(f'{r["value"]:.10g}') for r in map(json.loads, open(sys.argv[1]))
       if r["event"] == "result"}
want = {r["epoch"]: r["val_auc"] for r in map(json.loads, open("straight/metrics.jsonl"))}
assert got == want, (got, want)
EOF
pass "preempted + requeued trial = a straight hpcml-train run (weights bit for bit, metrics)"

size=$(stat -c %s "$J")
"${MPIRUN[@]}" -np 2 "$BIN/hpcml-sweep" -q -c sweep.cfg --trial 0 || fail "third run"
[[ $(stat -c %s "$J") -eq $size ]] || fail "re-running a completed trial appended records"
pass "a completed trial is not run again"
