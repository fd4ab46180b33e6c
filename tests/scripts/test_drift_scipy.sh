#!/usr/bin/env bash
# The drift statistics of src/monitor/drift.c against scipy on the same
# samples (tests/mpi/mpi_drift_tool.c summarizes them with the module):
#   KS: the bucketed statistic D_b obeys D_b <= D <= D_b + (largest bucket
#       share of either sample), D from scipy.stats.ks_2samp on the raw
#       values; with integer data every value has its own bucket and D_b = D
#       exactly. The p-value equals scipy.special.kolmogorov at Stephens'
#       scaled D_b to 1e-12 (relative), and lies within 5 % (relative) of
#       scipy's ks_2samp(method="asymp"), i.e. kstwo.sf(D_b, round(en)), for
#       en >= 20 and p >= 1e-4 (Stephens' approximation; measured up to 5 %
#       at en = 26), within a tenth of a decade below 1e-4 (6 % at p = 9e-10).
#   chi-square: statistic and p-value equal scipy.stats.chisquare(f_obs,
#       f_exp) and chi2.sf to 1e-9 (relative), f_exp the reference shares
#       (zero shares filled as Evidently does, renormalized) times the
#       current count.
#   PSI and Jensen-Shannon: equal to numpy's PSI with Evidently's zero fill
#       and scipy.spatial.distance.jensenshannon(base=2) on the module's
#       bins to 1e-12; the bins' counts equal np.histogram of the raw values
#       with the module's edges (up to 2 values on an edge).
# labels: unit drift
# timeout: 120
# ranks: 1 (mpi_drift_tool, no launcher)
# options: the helper program's arguments in the script (no config keys)
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
tool=$TBIN/mpi_drift_tool
need_exe "$tool"
need_py_module scipy
cd "$TMP"
$PY - "$tool" <<'EOF' || fail "drift statistics differ from scipy"
import json, subprocess, sys
import numpy as np
from scipy import stats, special
from scipy.spatial import distance

tool = sys.argv[1]
rng = np.random.default_rng(20261201)
bad = []

def check(cond, what):
    if not cond:
        bad.append(what)
        print("MISMATCH:", what)

def fill(shares):
    s = shares.copy()
    nz = s[s > 0]
    m = nz.min() if len(nz) else 1.0
    s[s == 0] = m / 1e6 if m <= 1e-4 else 1e-4
    return s

def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)

def psi_js(name, o, p, q):  # the module's PSI and JS against numpy / scipy on the same shares
    psi = np.sum((fill(p) - fill(q)) * np.log(fill(p) / fill(q)))
    check(abs(o["psi"] - psi) <= 1e-12 * max(1, psi), f"{name}: PSI {o['psi']} vs {psi}")
    js = distance.jensenshannon(p, q, base=2)
    check(abs(o["jensenshannon"] - js) <= 1e-12, f"{name}: JS {o['jensenshannon']} vs {js}")

def numeric(name, r, c, integer=False):
    np.savetxt("r.txt", r, fmt="%.17g")
    np.savetxt("c.txt", c, fmt="%.17g")
    o = json.loads(subprocess.check_output([tool, "numeric", "r.txt", "c.txt"]))
    rr, cc = r[~np.isnan(r)], c[~np.isnan(c)]
    s = stats.ks_2samp(rr, cc, method="asymp")
    d, db, eps = s.statistic, o["ks"], o["max_bucket_share"]
    check(db <= d + 1e-12 and d - db <= eps + 1e-12, f"{name}: KS {db} vs scipy {d} (bound {eps})")
    if integer:
        check(abs(db - d) <= 1e-12, f"{name}: KS on integers {db} != scipy {d}")
    n, m = len(rr), len(cc)
    en = n * m / (n + m)
    lam = (np.sqrt(en) + 0.12 + 0.11 / np.sqrt(en)) * db
    check(rel(o["ks_p_value"], special.kolmogorov(lam)) < 1e-12 or abs(o["ks_p_value"] - special.kolmogorov(lam)) < 1e-300,
          f"{name}: p {o['ks_p_value']} vs kolmogorov {special.kolmogorov(lam)}")
    exact = stats.kstwo.sf(db, np.round(en))
    def close(a, b):  # 5 % where decisions are made, a tenth of a decade in the far tail
        return rel(a, b) < 0.05 if b >= 1e-4 else abs(np.log10(a / b)) < 0.1
    check(close(o["ks_p_value"], exact), f"{name}: p {o['ks_p_value']} vs kstwo.sf {exact}")
    if integer:
        check(close(o["ks_p_value"], s.pvalue), f"{name}: p {o['ks_p_value']} vs ks_2samp {s.pvalue}")
    edges = np.array(o["edges"])
    rc, ccn = np.array(o["reference_counts"]), np.array(o["current_counts"])
    hr, _ = np.histogram(rr, edges)
    hc, _ = np.histogram(cc, edges)
    check(np.abs(hr - rc).sum() <= 2 * 2 and np.abs(hc - ccn).sum() <= 2 * 2,
          f"{name}: bin counts differ from np.histogram")
    psi_js(name, o, rc / rc.sum(), ccn / ccn.sum())
    print(f"{name}: n={n} m={m} D_b={db:.5f} D={d:.5f} (bound {eps:.4f}) p={o['ks_p_value']:.4g} "
          f"kstwo={exact:.4g} ks_2samp={s.pvalue:.4g} psi={o['psi']:.4g} js={o['jensenshannon']:.4g}")

