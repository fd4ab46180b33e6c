#!/usr/bin/env python3
"""sweep_efficiency.py — compare an ASHA sweep with the full search, from their journals.

usage: sweep_efficiency.py FULL_JOURNAL ASHA_JOURNAL [--seconds FULL_S ASHA_S] [--workers W]
       sweep_efficiency.py --resolution PREDICTIONS.h5 FULL_JOURNAL

FULL_JOURNAL: the sweep run with sweep.scheduler = "none" (every trial to max_t);
ASHA_JOURNAL: the same sweep (same seed, space, trials, training config) with "asha".
Prints for each arm the best validation metric (the best *last* reported value of a
trial, NaN skipped: Ray's get_best_trial(scope="last"), what best.cfg picks; and the
best value at max_t), the epochs trained (result records) and the ratios, and whether
the issue's goal holds: ASHA within 0.5 % of the full search's best using at most 35 %
of its epochs.

Checks and analysis, from the full arm's curves (every trial's metric at every epoch):
- determinism: the ASHA arm's results equal the full arm's at the same (trial, epoch)
  (same config, same seed, same rank count: the trainer is deterministic);
- simulation: Ray's rule (tests/scripts/sweep_ray_replay.py) replayed over the full
  arm's curves in the ASHA journal's own order (must give the recorded decisions when
  the values agree), in trial order on W workers, and over random trial orders;
- why a miss happens: where the full search's best trial was stopped, how well early
  values rank the final ones (Spearman), how much the metric moves between epochs;
- other (grace_period, reduction_factor) on the same curves (simulated, not run).

--resolution: how finely the metric can tell two models apart on a split of this size. From
hpcml-train's predictions.h5 (the /test split, as large as /val), the bootstrap standard
deviation of the metric over 1000 resamples of the rows (the sweep's metric, from the journal's header:
val_pr_auc as scikit-learn's average precision, val_auc as ROC AUC), next to the goal's
tolerance."""
import math
import os
import random
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "scripts"))
from sweep_ray_replay import Scheduler, parse  # noqa: E402

GOAL_GAP = 0.005   # within 0.5 % of the full search's best
GOAL_SHARE = 0.35  # using at most 35 % of its epochs


def load(path):
    with open(path) as f:
        recs = [r for r in (parse(line) for line in f) if r is not None]
    header = next(r for r in recs if r["event"] == "sweep")
    curves, order, status = {}, [], {}
    for r in recs:
        ev, t = r["event"], r.get("trial")
        if ev == "result":
            c = curves.setdefault(t, {})
            if r["iter"] not in c:
                c[r["iter"]] = float(r["value"])
                order.append((t, r["iter"], r["decision"]))
        elif ev in ("stopped", "completed", "failed"):
            status[t] = ev
            if ev != "failed" and "iter" in r:
                order.append((t, r["iter"], "end"))
    return header, curves, order, status


def last_value(curve):
    return curve[max(curve)] if curve else math.nan


def best_of(values, op):
    vals = [(op * v, t) for t, v in values.items() if math.isfinite(v)]
    if not vals:
        return math.nan, None
    v, t = max(vals)
    return op * v, t


def summary(header, curves, op):
    max_t = int(header["max_t"])
    last = {t: last_value(c) for t, c in curves.items()}
    at_max = {t: c[max_t] for t, c in curves.items() if max_t in c}
    return {
        "best_last": best_of(last, op),
        "best_max_t": best_of(at_max, op),
        "epochs": sum(len(c) for c in curves.values()),
        "trials": len(curves),
        "to_max_t": len(at_max),
    }


