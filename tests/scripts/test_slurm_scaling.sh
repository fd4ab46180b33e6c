#!/usr/bin/env bash
# test_slurm_scaling.sh — the scaling benchmark as a Slurm job array on the local Slurm
# (benchmarks/scaling/run.sh --slurm -> slurm/scaling.sbatch -> point.sh), on tiny inputs:
# one CSV row per (program, set, ranks) point, the 4-rank points on this 2-core machine
# marked oversubscribed, speed-up and efficiency relative to 1 rank, an SVG plot that parses.
# labels: slurm benchmark
# timeout: 600
# ranks: Slurm jobs of slurm/scaling.sbatch (strong and weak sets) on a one-node local Slurm
# options: the helper program's arguments in the script (no config keys)
# skips (exit 77): not root (slurm_lib.sh slurm_up: the local Slurm runs its daemons as root)
# Usage: bash test_slurm_scaling.sh BUILD_DIR SRC_DIR
source "$(dirname "$0")/lib.sh" "$@"
source "$(dirname "$0")/slurm_lib.sh"
t_start=$SECONDS
slurm_up 7300 4 # 4-rank points need a 4-task allocation
cd "$TMP" || fail "cd $TMP"
"$SRC/benchmarks/scaling/run.sh" "$BUILD" out --slurm --reps 1 --ranks "1 4" \
  --sizes "20000 10000 2" >run.out 2>run.err || { cat run.err out/logs/* >&2; fail "run.sh --slurm failed"; }
[[ $(ls out/logs/hpcml-scaling-*.out | wc -l) -eq 12 ]] || fail "expected 12 array task logs"
$PY - "$(nproc)" <<'PY' || fail "scaling.csv / scaling.svg check failed"
import csv, sys, xml.etree.ElementTree as ET
cores = int(sys.argv[1])
rows = list(csv.DictReader(open("out/scaling.csv")))
assert len(rows) == 12, len(rows)
seen = {(r["program"], r["set"], int(r["ranks"])) for r in rows}
assert seen == {(p, s, n) for p in ("etl", "train", "sweep") for s in ("strong", "weak") for n in (1, 4)}, seen
for r in rows:
    n, t = int(r["ranks"]), float(r["run_s"])
    assert t > 0 and float(r["wall_s"]) >= t * 0.5, r
    assert int(r["oversubscribed"]) == (n > cores), r
    if n == 1:
        assert float(r["speedup"]) == 1.0 and float(r["efficiency"]) == 1.0, r
    else:
        assert float(r["speedup"]) > 0 and float(r["efficiency"]) > 0, r
    if r["set"] == "weak" and r["program"] != "sweep":
        assert int(r["work"]) == 10000 * n, r
svg = ET.parse("out/scaling.svg").getroot()
assert svg.tag.endswith("svg"), svg.tag
text = open("out/scaling.svg").read()
for p in ("etl", "train", "sweep"):
    assert "hpcml-%s: speedup" % p in text and "hpcml-%s: efficiency" % p in text, p
assert "oversubscribed" in text
PY
pass "scaling benchmark as a 12-task job array: CSV with speed-up/efficiency, 4-rank points marked oversubscribed, SVG ($((SECONDS - t_start)) s)"
