#!/usr/bin/env python3
"""search_vs_optuna.py — the Optuna arm of benchmarks/search_vs_optuna.sh, and the summary.

usage: search_vs_optuna.py optuna HPCML_TRAIN CONFIG OUT_DIR TRIALS SEED MAX_T GRACE RF METRIC [-s k=v]...
       search_vs_optuna.py summary OUT_CSV OUT_SVG ARM=JOURNAL_OR_CSV...
       search_vs_optuna.py best JOURNAL_OR_CSV ARGS_FILE
       search_vs_optuna.py report DATASET_DIR METRIC GOAL_TRIALS TRIALS SEED...

optuna: Optuna 3.1's TPESampler(seed) with a SuccessiveHalvingPruner(min_resource=GRACE,
  reduction_factor=RF, min_early_stopping_rate=0) over the same space as hpcml-sweep's
  (configs/sweep_efficiency.cfg's sweep.space, restated in SPACE below), driving hpcml-train
  as the objective: `hpcml-train -c CONFIG -s train.epochs=k -s train.resume=auto` in the
  trial's own directory continues the trial's checkpoint to epoch k bit for bit (the
  benchmark uses a constant learning rate so that the schedule does not depend on
  train.epochs), and every epoch's METRIC (its metrics.jsonl record) is reported to Optuna
  with trial.report/should_prune after each, as in a per-epoch loop. By default one call
  trains up to the pruner's next rung (epochs 3, 9, then max_t for grace 3, rf 3), where its
  decisions fall; OPTUNA_CALLS=epoch makes one call per epoch, the same trials and values
  (checked: 12 trials, seed 1, identical trials.csv and per-epoch metrics, 18 calls
  against 82). Writes OUT_DIR/trials.csv (trial, state, epochs, last value, config) and,
  as it goes, trials.partial.csv.

summary: best-so-far curves (the best last reported value of trials 0..i, as Ray's
  get_best_trial(scope="last") and hpcml's best.cfg pick it), as CSV and SVG (matplotlib),
  and the number of trials each arm needs to reach the "random" arm's final best."""
import csv
import json
import math
import os
import subprocess
import sys

# configs/sweep_efficiency.cfg, sweep.space (the hpcml arms read it from the config)
SPACE = [
    ("train.lr", "loguniform", 1e-4, 1e-1),
    ("train.dropout", "uniform", 0.0, 0.5),
    ("train.hidden", "choice", ["[64]", "[128, 64]", "[256, 128]"]),
    ("train.batch_size", "choice", ["256", "512", "1024"]),
    ("train.optimizer", "choice", ['"adam"', '"adamw"']),
    ("train.weight_decay", "loguniform", 1e-6, 1e-2),
]