def simulate(curves, header, order_trials, workers=1, grace=None, rf=None):
    """Ray's rule over known curves; trials start in order_trials on `workers` workers,
    every epoch takes one time unit, results of one time step arrive in worker order.
    Returns (best last value, epochs, {trial: epochs trained})."""
    h = dict(header)
    if grace is not None:
        h["grace_period"] = grace
    if rf is not None:
        h["reduction_factor"] = rf
    sched = Scheduler(h)
    op = sched.op
    max_t = int(h["max_t"])
    queue = list(order_trials)
    running = [None] * workers  # [trial, epochs done]
    trained = {}
    while queue or any(running):
        for w in range(workers):
            if running[w] is None and queue:
                running[w] = [queue.pop(0), 0]
        for w in range(workers):
            if running[w] is None:
                continue
            t, e = running[w]
            e += 1
            v = curves[t][e]
            d = sched.on_trial_result(t, e, v)
            running[w][1] = e
            if d == "stop" or e >= max_t:
                sched.on_trial_complete(t, e, v)
                trained[t] = e
                running[w] = None
    last = {t: curves[t][e] for t, e in trained.items()}
    return best_of(last, op)[0], sum(trained.values()), trained


def spearman(a, b):
    a, b = np.asarray(a), np.asarray(b)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return math.nan
    ra = np.argsort(np.argsort(a[ok])).astype(float)
    rb = np.argsort(np.argsort(b[ok])).astype(float)
    return float(np.corrcoef(ra, rb)[0, 1])


def pct(x):
    return f"{100 * x:+.2f} %"


def average_precision(y, s):
    """sum over distinct thresholds of (recall step) x precision, as sklearn's."""
    order = np.argsort(-s, kind="mergesort")
    y, s = y[order], s[order]
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]  # last index of each distinct score
    tp = np.cumsum(y)[last]
    precision = tp / (last + 1)
    recall = tp / max(tp[-1], 1)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_auc(y, s):
    """Mann-Whitney U with average ranks for ties."""
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = (ends - (counts - 1) / 2.0)[inverse]  # 1-based average rank of each value
    pos = y == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def resolution(pred_path, journal_path):
    import h5py
    metric = load(journal_path)[0]["metric"]
    with h5py.File(pred_path, "r") as f:
        y = f["label"][:].astype(np.int64)
        s = f["score"][:].astype(np.float64)
    fn = {"val_pr_auc": average_precision, "val_auc": roc_auc}.get(metric)
    if fn is None:
        print(f"resolution: not computed for {metric} (val_pr_auc and val_auc only)")
        return
    value = fn(y, s)
    rng = np.random.default_rng(0)
    boots = np.array([fn(y[i], s[i]) for i in
                      (rng.integers(0, len(y), len(y)) for _ in range(1000))])
    sd = boots.std()
    print(f"resolution: the full search's best config retrained, {metric} on /test "
          f"({len(y)} rows, {int(y.sum())} positives): {value:.4f}, bootstrap sd {sd:.4f} = "
          f"{100 * sd / value:.2f} % of the value; the goal's tolerance is "
          f"{100 * GOAL_GAP:.1f} % ({GOAL_GAP / (sd / value):.2f} bootstrap sd)")


