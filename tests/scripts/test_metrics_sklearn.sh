#!/usr/bin/env bash
# test_metrics_sklearn.sh — hpcml's binary metrics (src/nn/metrics.c) equal
# scikit-learn's to 1e-9 on random data with many tied scores, with and
# without sample weights, including AUC-ROC and average precision computed
# from run lists merged over shards (the distributed path).
# labels: nn python
# timeout: 120
# ranks: 1 (mpi_metrics_dump, no launcher)
# options: the helper program's arguments in the script (no config keys)
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
dump=$TBIN/mpi_metrics_dump
need_exe "$dump"
need_py_module sklearn

"$PY" - "$dump" "$TMP" <<'EOF'
import json, subprocess, sys
import numpy as np
from sklearn import metrics as skm

dump, tmp = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(20240611)
failures = 0

def check(name, ours, theirs, tol=1e-9):
    global failures
    if ours is None or not abs(ours - theirs) <= tol:
        failures += 1
        print(f"FAIL {name}: hpcml {ours!r} sklearn {theirs!r}")

cases = 0
for n, levels, weighted, threshold, shards in [
        (1000, 25, False, 0.5, 1), (1000, 25, True, 0.5, 4), (5000, 7, True, 0.3, 3),
        (777, 0, False, 0.6, 5), (2000, 0, True, 0.5, 2), (50, 3, False, 0.5, 7)]:
    y = rng.random(n) < 0.35
    raw = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    # levels > 0: scores on a coarse grid, so most rows tie
    s = np.round(raw * levels) / levels if levels else raw
    w = rng.integers(1, 5, n) * 0.25 if weighted else np.ones(n)
    path = f"{tmp}/case{cases}.txt"
    with open(path, "w") as f:
        for si, yi, wi in zip(s, y, w):
            f.write(f"{si!r} {int(yi)} {wi!r}\n" if weighted else f"{si!r} {int(yi)}\n")
    out = json.loads(subprocess.run([dump, path, str(threshold), str(shards)], check=True,
                                    capture_output=True, text=True).stdout)
    sw = w if weighted else None
    pred = (s >= threshold).astype(int)
    tag = f"case {cases} (n={n}, levels={levels}, weighted={weighted})"
    cm = skm.confusion_matrix(y, pred, sample_weight=sw)
    check(tag + " tn", out["tn"], cm[0, 0]); check(tag + " fp", out["fp"], cm[0, 1])
    check(tag + " fn", out["fn"], cm[1, 0]); check(tag + " tp", out["tp"], cm[1, 1])
    check(tag + " accuracy", out["accuracy"], skm.accuracy_score(y, pred, sample_weight=sw))
    check(tag + " precision", out["precision"],
          skm.precision_score(y, pred, sample_weight=sw, zero_division=0))
    check(tag + " recall", out["recall"], skm.recall_score(y, pred, sample_weight=sw))
    check(tag + " f1", out["f1"], skm.f1_score(y, pred, sample_weight=sw))
    auc = skm.roc_auc_score(y, s, sample_weight=sw)
    ap = skm.average_precision_score(y, s, sample_weight=sw)
    check(tag + " auc_roc", out["auc_roc"], auc)
    check(tag + " average_precision", out["average_precision"], ap)
    check(tag + " auc_roc_merged", out["auc_roc_merged"], auc)
    check(tag + " average_precision_merged", out["average_precision_merged"], ap)
    cases += 1

print(f"{cases} cases compared with scikit-learn {__import__('sklearn').__version__}")
sys.exit(1 if failures else 0)
EOF
pass "metrics match scikit-learn"