def run_optuna(argv):
    import optuna
    (train, cfg, out, trials, seed, max_t, grace, rf, metric), extra = argv[:9], argv[9:]
    trials, seed, max_t, grace = int(trials), int(seed), int(max_t), int(grace)
    rf = int(float(rf))  # Optuna's SuccessiveHalvingPruner takes an integer factor
    if os.path.exists(out):
        sys.exit(f"{out} exists (an interrupted Optuna arm?): remove it first")
    os.makedirs(out, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows, calls = [], [0]
    # The epochs at which one hpcml-train call ends. "epoch": one call per epoch, the protocol
    # as written. "rung" (default): one call up to each rung of the pruner (grace * rf^r) and
    # one to max_t. The same decisions: Optuna's SuccessiveHalvingPruner.prune returns False
    # at every step below the trial's next rung (grace * rf^rung) and decides from the value
    # at that step, and every epoch is still reported, so the sampler sees the same
    # intermediate values; only the process starts, dataset loads and checkpoint writes
    # between rungs are saved.
    if os.environ.get("OPTUNA_CALLS", "rung") == "epoch":
        stops = list(range(1, max_t + 1))
    else:
        stops, r = [], grace
        while r < max_t:
            stops.append(r)
            r *= rf
        stops.append(max_t)

    def objective(trial):
        s = []
        for d in SPACE:
            key, dist = d[0], d[1]
            if dist == "loguniform":
                v = repr(trial.suggest_float(key, d[2], d[3], log=True))
            elif dist == "uniform":
                v = repr(trial.suggest_float(key, d[2], d[3]))
            else:
                v = d[2][trial.suggest_categorical(key, list(range(len(d[2]))))]
            s += ["-s", f"{key}={v}"]
        tdir = os.path.join(out, f"trial-{trial.number:05d}")
        conf = dict(x.split("=", 1) for x in s[1::2])
        value, state, k, done = math.nan, "COMPLETE", 0, 0
        for end in stops:
            # epochs done+1..end in one call; the trainer continues its checkpoint
            cmd = [train, "-q", "-c", cfg, *extra, *s, "-s", f"train.epochs={end}",
                   "-s", "train.resume=\"auto\"", "-s", "train.evaluate=false",
                   "-s", f"train.output_dir=\"{tdir}\""]
            r = subprocess.run(cmd, capture_output=True, text=True, check=False)
            calls[0] += 1
            if r.returncode != 0:
                raise RuntimeError(f"hpcml-train failed ({r.returncode}): {r.stderr[-500:]}")
            with open(os.path.join(tdir, "metrics.jsonl")) as f:
                recs = {}
                for x in f:
                    if x.strip():
                        rec = json.loads(x)
                        recs[rec.get("epoch")] = rec  # the last record of an epoch
            pruned = False
            for k in range(done + 1, end + 1):  # every epoch reported, as one call per epoch would
                value = float(recs[k][metric])
                trial.report(value, k)
                if trial.should_prune():
                    pruned = True
                    break
            done = end
            if pruned:
                state = "PRUNED"
                break
        rows.append((trial.number, state, k, value, json.dumps(conf)))
        write_rows(os.path.join(out, "trials.partial.csv"), rows)  # what a cut run has
        if state == "PRUNED":
            raise optuna.TrialPruned()
        return value

    sampler = optuna.samplers.TPESampler(seed=seed)
    pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=grace, reduction_factor=rf,
                                                    min_early_stopping_rate=0)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    study.optimize(objective, n_trials=trials)
    write_rows(os.path.join(out, "trials.csv"), rows)
    print(f"{len(rows)} trials, {sum(r[2] for r in rows)} epochs, {calls[0]} calls of "
          f"hpcml-train (stops {stops})")


def write_rows(path, rows):
    with open(path + ".tmp", "w") as f:
        w = csv.writer(f)
        w.writerow(["trial", "state", "epochs", "value", "config"])
        w.writerows(rows)
    os.replace(path + ".tmp", path)


def best_so_far(values):
    out, best = [], -math.inf
    for v in values:
        if not math.isnan(v) and math.isfinite(v) and v > best:
            best = v
        out.append(best)
    return out


def summary(argv):
    out_csv, out_svg, arms = argv[0], argv[1], argv[2:]
    curves = {}
    for a in arms:
        name, path = a.split("=", 1)
        curves[name] = best_so_far([x[2] for x in trials_of(path)])
    with open(out_csv, "w") as f:
        w = csv.writer(f)
        w.writerow(["arm", "trial", "best_so_far"])
        for name, c in curves.items():
            for i, v in enumerate(c):
                w.writerow([name, i + 1, repr(v)])
    target = curves["random"][-1] if "random" in curves else None
    print(f"{'arm':<12} {'trials':>6} {'best':>10}  trials to reach random's best "
          f"({target!r})")
    for name, c in curves.items():
        reach = next((i + 1 for i, v in enumerate(c) if target is not None and v >= target),
                     None)
        print(f"{name:<12} {len(c):>6} {c[-1]:>10.6f}  {reach if reach else 'not reached'}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for name, c in curves.items():
            ax.step(range(1, len(c) + 1), c, where="post", label=name)
        if target is not None:
            ax.axhline(target, color="gray", lw=0.8, ls="--")
        ax.set_title(os.path.splitext(os.path.basename(out_svg))[0] +
                     " (best last value of a trial, trials in start order)", fontsize=10)
        ax.set_xlabel("trials started")
        ax.set_ylabel("best validation metric so far")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out_svg)
    except ImportError:
        print("no matplotlib: no SVG", file=sys.stderr)