def main():
    args = sys.argv[1:]
    if args and args[0] == "--resolution":
        resolution(args[1], args[2])
        return
    full_path, asha_path = args[0], args[1]
    seconds = None
    if "--seconds" in args:
        i = args.index("--seconds")
        seconds = (float(args[i + 1]), float(args[i + 2]))
    workers = int(args[args.index("--workers") + 1]) if "--workers" in args else 2

    hf, full, _, _ = load(full_path)
    ha, asha, asha_order, asha_status = load(asha_path)
    for k in ("metric", "mode", "max_t", "trials", "seed", "space_hash"):
        if hf[k] != ha[k]:
            sys.exit(f"the journals are not the same sweep: {k} = {hf[k]} / {ha[k]}")
    assert hf["scheduler"] == "none" and ha["scheduler"] == "asha", (hf["scheduler"],
                                                                      ha["scheduler"])
    op = 1.0 if ha["mode"] == "max" else -1.0
    max_t, metric = int(ha["max_t"]), ha["metric"]
    incomplete = [t for t, c in full.items() if sorted(c) != list(range(1, max_t + 1))]
    if incomplete or len(full) != ha["trials"]:
        sys.exit(f"the full arm is incomplete: {len(full)} trials, {len(incomplete)} short")

    sf, sa = summary(hf, full, op), summary(ha, asha, op)
    print(f"sweep: {ha['trials']} trials, metric {metric} ({ha['mode']}), max_t {max_t}, "
          f"grace_period {ha['grace_period']:g}, reduction_factor {ha['reduction_factor']:g}")
    print(f"{'':34s} {'full':>10s} {'asha':>10s} {'asha/full':>10s}")

    def row(name, a, b, fmt="{:10.6f}"):
        ratio = b / a if a else math.nan
        print(f"{name:34s} {fmt.format(a)} {fmt.format(b)} {ratio:10.4f}")

    row(f"best {metric} (last, best.cfg's)", sf["best_last"][0], sa["best_last"][0])
    row(f"best {metric} at epoch {max_t}", sf["best_max_t"][0], sa["best_max_t"][0])
    row("epochs trained", sf["epochs"], sa["epochs"], "{:10d}")
    row(f"trials trained to epoch {max_t}", sf["to_max_t"], sa["to_max_t"], "{:10d}")
    if seconds:
        row("wall seconds", seconds[0], seconds[1], "{:10.1f}")
    print(f"best trial: full {sf['best_last'][1]}, asha {sa['best_last'][1]}")

    gap = op * (sf["best_last"][0] - sa["best_last"][0]) / abs(sf["best_last"][0])
    share = sa["epochs"] / sf["epochs"]
    ok_gap, ok_share = gap <= GOAL_GAP, share <= GOAL_SHARE
    print(f"goal: best within {100 * GOAL_GAP:.1f} % of the full search's: "
          f"{'yes' if ok_gap else 'NO'} (ASHA is {pct(-gap)} off); "
          f"at most {100 * GOAL_SHARE:.0f} % of its epochs: "
          f"{'yes' if ok_share else 'NO'} ({100 * share:.1f} %)")
    print(f"GOAL {'MET' if ok_gap and ok_share else 'NOT MET'}")

    # --- determinism: same (trial, epoch) -> same value ---------------------------------
    pairs = [(t, e) for t, c in asha.items() for e in c]
    same = sum(1 for t, e in pairs
               if asha[t][e] == full[t][e] or (math.isnan(asha[t][e]) and math.isnan(full[t][e])))
    maxdiff = max((abs(asha[t][e] - full[t][e]) for t, e in pairs
                   if math.isfinite(asha[t][e]) and math.isfinite(full[t][e])), default=0.0)
    print(f"determinism: {same}/{len(pairs)} ASHA results equal the full arm's at the same "
          f"(trial, epoch) (largest difference {maxdiff:.3g})")

    # --- simulation over the full arm's curves ------------------------------------------
    sched = Scheduler(ha)
    agree = n = 0
    for t, e, d in asha_order:
        if d == "end":
            sched.on_trial_complete(t, e, full[t][e])
        else:
            n += 1
            agree += sched.on_trial_result(t, e, full[t][e]) == d
    print(f"simulation, the ASHA journal's order over the full arm's values: "
          f"{agree}/{n} decisions as recorded")
    trials = sorted(full)
    b, ep, _ = simulate(full, ha, trials, workers)
    print(f"simulation, trials in order on {workers} workers: best {b:.6f} "
          f"({pct(op * (b - sf['best_last'][0]) / abs(sf['best_last'][0]))}), "
          f"epochs {ep} ({100 * ep / sf['epochs']:.1f} %)")
    rng = random.Random(12345)
    bs, eps = [], []
    for _ in range(200):
        o = trials[:]
        rng.shuffle(o)
        b, ep, _ = simulate(full, ha, o, workers)
        bs.append(op * (b - sf["best_last"][0]) / abs(sf["best_last"][0]))
        eps.append(ep / sf["epochs"])
    bs, eps = np.array(bs), np.array(eps)
    print(f"simulation, 200 random trial orders on {workers} workers: gap to the full best "
          f"median {pct(np.median(bs))} (5-95 %: {pct(np.percentile(bs, 5))} .. "
          f"{pct(np.percentile(bs, 95))}), within 0.5 %: {100 * np.mean(bs >= -GOAL_GAP):.0f} % "
          f"of orders; epochs median {100 * np.median(eps):.1f} % "
          f"({100 * eps.min():.1f} .. {100 * eps.max():.1f} %)")

    # --- why: the full search's best trial, rank correlation, noise -------------------
    tb = sf["best_last"][1]
    fate = (f"trained {len(asha.get(tb, {}))} epochs ({asha_status.get(tb, 'not ended')})"
            if tb in asha else "never started")
    print(f"the full search's best trial {tb} ({full[tb][max_t]:.6f} at epoch {max_t}): "
          f"in the ASHA arm {fate}")
    finals = [full[t][max_t] for t in trials]
    rank_of = sorted(trials, key=lambda t: (not math.isfinite(full[t][max_t]),
                                            -op * full[t][max_t] if math.isfinite(full[t][max_t])
                                            else 0.0, t))
    tba = sa["best_last"][1]
    if tba is not None:
        print(f"ASHA's best trial {tba} is number {rank_of.index(tba) + 1} of {len(trials)} "
              f"in the full search (its value at epoch {max_t}: {full[tba][max_t]:.6f})")
    miles = [int(ha["grace_period"] * ha["reduction_factor"] ** k) for k in range(8)]
    miles = [m for m in miles if m < max_t]
    print("Spearman rank correlation of the value at a rung with the value at max_t: " +
          ", ".join(f"epoch {m}: {spearman([full[t][m] for t in trials], finals):.3f}"
                    for m in miles))
    top = rank_of[:10]
    steps = [abs(full[t][e + 1] - full[t][e]) for t in top for e in range(max_t // 2, max_t)
             if math.isfinite(full[t][e + 1]) and math.isfinite(full[t][e])]
    spread = np.ptp([full[t][max_t] for t in top])
    near = sum(1 for t in trials if math.isfinite(full[t][max_t]) and
               op * (full[t][max_t] - sf["best_last"][0]) >= -GOAL_GAP * abs(sf["best_last"][0]))
    print(f"noise: the top 10 trials' {metric} moves {np.median(steps):.4f} (median) from one "
          f"epoch to the next in the second half; their values at max_t span {spread:.4f}; "
          f"0.5 % of the best is {GOAL_GAP * abs(sf['best_last'][0]):.4f}; {near} of "
          f"{len(trials)} trials end within it")

    # --- other settings on the same curves (simulated) ---------------------------------
    print(f"simulated settings (200 random orders on {workers} workers each): "
          "grace_period, reduction_factor -> median gap, share of orders within 0.5 %, "
          "median epochs")
    for g in (1, 2, 3, 5):
        for r in (2.0, 3.0, 4.0):
            if g >= max_t:
                continue
            rng = random.Random(777)
            gs, es = [], []
            for _ in range(200):
                o = trials[:]
                rng.shuffle(o)
                b, ep, _ = simulate(full, ha, o, workers, grace=g, rf=r)
                gs.append(op * (b - sf["best_last"][0]) / abs(sf["best_last"][0]))
                es.append(ep / sf["epochs"])
            gs, es = np.array(gs), np.array(es)
            print(f"  grace {g} rf {r:g}: gap {pct(np.median(gs))}, within 0.5 % "
                  f"{100 * np.mean(gs >= -GOAL_GAP):3.0f} %, epochs {100 * np.median(es):5.1f} %")


if __name__ == "__main__":
    main()
