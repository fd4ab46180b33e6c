#!/usr/bin/env python3
"""make_drift_json.py OUT — a hand-made drift.json (format hpcml-drift, version 1,
the contract hpcml-predict writes) for hpcml-report's test: reference and
current samples drawn with numpy (fixed seed), statistics from scipy, bins and
counts as the contract lays them out. Two columns drift (amount: a shifted
numeric one; channel: a categorical one whose shares moved), two do not."""
import json
import sys

import numpy as np
from scipy import stats

rng = np.random.default_rng(20261201)
n_ref, n_cur = 20000, 5000


def numeric(name, ref, cur, bins=10, alpha=0.05):
    edges = np.histogram_bin_edges(ref, bins=bins)
    rc, _ = np.histogram(np.clip(ref, edges[0], edges[-1]), edges)
    cc, _ = np.histogram(np.clip(cur, edges[0], edges[-1]), edges)
    ks = stats.ks_2samp(ref, cur)
    return column(name, "numeric", "ks", ks.statistic, ks.pvalue, alpha, ks.pvalue < alpha,
                  {"edges": edges.tolist(), "counts": rc.tolist()},
                  {"edges": edges.tolist(), "counts": cc.tolist()}, rc, cc)


def categorical(name, cats, p_ref, p_cur, alpha=0.05):
    rc = rng.multinomial(n_ref, p_ref)
    cc = rng.multinomial(n_cur, p_cur)
    chi = stats.chi2_contingency(np.array([rc, cc]) + 0)
    names = cats + ["<unknown>"]
    rc, cc = np.append(rc, 0), np.append(cc, 0)
    return column(name, "categorical", "chisquare", chi.statistic, chi.pvalue, alpha,
                  chi.pvalue < alpha, {"categories": names, "counts": rc.tolist()},
                  {"categories": names, "counts": cc.tolist()}, rc, cc)


def column(name, kind, method, statistic, p, threshold, drifted, ref, cur, rc, cc):
    eps = 1e-6
    pr = rc / rc.sum() + eps
    pc = cc / cc.sum() + eps
    psi = float(np.sum((pc - pr) * np.log(pc / pr)))
    js = float(stats.entropy(pr, (pr + pc) / 2) / 2 + stats.entropy(pc, (pr + pc) / 2) / 2)
    return {"name": name, "type": kind, "method": method, "statistic": float(statistic),
            "p_value": float(p), "threshold": threshold, "drifted": bool(drifted),
            "psi": psi, "jensenshannon": float(np.sqrt(js)),
            "null_share_reference": 0.01, "null_share_current": 0.012 if drifted else 0.01,
            "reference": ref, "current": cur}


cols = [
    numeric("V1", rng.normal(0, 1, n_ref), rng.normal(0, 1, n_cur)),
    numeric("amount", rng.lognormal(3, 1, n_ref), rng.lognormal(3.6, 1, n_cur)),
    categorical("channel", ["web", "store", "phone"], [0.6, 0.3, 0.1], [0.35, 0.3, 0.35]),
    numeric("V2", rng.normal(0, 2, n_ref), rng.normal(0, 2, n_cur)),
]
drifted = sum(c["drifted"] for c in cols)
doc = {"format": "hpcml-drift", "version": 1, "model": "hpcml-out/train/model.h5",
       "rows_reference": n_ref, "rows_current": n_cur, "dataset_drift": drifted / len(cols) >= 0.5,
       "drifted_columns": drifted, "columns_total": len(cols), "drift_share": 0.5,
       "columns": cols}
assert [c["name"] for c in cols if c["drifted"]] == ["amount", "channel"], cols
with open(sys.argv[1], "w") as f:
    json.dump(doc, f, indent=1)
