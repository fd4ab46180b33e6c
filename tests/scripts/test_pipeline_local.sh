#!/usr/bin/env bash
# The whole pipeline with the real programs under mpirun, as scripts/demo.sh
# runs it: gen -> etl -> sweep (array tasks, then pool mode) on the trainer
# -> final training with best.cfg -> evaluation.json -> report.html (hpcml-report).
# labels: mpi pipeline sweep
# timeout: 300
# ranks: 1 (sweep array tasks), 2 (gen, etl, sweep, train)
# options: configs/demo.cfg; -s gen.rows=30000, gen.positive_fraction=0.02, sweep.trials=4,
#   sweep.max_t=2, sweep.grace_period=1, sweep.reduction_factor=2.0, train.epochs=2
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
cd "$TMP"
cfg=$SRC/configs/demo.cfg
# 2 % positives (the demo's data has 0.172 %): 30000 rows then give /test 90 positives
# instead of 8, so F1 and AUC measure the model rather than a handful of rows.
S=(-s gen.rows=30000 -s gen.positive_fraction=0.02 -s sweep.trials=4 -s sweep.max_t=2
  -s sweep.grace_period=1 -s sweep.reduction_factor=2.0 -s train.epochs=2)
"${MPIRUN[@]}" -np 2 "$BIN/hpcml-gen" -c "$cfg" "${S[@]}" -q
"${MPIRUN[@]}" -np 2 "$BIN/hpcml-etl" -c "$cfg" "${S[@]}" -q
for t in 0 1; do "${MPIRUN[@]}" -np 1 "$BIN/hpcml-sweep" -c "$cfg" "${S[@]}" -q --trial "$t"; done
SLURM_ARRAY_TASK_ID=2 "${MPIRUN[@]}" -np 2 "$BIN/hpcml-sweep" -c "$cfg" "${S[@]}" -q
"${MPIRUN[@]}" -np 2 "$BIN/hpcml-sweep" -c "$cfg" "${S[@]}" -q --pool # runs the remaining trial 3
"$BIN/hpcml-sweep" -c "$cfg" "${S[@]}" --status >"$TMP/status.txt"
grep -q "Number of trials: 4/4" "$TMP/status.txt" || { cat "$TMP/status.txt"; fail "not all trials ended"; }
[[ $(grep -c '"event": *"started"' hpcml-out/sweep/journal.jsonl) -ge 4 ]] || fail "journal lacks starts"
"${MPIRUN[@]}" -np 2 "$BIN/hpcml-train" -c hpcml-out/sweep/best.cfg -q
# Floors: what this pipeline reaches, measured with benchmarks/pipeline_quality.sh
# (HPCML_QUALITY_SET=gen.positive_fraction=0.02; the same sweep sequence as here).
# This run (the config's seeds) gives AUC 0.9958, F1 0.9167 on 1 and 2 ranks alike.
# With gen/train/sweep seeds s = 1, 2, 3, 5, 6: AUC 0.983-0.997, F1 0.855-0.971 (s = 1-4
# also on 1 rank: the same numbers). The floors sit below the lowest of those by a
# margin (AUC 0.02, F1 0.05) for numerics that move with the compiler or BLAS. s = 4
# collapses (AUC 0.61, F1 0): its 4-trial, 2-epoch sweep picks lr 1.3e-4, which has not
# learned in 2 epochs; the test keeps the config's seeds, so that case is measured, not run.
$PY - <<'PY'
import json
e = json.load(open("hpcml-out/train/evaluation.json"))["test"]
for k in ("accuracy", "precision", "recall", "f1", "auc", "pr_auc", "confusion"):
    assert k in e, k
pos = e["confusion"][1][0] + e["confusion"][1][1]
assert e["rows"] == 4500 and pos >= 50, f"/test: {e['rows']} rows, {pos} positives"
assert e["auc"] >= 0.96, f"test AUC {e['auc']:.4f} below the floor 0.96 (measured 0.9958)"
assert e["f1"] >= 0.80, f"test F1 {e['f1']:.4f} below the floor 0.80 (measured 0.9167)"
print(f"test AUC {e['auc']:.4f} (floor 0.96), F1 {e['f1']:.4f} (floor 0.80), {pos} positives")
PY
pass "gen -> etl -> sweep (array + pool) -> train with best.cfg -> evaluation.json, AUC and F1 above their floors"

"${MPIRUN[@]}" -np 1 "$BIN/hpcml-report" -c "$cfg" "${S[@]}" -q || fail "hpcml-report exited $?"
$PY - hpcml-out/report.html <<'PY' || fail "report.html"
import re, sys
html = open(sys.argv[1]).read()
sec = dict(re.findall(r'<section id="([a-z]+)">(.*?)</section>', html, re.S))
for name in ("data", "sweep", "training", "evaluation", "performance"):
    assert "<svg" in sec[name] and 'class="corrupt"' not in sec[name], name
PY
pass "hpcml-report: hpcml-out/report.html with every stage's section"
