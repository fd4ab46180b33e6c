#!/usr/bin/env bash
# Preemption signals for the whole run of every program (core/preempt.h; reliability
# T1, S1, P5's core part) and an input cut while the ETL reads it (E1). The moments are
# chosen, not guessed: HPCML_PAUSE=point[@rank] holds a rank at a named point until the
# test's signal reaches it (or HPCML_PAUSE_RELEASE exists), so every case is the same on
# a loaded machine.
#   (1) SIGTERM to both ranks of hpcml-train while the dataset loads: exit 75, "before
#       training started", no checkpoint, no temp; the same command then trains (T1);
#   (T2) a resume with a changed setting other than train.epochs is a warning (was INFO);
#   (2) SIGTERM to one rank of two during the load (the other never signalled): exit 75
#       on all, no hang;
#   (3) SIGTERM before the final evaluation: 75, no evaluation.json / model.h5, the
#       re-run resumes the final checkpoint and writes them; SIGTERM while rank 0 writes
#       model.h5: 75, model.h5 complete, no temp (T1);
#   (4) SIGTERM to hpcml-predict (2 ranks) at the start and after its outputs, and to
#       hpcml-export: exit 75, no temp, one "preempted by SIGTERM" line (P5's core part);
#   (5) a 2-group hpcml-sweep --pool: SIGTERM to both ranks while group 0 is between
#       trials and group 1 is in its trial's first step: exit 75, the running trial
#       checkpointed and recorded failed "preempted", nothing claimed after the signal;
#       the pool run again resumes that trial and finishes the sweep (S1);
#   (6) the input truncated while both ETL ranks are about to read it: exit 3 "changed
#       size while being read (planned N bytes, now M)", not a bad-data error (E1).
# Ranks: 1 and 2 (mpirun --oversubscribe).
# labels: mpi fault train sweep predict etl
# timeout: 600
# ranks: 1, 2
# options: configs written by the script; -s train.output_dir, train.epochs, sweep.output_dir,
#   predict.output, export.output, etl.input, etl.output
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
cd "$TMP"
B=$BIN
cat >p.cfg <<'EOF'
gen = { output_dir = "raw"; rows = 6000; seed = 5; shards = 2; positive_fraction = 0.2;
        categorical_columns = 1; missing_fraction = 0.0; malformed_fraction = 0.0; };
etl = { input = [ "raw/*.csv" ]; output = "ds.h5"; label = "Class";
  positive_labels = [ "1" ]; negative_labels = [ "0" ];
  columns = ( { name = "Time"; type = "float"; },
              { name = "Amount"; type = "float"; min = 0.0; impute = "median"; },
              { name = "Cat1"; type = "category"; required = false; },
              { name = "Class"; type = "label"; nullable = false; } ); };
train = { dataset = "ds.h5"; output_dir = "train"; hidden = [ 8 ]; epochs = 2;
          batch_size = 200; blas_threads = 1; };
predict = { model = "base/model.h5"; input = [ "raw/*.csv" ]; output = "pred/p.csv"; };
export = { model = "base/model.h5"; output = "onnx/model.onnx"; };
sweep = { trials = 4; seed = 1; max_t = 2; grace_period = 1; reduction_factor = 3.0;
  metric = "val_auc"; mode = "max"; output_dir = "sw"; scheduler = "none"; ranks_per_trial = 1;
  space = ( { key = "train.lr"; dist = "loguniform"; low = 1e-3; high = 1e-2; } ); };
monitoring = { profile = false; trace = false; };
EOF
q=(-q -c p.cfg)
expect_exit 0 "${MPIRUN[@]}" -np 1 "$B/hpcml-gen" "${q[@]}"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-etl" "${q[@]}"
expect_exit 0 "${MPIRUN[@]}" -np 1 "$B/hpcml-train" "${q[@]}" -s train.output_dir=base

# start_paused NAME N CMD...: CMD in the background (output in NAME.log, its pid in $pid);
# returns once N ranks print "hpcml: paused at"
start_paused() {
  local name=$1 n=$2 i got
  shift 2
  "$@" >"$name.log" 2>&1 &
  pid=$!
  for ((i = 0; i < 1200; i++)); do
    got=$(grep -c "hpcml: paused at" "$name.log" || true)
    ((got >= n)) && return 0
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  cat "$name.log"
  fail "$name: $n rank(s) did not reach the pause point"
}
ranks() { pgrep -P $pid | tr '\n' ' '; }    # the ranks of the mpirun in $pid
paused_pids() { sed -n 's/^hpcml: paused at .*(pid \([0-9]*\))$/\1/p' "$1.log" | tr '\n' ' '; }
finish() { # finish NAME WANT: wait for the job, require its exit code
  rc=0
  wait $pid || rc=$?
  ((rc == $2)) || { cat "$1.log"; fail "$1: exit $rc, expected $2"; }
}
no_temp() { # no_temp DIR...: no *.tmp.* file left
  local left
  left=$(find "$@" -name '*.tmp.*' 2>/dev/null || true)
  [[ -z $left ]] || fail "temps left: $left"
}

