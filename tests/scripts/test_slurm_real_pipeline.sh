#!/usr/bin/env bash
# test_slurm_real_pipeline.sh — the real programs on a real one-node Slurm:
#   - slurm/pipeline.sh --wait on generated data: hpcml-gen -> hpcml-etl -> a 4-trial
#     hpcml-sweep array -> hpcml-train with the sweep's best.cfg -> evaluation.json, the
#     jobs in dependency order, every output checked against the others; the last job
#     (hpcml-report) writes report.html with every section drawn and its SVGs valid XML;
#     a re-run skips all five stages;
#   - a data error (hpcml-etl on a CSV with a ragged row) exits 2 after one run, without
#     retry and without output;
#   - a transient I/O error (hpcml-etl's output directory is blocked by a file, which the
#     test removes during the back-off) is retried after resources.retry_backoff_s and
#     the retry succeeds.
# labels: slurm pipeline
# timeout: 600
# ranks: Slurm jobs (-n 1, -n 2) on a one-node local Slurm
# options: configs/demo.cfg; -s etl.input, etl.output, gen.enabled, gen.positive_fraction,
#   gen.rows, gen.shards, resources.log_dir, resources.max_retries, resources.retry_backoff_s,
#   sweep.max_parallel, sweep.max_t, sweep.reduction_factor, sweep.trials, train.epochs
# skips (exit 77): not root (slurm_lib.sh slurm_up: the local Slurm runs its daemons as root)
# Usage: bash test_slurm_real_pipeline.sh BUILD_DIR SRC_DIR
source "$(dirname "$0")/lib.sh" "$@"
source "$(dirname "$0")/slurm_lib.sh"
for p in gen etl sweep train report; do
  [[ -x $BIN/hpcml-$p ]] || fail "$BIN/hpcml-$p not built"
done
t_start=$SECONDS
slurm_up 7000 8
export HPCML_PREFIX=$BUILD HPCML_POLL_S=0.5
CFG=$SRC/configs/demo.cfg
cd "$TMP" || fail "cd $TMP"

# cfg_of FILE KEY: a value of FILE's effective config (the programs print it).
cfg_of() {
  local all
  all=$("$BIN/hpcml-train" -c "$1" --print-config) || return 1 # captured: no SIGPIPE
  awk -v sec="${2%%.*}" -v key="${2#*.}" '
      $0 == sec " = {" { ins = 1; next }
      ins && /^};/ { exit }
      ins && index($0, "  " key " = ") == 1 { v = substr($0, length(key) + 6); sub(/;$/, "", v); print v; exit }' <<<"$all"
}

# --- the whole pipeline ----------------------------------------------------------------------
t=$SECONDS
P=(-s gen.rows=20000 -s gen.shards=2 -s gen.positive_fraction=0.05 -s sweep.trials=4
  -s sweep.max_parallel=4 -s sweep.max_t=3 -s sweep.reduction_factor=2.0 -s train.epochs=3
  -s resources.retry_backoff_s=1)