def trials_of(path):
    """[(trial, epochs trained, last value, {key: libconfig text})] in trial order, from an
    hpcml journal or the Optuna arm's trials.csv."""
    if path.endswith(".csv"):
        with open(path) as f:
            rows = sorted(csv.DictReader(f), key=lambda r: int(r["trial"]))
        return [(int(r["trial"]), int(r["epochs"]), float(r["value"]),
                 json.loads(r.get("config") or "{}")) for r in rows]
    conf, curve, _ = journal_curves(path)
    return [(t, len(c), c[max(c)], conf.get(t, {})) for t, c in sorted(curve.items())]


def journal_curves(path):
    """({trial: config}, {trial: {iter: value}}, the sweep header) of an hpcml journal; a
    re-reported epoch keeps its first value, as the journal's replay does."""
    conf, curve, header = {}, {}, {}
    with open(path) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("event") == "sweep":
                header = header or r
            elif r.get("event") == "started":
                conf.setdefault(r["trial"], r.get("config", {}))
            elif r.get("event") == "result":
                curve.setdefault(r["trial"], {}).setdefault(r["iter"], float(r["value"]))
    return conf, curve, header


def rung_ranks(path):
    """For a full search's journal: its best trial (best last value), that trial's rank at
    each of ASHA's rungs (grace_period * reduction_factor^k < max_t) among all trials'
    values there, and the epochs a cut at the first rung that keeps it must train (every
    trial to the first rung, the trials ranked up to it on to max_t), as a share of the full
    search's epochs. Goal 3's 35 % can hold only where that share is <= 35 % or where
    another trial within one sd survives."""
    _, curve, h = journal_curves(path)
    sign = 1.0 if h.get("mode", "max") == "max" else -1.0
    grace, rf, max_t = float(h["grace_period"]), float(h["reduction_factor"]), float(h["max_t"])

    def key(v):
        return sign * v if math.isfinite(v) else -math.inf

    best = max(curve, key=lambda t: (key(curve[t][max(curve[t])]), -t))
    rungs, m = [], grace
    while m < max_t:
        rungs.append(int(math.ceil(m)))
        m *= rf
    ranks = []
    for it in rungs:
        order = sorted(curve, key=lambda t: (-key(curve[t].get(it, math.nan)), t))
        ranks.append(order.index(best) + 1)
    n, first = len(curve), rungs[0] if rungs else max_t
    share = (n * first + ranks[0] * (max_t - first)) / (n * max_t) if rungs else 1.0
    return best, list(zip(rungs, ranks)), n, share


def best(argv):
    """best SOURCE ARGS_FILE: the best trial (last value, NaN skipped) of an arm; writes the
    -s arguments that retrain it (its values, train.epochs = its last epoch) one a line."""
    src, args_file = argv
    rows = [r for r in trials_of(src) if math.isfinite(r[2])]
    t, epochs, value, conf = max(rows, key=lambda r: (r[2], -r[0]))
    with open(args_file, "w") as f:
        for k, v in list(conf.items()) + [("train.epochs", str(epochs))]:
            f.write(f"-s\n{k}={v}\n")
    print(f"{t} {epochs} {value!r}")


