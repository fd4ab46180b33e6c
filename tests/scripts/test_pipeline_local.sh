#!/usr/bin/env bash
# The whole pipeline with the real programs under mpirun, as scripts/demo.sh
# runs it: gen -> etl -> sweep (array tasks, then pool mode) on the trainer
# -> final training with best.cfg -> evaluation.json -> report.html (hpcml-report).
# labels: mpi pipeline sweep
# timeout: 300
# ranks: 1 (sweep array tasks), 2 (gen, etl, sweep, train)
# options: configs/demo.cfg; -s gen.rows, sweep.grace_period, sweep.max_t,
#   sweep.reduction_factor, sweep.trials, train.epochs
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
cd "$TMP"
cfg=$SRC/configs/demo.cfg
S=(-s gen.rows=30000 -s sweep.trials=4 -s sweep.max_t=2 -s sweep.grace_period=1 -s sweep.reduction_factor=2.0 -s train.epochs=2)
"${MPIRUN[@]}" -np 2 "$BIN/hpcml-gen" -c "$cfg" "${S[@]}" -q
"${MPIRUN[@]}" -np 2 "$BIN/hpcml-etl" -c "$cfg" "${S[@]}" -q
for t in 0 1; do "${MPIRUN[@]}" -np 1 "$BIN/hpcml-sweep" -c "$cfg" "${S[@]}" -q --trial "$t"; done
SLURM_ARRAY_TASK_ID=2 "${MPIRUN[@]}" -np 2 "$BIN/hpcml-sweep" -c "$cfg" "${S[@]}" -q
"${MPIRUN[@]}" -np 2 "$BIN/hpcml-sweep" -c "$cfg" "${S[@]}" -q --pool # runs the remaining trial 3
"$BIN/hpcml-sweep" -c "$cfg" "${S[@]}" --status >"$TMP/status.txt"
grep -q "Number of trials: 4/4" "$TMP/status.txt" || { cat "$TMP/status.txt"; fail "not all trials ended"; }
[[ $(grep -c '"event": *"started"' hpcml-out/sweep/journal.jsonl) -ge 4 ]] || fail "journal lacks starts"
"${MPIRUN[@]}" -np 2 "$BIN/hpcml-train" -c hpcml-out/sweep/best.cfg -q
$PY - <<'PY'
import json
e = json.load(open("hpcml-out/train/evaluation.json"))["test"]
assert e["rows"] > 0 and 0.5 <= e["auc"] <= 1.0, e
for k in ("accuracy", "precision", "recall", "f1", "auc", "pr_auc", "confusion"):
    assert k in e, k
PY
pass "gen -> etl -> sweep (array + pool) -> train with best.cfg -> evaluation.json"

"${MPIRUN[@]}" -np 1 "$BIN/hpcml-report" -c "$cfg" "${S[@]}" -q || fail "hpcml-report exited $?"
$PY - hpcml-out/report.html <<'PY' || fail "report.html"
import re, sys
html = open(sys.argv[1]).read()
sec = dict(re.findall(r'<section id="([a-z]+)">(.*?)</section>', html, re.S))
for name in ("data", "sweep", "training", "evaluation", "performance"):
    assert "<svg" in sec[name] and 'class="corrupt"' not in sec[name], name
PY
pass "hpcml-report: hpcml-out/report.html with every stage's section"