# --- (1) T1: SIGTERM to both ranks during the load ------------------------------------
HPCML_PAUSE=train.load start_paused load 2 "${MPIRUN[@]}" -np 2 "$B/hpcml-train" "${q[@]}" \
  -s train.output_dir=t1
kill -TERM $(ranks)
finish load 75
grep -q "preempted by a signal before training started (SIGTERM, at epoch 0" load.log || {
  cat load.log
  fail "(1) no preemption message"
}
ls t1/checkpoints/*.h5 >/dev/null 2>&1 && fail "(1) a checkpoint was written"
no_temp t1
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-train" "${q[@]}" -s train.output_dir=t1
[[ -s t1/model.h5 ]] || fail "(1) the re-run wrote no model.h5"
pass "(1) SIGTERM during hpcml-train's load (2 ranks): exit 75, no checkpoint, no temp; the re-run trains"

# --- T2: a changed setting on resume is a warning; more epochs alone is not ------------------
expect_exit 0 "${MPIRUN[@]}" -np 1 "$B/hpcml-train" -c p.cfg -s train.output_dir=t1 \
  -s train.epochs=3
grep -q "WARN.*configuration changed" "$TMP/err" && { cat "$TMP/err"; fail "(T2) warned about epochs"; }
expect_exit 0 "${MPIRUN[@]}" -np 1 "$B/hpcml-train" -c p.cfg -s train.output_dir=t1 \
  -s train.epochs=4 -s train.lr=0.5
grep -q "WARN.*the configuration changed since the checkpoint" "$TMP/err" ||
  { cat "$TMP/err"; fail "(T2) no warning for a changed train.lr"; }
pass "(T2) resuming with another train.lr warns; with more train.epochs alone it does not"

# --- (2) one rank of two signalled --------------------------------------------------------
HPCML_PAUSE=train.load@1 start_paused one 1 "${MPIRUN[@]}" -np 2 "$B/hpcml-train" "${q[@]}" \
  -s train.output_dir=t2
kill -TERM $(paused_pids one)
finish one 75
[[ $(grep -c "error: preempted" one.log) -eq 1 ]] || { cat one.log; fail "(2) not one message"; }
no_temp t2
pass "(2) SIGTERM to rank 1 of 2 only: both ranks end with 75, one message"

# --- (3) T1: before the evaluation; while model.h5 is written --------------------------------
HPCML_PAUSE=train.evaluate start_paused eval 2 "${MPIRUN[@]}" -np 2 "$B/hpcml-train" "${q[@]}" \
  -s train.output_dir=t3
kill -TERM $(ranks)
finish eval 75
grep -q "after training ended at epoch 2 (the final checkpoint is written)" eval.log ||
  { cat eval.log; fail "(3) no message for a signal after training"; }
[[ -e t3/evaluation.json || -e t3/model.h5 ]] && fail "(3) outputs written after the signal"
no_temp t3
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-train" -c p.cfg -s train.output_dir=t3
grep -q "resuming from .*t3/checkpoints/step-" "$TMP/err" || { cat "$TMP/err"; fail "(3) the re-run did not resume"; }
[[ -s t3/evaluation.json && -s t3/model.h5 ]] || fail "(3) the re-run wrote no evaluation/model"

HPCML_PAUSE=train.package start_paused pkg 1 "${MPIRUN[@]}" -np 2 "$B/hpcml-train" "${q[@]}" \
  -s train.output_dir=t4
kill -TERM $(ranks)
finish pkg 75
grep -q "preempted by SIGTERM after the run's last safe point: its outputs are complete" pkg.log ||
  { cat pkg.log; fail "(3) no message for a signal during the model write"; }
no_temp t4
expect_exit 0 "${MPIRUN[@]}" -np 1 "$B/hpcml-predict" "${q[@]}" -s predict.model=t4/model.h5 \
  -s predict.output=p4/p.csv
pass "(3) SIGTERM before the evaluation (75, re-run resumes and evaluates) and while model.h5 is written (75, model.h5 complete, no temp)"

# --- (4) P5 (core part): hpcml-predict, hpcml-export -------------------------------------
for point in app.run app.end; do
  rm -rf pred
  HPCML_PAUSE=$point start_paused "pr-$point" 2 "${MPIRUN[@]}" -np 2 "$B/hpcml-predict" "${q[@]}"
  kill -TERM $(ranks)
  finish "pr-$point" 75
  [[ $(grep -c "hpcml-predict: preempted by SIGTERM" "pr-$point.log") -eq 1 ]] ||
    { cat "pr-$point.log"; fail "(4) predict at $point: not one preemption line"; }
  no_temp pred .
done
[[ -e pred/p.csv ]] || fail "(4) predict: p.csv missing when the signal came after the run"
HPCML_PAUSE=app.run start_paused ex 1 "${MPIRUN[@]}" -np 1 "$B/hpcml-export" "${q[@]}"
kill -TERM $(ranks)
finish ex 75
[[ -e onnx/model.onnx ]] && fail "(4) export wrote model.onnx after the signal"
no_temp .
pass "(4) SIGTERM to hpcml-predict (start, end; 2 ranks) and hpcml-export: exit 75, no temp"

# --- (5) S1: a pool between trials and in a trial ------------------------------------------
J=sw/journal.jsonl
HPCML_PAUSE=sweep.between@0,train.step@1 start_paused pool 2 \
  "${MPIRUN[@]}" -np 2 "$B/hpcml-sweep" "${q[@]}" --pool
grep -q "paused at sweep.between on rank 0" pool.log || { cat pool.log; fail "(5) rank 0 pause"; }
grep -q "paused at train.step on rank 1" pool.log || { cat pool.log; fail "(5) rank 1 pause"; }
kill -TERM $(ranks)
finish pool 75
grep -q "pool: preempted by a signal (SIGTERM) between trials" pool.log ||
  { cat pool.log; fail "(5) no pool message"; }
ft=$(
  $PY - "$J" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])][1:]
ev = [(r["event"], r.get("trial")) for r in recs if r["event"] != "heartbeat"]
started = sorted(t for e, t in ev if e == "started")
assert started == [0, 1], ev  # nothing claimed after the signal
done = [t for e, t in ev if e == "completed"]
failed = [r for r in recs if r["event"] == "failed"]
assert len(done) == 1 and len(failed) == 1, ev
assert "preempted" in failed[0]["reason"], failed
print(failed[0]["trial"])
EOF
) || fail "(5) journal after the preempted pool"
ls sw/trial-0000$ft/checkpoints/*.h5 >/dev/null 2>&1 || fail "(5) trial $ft has no checkpoint"
no_temp sw
expect_exit 0 "${MPIRUN[@]}" -np 2 "$B/hpcml-sweep" -c p.cfg --pool
grep -q "pool: finished" "$TMP/out" "$TMP/err" || { cat "$TMP/err"; fail "(5) the re-run did not finish"; }
$PY - "$J" "$ft" <<'EOF' || fail "(5) journal after the re-run"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])][1:]
ft = int(sys.argv[2])
done = {r["trial"] for r in recs if r["event"] == "completed"}
assert done == {0, 1, 2, 3}, done
res = [r["iter"] for r in recs if r["event"] == "result" and r["trial"] == ft]
assert res == [1, 2], res  # resumed: each epoch of the preempted trial recorded once
EOF
pass "(5) SIGTERM to a 2-group pool (between trials, in a step): exit 75, trial $ft checkpointed and recorded preempted; the re-run finishes the sweep"

# --- (6) E1: the input truncated while the ETL reads it --------------------------------------
{ cat raw/part-00000.csv; tail -n +2 raw/part-00001.csv; } >cut.csv
size=$(stat -c %s cut.csv)
HPCML_PAUSE=etl.read HPCML_PAUSE_RELEASE=$TMP/release start_paused cut 2 \
  "${MPIRUN[@]}" -np 2 "$B/hpcml-etl" "${q[@]}" -s 'etl.input=["cut.csv"]' -s etl.output=cut.h5
truncate -s $((size * 2 / 5)) cut.csv
touch release
finish cut 3
grep -q "cut.csv changed size while being read (planned $size bytes, now $((size * 2 / 5)))" cut.log ||
  { cat cut.log; fail "(6) not the size message"; }
[[ -e cut.h5 ]] && fail "(6) a dataset was written"
no_temp .
pass "(6) an input cut to 40% while read (2 ranks): exit 3 naming both sizes, no output"