def test_metric(pred_path, metric):
    """(value on /test, bootstrap sd over 1000 resamples of the rows)"""
    import h5py
    import numpy as np
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from sweep_efficiency import average_precision, roc_auc
    fn = {"val_pr_auc": average_precision, "val_auc": roc_auc}[metric]
    with h5py.File(pred_path, "r") as f:
        y = f["label"][:].astype(np.int64)
        s = f["score"][:].astype(np.float64)
    rng = np.random.default_rng(0)
    boots = [fn(y[i], s[i]) for i in (rng.integers(0, len(y), len(y)) for _ in range(1000))]
    return fn(y, s), float(np.std(boots))


def med(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def fmt(x, f="{:.6f}"):
    return "–" if x is None else ("not reached" if x == math.inf else f.format(x))


def report(argv):
    """report DATASET_DIR METRIC GOAL_TRIALS TRIALS SEED...: the tables of docs/sweep.md, from
    what the runs left in DATASET_DIR/sSEED/. Arms that are missing are left out and arms
    with fewer than TRIALS trials are marked partial (an Optuna arm cut short, a pool still
    running), so a partial run reports what it has; the goals use finished arms only."""
    d, metric, goal_trials, n_trials, seeds = argv[0], argv[1], int(argv[2]), int(argv[3]), \
        argv[4:]
    arms = ["random", "tpe", "optuna", "full_random", "full_tpe"]
    src = {"random": "random/journal.jsonl", "tpe": "tpe/journal.jsonl",
           "optuna": "optuna/trials.csv", "full_random": "full_random/journal.jsonl",
           "full_tpe": "full_tpe/journal.jsonl"}
    per = {}
    for seed in seeds:
        r = {}
        for arm, rel in src.items():
            p = os.path.join(d, f"s{seed}", rel)
            if arm == "optuna" and not os.path.exists(p):  # a cut run: its trials so far
                p = p.replace("trials.csv", "trials.partial.csv")
            if os.path.exists(p):
                rows = trials_of(p)
                if rows:
                    r[arm] = {"n": len(rows), "epochs": sum(x[1] for x in rows),
                              "curve": best_so_far([x[2] for x in rows]),
                              "done": len(rows) >= n_trials and not p.endswith("partial.csv")}
            pred = os.path.join(d, f"s{seed}", f"eval-{arm}", "predictions.h5")
            if arm in r and r[arm]["done"] and os.path.exists(pred):
                r[arm]["test"], r[arm]["sd"] = test_metric(pred, metric)
        if "random" in r:
            target = r["random"]["curve"][-1]
            for a in r.values():
                a["reach"] = next((i + 1 for i, v in enumerate(a["curve"]) if v >= target),
                                  math.inf)
        per[seed] = r
    print(f"per seed ({metric}; best = best last value of a trial; reach = trials to reach "
          f"random's final best; test = that best config retrained and evaluated on /test, "
          f"± bootstrap sd over 1000 resamples of its rows):")
    print("| seed | arm | trials | best | reach | epochs | /test ± sd |")
    print("|---|---|---|---|---|---|---|")
    for seed, r in per.items():
        for arm in arms:
            if arm not in r:
                continue
            a = r[arm]
            t = (f"{a['test']:.4f} ± {a['sd']:.4f}" if "test" in a else "–")
            n = f"{a['n']}" if a["done"] else f"{a['n']} (partial)"
            print(f"| {seed} | {arm} | {n} | {a['curve'][-1]:.6f} | "
                  f"{fmt(a.get('reach'), '{:d}')} | {a['epochs']} | {t} |")
    print()
    print(f"medians over the seeds where the arm finished ({' '.join(seeds)}):")
    print("| arm | seeds | median best | median trials to reach random's best | "
          "median epochs | median /test |")
    print("|---|---|---|---|---|---|")
    for arm in arms:
        have = [r[arm] for r in per.values() if arm in r and r[arm]["done"]]
        if not have:
            continue
        print(f"| {arm} | {len(have)} | {fmt(med([a['curve'][-1] for a in have]))} | "
              f"{fmt(med([a.get('reach') for a in have]), '{:g}')} | "
              f"{fmt(med([a['epochs'] for a in have]), '{:g}')} | "
              f"{fmt(med([a.get('test') for a in have]), '{:.4f}')} |")
    print()
    reach = [r["tpe"]["reach"] for r in per.values()
             if "tpe" in r and r["tpe"]["done"] and "reach" in r["tpe"]]
    m = med(reach)
    if m is not None:
        print(f"GOAL 1 (TPE+ASHA reaches random's best within {goal_trials} trials, median of "
              f"{len(reach)} seeds): {'MET' if m <= goal_trials else 'NOT MET'} (median {m:g}; "
              f"per seed {', '.join(fmt(x, '{:d}') for x in reach)})")
    both = [(s, r["tpe"], r["optuna"]) for s, r in per.items()
            if "test" in r.get("tpe", {}) and "test" in r.get("optuna", {})]
    for s, t, o in both:
        print(f"GOAL 2, seed {s}: TPE's best on /test {t['test']:.4f} vs Optuna's "
              f"{o['test']:.4f}, bootstrap sd {t['sd']:.4f}: "
              f"{'MET' if t['test'] >= o['test'] - t['sd'] else 'NOT MET'} "
              f"(difference {(t['test'] - o['test']) / t['sd']:+.2f} sd)")
    if both:
        mt, mo = med([t["test"] for _, t, _ in both]), med([o["test"] for _, _, o in both])
        msd = med([t["sd"] for _, t, _ in both])
        ok = sum(t["test"] >= o["test"] - t["sd"] for _, t, o in both)
        print(f"GOAL 2 over {len(both)} seeds: median /test TPE {mt:.4f} vs Optuna {mo:.4f} "
              f"(median sd {msd:.4f}, difference {(mt - mo) / msd:+.2f} sd): "
              f"{'MET' if mt >= mo - msd else 'NOT MET'}; met on {ok} of {len(both)} seeds")
    for arm in ("random", "tpe"):
        rows = []
        for s, r in per.items():
            f, a = r.get("full_" + arm), r.get(arm)
            if not f or not a or not a["done"] or "sd" not in f:
                continue
            share = a["epochs"] / f["epochs"]
            gap = f["curve"][-1] - a["curve"][-1]
            ok = gap <= f["sd"] and share <= 0.35
            rows.append(ok)
            tgap = (f"; on /test {a['test'] - f['test']:+.4f}" if "test" in a else "")
            print(f"GOAL 3 ({arm}), seed {s}: ASHA's best {a['curve'][-1]:.6f} vs the full "
                  f"search's {f['curve'][-1]:.6f} (gap {gap:+.6f} = {gap / f['sd']:+.2f} "
                  f"bootstrap sd {f['sd']:.4f} of the full best on /test{tgap}), "
                  f"{100 * share:.1f} % of its epochs ({a['epochs']}/{f['epochs']}): "
                  f"{'MET' if ok else 'NOT MET'}")
        if rows:
            print(f"GOAL 3 ({arm}): met on {sum(rows)} of {len(rows)} seeds"
                  f"{'' if len(rows) == len(seeds) else f' (of {len(seeds)} asked: the rest did not finish)'}")
    for arm in ("full_random", "full_tpe"):
        for seed in seeds:
            p = os.path.join(d, f"s{seed}", arm, "journal.jsonl")
            if arm not in per[seed] or not per[seed][arm]["done"] or not os.path.exists(p):
                continue
            best_t, ranks, n, share = rung_ranks(p)
            where = ", ".join(f"{r} of {n} at epoch {it}" for it, r in ranks)
            print(f"RUNGS ({arm}), seed {seed}: its best, trial {best_t}, ranks {where}; a cut "
                  f"at the first rung that keeps it trains at least {100 * share:.1f} % of the "
                  f"full search's epochs")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "optuna":
        run_optuna(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "summary":
        summary(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "best":
        best(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "report":
        report(sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(1)