rc=0
"$SRC/slurm/pipeline.sh" "$CFG" "${P[@]}" --wait >pipe.out 2>pipe.err || rc=$?
[[ $rc -eq 0 ]] || { cat pipe.err hpcml-out/slurm/* >&2; fail "pipeline.sh --wait exited $rc"; }
[[ $(awk '{print $1}' pipe.out | tr '\n' ' ') == "gen etl sweep train-final report " ]] ||
  fail "pipeline printed: $(cat pipe.out)"
declare -A J
while read -r stage jid; do J[$stage]=$jid; done <pipe.out
secs_pipe=$((SECONDS - t))

# Each job started after the one it depends on ended (Slurm's own record).
epoch_of() { date -d "$(job_field "$1" "$2")" +%s; }
[[ $(epoch_of "${J[etl]}" StartTime) -ge $(epoch_of "${J[gen]}" EndTime) ]] || fail "etl started before gen ended"
for k in 0 1 2 3; do
  [[ $(job_field "${J[sweep]}_$k" JobState) == COMPLETED ]] || fail "sweep task $k: $(job_field "${J[sweep]}_$k" JobState)"
  [[ $(epoch_of "${J[sweep]}_$k" StartTime) -ge $(epoch_of "${J[etl]}" EndTime) ]] || fail "sweep task $k started before etl ended"
  [[ $(epoch_of "${J[train-final]}" StartTime) -ge $(epoch_of "${J[sweep]}_$k" EndTime) ]] ||
    fail "final training started before sweep task $k ended"
  [[ -s hpcml-out/slurm/hpcml-sweep-${J[sweep]}_$k.out ]] || fail "no log for sweep task $k"
done

# gen: 20000 rows in 2 shards; etl: a dataset with 20000 rows split three ways.
rows=$(cat hpcml-out/raw/part-*.csv | grep -vc '^Time,')
[[ $rows -eq 20000 ]] || fail "gen wrote $rows rows, not 20000"
read -r ntrain nval ntest <<<"$($PY -c '
import h5py
f = h5py.File("hpcml-out/dataset.h5", "r")
assert f.attrs["hpcml_format"] in (b"hpcml-dataset", "hpcml-dataset")
print(*(f[s + "/y"].shape[0] for s in ("train", "val", "test")))')" || fail "dataset.h5 unreadable"
[[ $((ntrain + nval + ntest)) -eq 20000 ]] || fail "dataset.h5 holds $ntrain+$nval+$ntest rows, not 20000"

# sweep: every trial ended, one marker each, and best.cfg is the best trial of results.csv.
"$BIN/hpcml-sweep" -c "$CFG" "${P[@]}" --status >status.txt || fail "hpcml-sweep --status failed"
grep -q "Number of trials: 4/4" status.txt || { cat status.txt; fail "not all 4 trials ended"; }
[[ $(ls hpcml-out/slurm/sweep.done.d | wc -l) -eq 4 ]] || fail "expected 4 trial markers"
best=$($PY -c '
import csv, math
rows = [r for r in csv.DictReader(open("hpcml-out/sweep/results.csv")) if r["status"] in ("COMPLETED", "STOPPED")]
assert len(rows) == 4, rows
v = lambda r: float(r["last_val_pr_auc"]) if not math.isnan(float(r["last_val_pr_auc"])) else -1
print(max(rows, key=v)["trial"])')
grep -q "^# trial $best (" hpcml-out/sweep/best.cfg ||
  { head -3 hpcml-out/sweep/best.cfg; fail "best.cfg is not the best trial of results.csv ($best)"; }

# The final training ran with best.cfg's sampled values.
grep -q "training with the sweep's best configuration" hpcml-out/slurm/hpcml-train-"${J[train-final]}".out ||
  fail "final training did not use best.cfg"
for k in train.lr train.dropout train.hidden train.batch_size; do
  a=$(cfg_of hpcml-out/sweep/best.cfg "$k") b=$(cfg_of hpcml-out/train/config.cfg "$k")
  [[ -n $a && $a == "$b" ]] || fail "final training's $k = '$b', best.cfg's = '$a'"
done

# evaluation.json: on every test row, consistent, and better than chance on learnable data.
$PY - "$ntest" <<'PY' || fail "evaluation.json check failed"
import json, sys
e = json.load(open("hpcml-out/train/evaluation.json"))["test"]
n = int(sys.argv[1])
assert e["rows"] == n, (e["rows"], n)
(tn, fp), (fn, tp) = e["confusion"]
assert tn + fp + fn + tp == n, e["confusion"]
assert abs(e["accuracy"] - (tn + tp) / n) < 1e-9, e
assert 0.8 <= e["auc"] <= 1.0 and 0.0 <= e["pr_auc"] <= 1.0, e
print("test AUC %.3f, PR-AUC %.3f on %d rows" % (e["auc"], e["pr_auc"], n))
PY
for m in gen.done etl.done train-final.done; do [[ -s hpcml-out/slurm/$m ]] || fail "no marker $m"; done
[[ $(epoch_of "${J[report]}" StartTime) -ge $(epoch_of "${J[train-final]}" EndTime) ]] ||
  fail "the report job started before the final training ended"
[[ $(job_field "${J[report]}" JobState) == COMPLETED ]] || fail "report job: $(job_field "${J[report]}" JobState)"
$PY - hpcml-out/report.html <<'PY' || fail "report.html of the Slurm pipeline"
import re, sys, xml.etree.ElementTree as ET
html = open(sys.argv[1]).read()
sec = dict(re.findall(r'<section id="([a-z]+)">(.*?)</section>', html, re.S))
for name in ("data", "sweep", "training", "evaluation", "performance"):
    assert "<svg" in sec[name] and 'class="corrupt"' not in sec[name], name
assert 'class="missing"' in sec["drift"]  # no hpcml-predict in this pipeline
for s in re.findall(r"<svg\b.*?</svg>", html, re.S):
    ET.fromstring(s)
PY
pass "pipeline.sh --wait, real programs: gen -> etl -> 4-trial sweep array -> train with best.cfg (trial $best) -> evaluation.json -> report.html ($secs_pipe s)"

out=$("$SRC/slurm/pipeline.sh" "$CFG" "${P[@]}" 2>re.err) || { cat re.err >&2; fail "re-run failed"; }
[[ $out == $'gen skipped\netl skipped\nsweep skipped\ntrain-final skipped\nreport skipped' ]] || fail "re-run did not skip: $out"
pass "re-run with real outputs: all five stages skipped"

# --- a data error is not retried -----------------------------------------------------------
t=$SECONDS
mkdir -p bad
{ sed -n 1,200p hpcml-out/raw/part-00000.csv; echo "1.0,2.0,3.0"; sed -n 201,300p hpcml-out/raw/part-00000.csv; } >bad/ragged.csv
E=(-s gen.enabled=false -s 'etl.input=["bad/*.csv"]' -s etl.output=bad/out/dataset.h5
  -s resources.log_dir=bad/logs -s resources.max_retries=2 -s resources.retry_backoff_s=1)
run_job -o bad/etl-%j.out "$SRC/slurm/etl.sbatch" "$CFG" "${E[@]}"
log=$(cat bad/etl-"$id".out)
[[ $st == FAILED && $rc -eq 2 ]] || { echo "$log" >&2; fail "data error: $st, exit $rc (want FAILED, 2)"; }
[[ $(grep -c "run [0-9] of at most 3" <<<"$log") -eq 1 ]] || { echo "$log" >&2; fail "a data error was run more than once"; }
grep -q "bad input data: not retried" <<<"$log" || fail "no 'not retried' message"
grep -q "ragged.csv:201" <<<"$log" || { echo "$log" >&2; fail "the error does not name ragged.csv:201"; }
[[ -e bad/out/dataset.h5 || -e bad/logs/etl.done ]] && fail "a failed ETL left output or a marker"
pass "data error (ragged row at ragged.csv:201): exit 2 after one run, no retry, no output ($((SECONDS - t)) s)"

# --- a transient I/O error is retried, and the retry succeeds ---------------------------------------
t=$SECONDS
mkdir -p tr
: >tr/blocked # etl.output's directory is a file: hpcml-etl exits 3 (I/O)
T=(-s gen.enabled=false -s 'etl.input=["hpcml-out/raw/*.csv"]' -s etl.output=tr/blocked/dataset.h5
  -s resources.log_dir=tr/logs -s resources.max_retries=2 -s resources.retry_backoff_s=4)
id=$(sbatch --parsable -o tr/etl-%j.out "$SRC/slurm/etl.sbatch" "$CFG" "${T[@]}") || fail "sbatch refused"
for _ in $(seq 300); do
  grep -q "retry 1 of 2 in 4s" tr/etl-"$id".out 2>/dev/null && break
  sleep 0.1
done
grep -q "retry 1 of 2 in 4s" tr/etl-"$id".out || { cat tr/etl-"$id".out >&2; fail "no retry announced"; }
rm tr/blocked && mkdir tr/blocked # the "file system" recovers during the back-off
wait_job "$id"
log=$(cat tr/etl-"$id".out)
[[ $st == COMPLETED && $rc -eq 0 ]] || { echo "$log" >&2; fail "transient error: $st, exit $rc"; }
[[ $(grep -c "run [0-9] of at most 3" <<<"$log") -eq 2 ]] || { echo "$log" >&2; fail "expected exactly 2 runs"; }
grep -q "exited 3" <<<"$log" || fail "first run did not exit 3"
grep -q "transient failure (exit 3: I/O)" <<<"$log" || fail "exit 3 not treated as transient"
# The second run started no earlier than the back-off after the first failed.
t1=$(sed -n 's/^\[\([^ ]*\) hpcml-etl\] hpcml-etl exited 3$/\1/p' <<<"$log" | head -1)
t2=$(sed -n 's/^\[\([^ ]*\) hpcml-etl\] run 2 of at most 3:.*/\1/p' <<<"$log" | head -1)
[[ -n $t1 && -n $t2 ]] || { echo "$log" >&2; fail "cannot read the run times from the log"; }
(($(date -d "$t2" +%s) - $(date -d "$t1" +%s) >= 3)) || fail "retry came before the 4 s back-off ($t1 -> $t2)"
[[ -s tr/blocked/dataset.h5 && -s tr/logs/etl.done ]] || fail "the retried ETL left no dataset or marker"
pass "transient I/O error (exit 3): retried after the 4 s back-off, second run succeeded ($((SECONDS - t)) s)"
pass "all in $((SECONDS - t_start)) s"