numeric("normal, small shift", rng.normal(0, 1, 5000), rng.normal(0.1, 1, 800))
numeric("normal, no shift", rng.normal(5, 2, 20000), rng.normal(5, 2, 1000))
numeric("lognormal amounts", rng.lognormal(3, 1.4, 200000), rng.lognormal(3.1, 1.4, 1000))
numeric("negative, zero, positive", np.concatenate([rng.normal(-3, 1, 3000), np.zeros(500), rng.exponential(2, 3000)]),
        np.concatenate([rng.normal(-3, 1.5, 300), np.zeros(100), rng.exponential(2, 400)]))
numeric("integers (ties)", rng.poisson(4, 10000).astype(float), rng.poisson(4.3, 700).astype(float), integer=True)
numeric("small samples", rng.normal(0, 1, 60), rng.normal(0.6, 1, 45))
r = rng.normal(0, 1, 4000); r[rng.random(4000) < 0.05] = np.nan
numeric("with nulls", r, rng.normal(0, 1.3, 900))

def categorical(name, r, c, n_slots):
    np.savetxt("r.txt", r, fmt="%d")
    np.savetxt("c.txt", c, fmt="%d")
    o = json.loads(subprocess.check_output([tool, "categorical", "r.txt", "c.txt", str(n_slots)]))
    rr, cc = r[r >= 0], c[c >= 0]
    cr = np.bincount(np.where(rr < n_slots, rr, 0), minlength=n_slots)
    cu = np.bincount(np.where(cc < n_slots, cc, 0), minlength=n_slots)
    check(list(cr) == o["reference_counts"] and list(cu) == o["current_counts"], f"{name}: counts")
    used = (cr > 0) | (cu > 0)
    share = fill(cr[used] / cr.sum())
    share /= share.sum()
    f_exp = share * cu.sum()
    s = stats.chisquare(cu[used], f_exp)
    check(rel(o["chisquare"], s.statistic) < 1e-9, f"{name}: X2 {o['chisquare']} vs {s.statistic}")
    check(o["chisquare_df"] == used.sum() - 1, f"{name}: df")
    check(rel(o["chisquare_p_value"], s.pvalue) < 1e-9 or abs(o["chisquare_p_value"] - s.pvalue) < 1e-300,
          f"{name}: chi2 p {o['chisquare_p_value']} vs {s.pvalue}")
    check(rel(o["chisquare_p_value"], stats.chi2.sf(o["chisquare"], used.sum() - 1)) < 1e-9
          or o["chisquare_p_value"] < 1e-300, f"{name}: chi2.sf")
    psi_js(name, o, cr[used] / cr.sum(), cu[used] / cu.sum())
    print(f"{name}: X2={o['chisquare']:.5g} df={o['chisquare_df']} p={o['chisquare_p_value']:.4g} "
          f"scipy p={s.pvalue:.4g} psi={o['psi']:.4g} js={o['jensenshannon']:.4g}")

w = np.array([0, 40, 25, 15, 10, 6, 4], float); w /= w.sum()
categorical("same shares", rng.choice(7, 20000, p=w), rng.choice(7, 900, p=w), 7)
w2 = np.array([0, 30, 30, 15, 10, 10, 5], float); w2 /= w2.sum()
categorical("moved shares", rng.choice(7, 20000, p=w), rng.choice(7, 900, p=w2), 7)
w3 = np.array([10, 36, 22, 14, 9, 5, 4], float); w3 /= w3.sum()
categorical("unseen category", rng.choice(7, 20000, p=w), rng.choice(7, 900, p=w3), 7)
c = rng.choice(7, 900, p=w); c[:30] = -1; c[30:40] = 11
categorical("nulls and beyond the vocabulary", rng.choice(7, 5000, p=w), c, 7)
if bad:
    sys.exit(1)
EOF
pass "KS, chi-square, PSI and Jensen-Shannon agree with scipy"
