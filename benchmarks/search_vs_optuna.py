#!/usr/bin/env python3
"""search_vs_optuna.py — the Optuna arm of benchmarks/search_vs_optuna.sh, and the summary.

usage: search_vs_optuna.py optuna HPCML_TRAIN CONFIG OUT_DIR TRIALS SEED MAX_T GRACE RF METRIC [-s k=v]...
       search_vs_optuna.py summary OUT_CSV OUT_SVG ARM=JOURNAL_OR_CSV...

optuna: Optuna 3.1's TPESampler(seed) with a SuccessiveHalvingPruner(min_resource=GRACE,
  reduction_factor=RF, min_early_stopping_rate=0) over the same space as hpcml-sweep's
  (configs/sweep_efficiency.cfg's sweep.space, restated in SPACE below), driving hpcml-train
  as the objective one epoch at a time: epoch k is `hpcml-train -c CONFIG -s train.epochs=k
  -s train.resume=auto` in the trial's own directory (the trainer continues its checkpoint
  bit for bit, so k calls train the same model as one run of k epochs; the benchmark uses a
  constant learning rate so that the schedule does not depend on train.epochs), and the
  value reported is the METRIC of that epoch's metrics.jsonl record. Writes OUT_DIR/trials.csv
  (trial, state, epochs, last value).

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
    rows = []

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
        value, state = math.nan, "COMPLETE"
        for k in range(1, max_t + 1):
            cmd = [train, "-q", "-c", cfg, *extra, *s, "-s", f"train.epochs={k}",
                   "-s", "train.resume=\"auto\"", "-s", "train.evaluate=false",
                   "-s", f"train.output_dir=\"{tdir}\""]
            r = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if r.returncode != 0:
                raise RuntimeError(f"hpcml-train failed ({r.returncode}): {r.stderr[-500:]}")
            with open(os.path.join(tdir, "metrics.jsonl")) as f:
                recs = [json.loads(x) for x in f if x.strip()]
            rec = [x for x in recs if x.get("epoch") == k][-1]
            value = float(rec[metric])
            trial.report(value, k)
            if trial.should_prune():
                state = "PRUNED"
                break
        rows.append((trial.number, state, k, value))
        if state == "PRUNED":
            raise optuna.TrialPruned()
        return value

    sampler = optuna.samplers.TPESampler(seed=seed)
    pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=grace, reduction_factor=rf,
                                                    min_early_stopping_rate=0)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    study.optimize(objective, n_trials=trials)
    with open(os.path.join(out, "trials.csv"), "w") as f:
        w = csv.writer(f)
        w.writerow(["trial", "state", "epochs", "value"])
        w.writerows(rows)


def last_values_journal(path):
    """trial -> last reported value, in trial order (hpcml journal)."""
    last = {}
    with open(path) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("event") == "result":
                v = r["value"]
                last[r["trial"]] = float(v) if not isinstance(v, str) else float(v)
    return [last[t] for t in sorted(last)]


def last_values_csv(path):
    with open(path) as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["trial"]))
    return [float(r["value"]) for r in rows]


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
        vals = last_values_csv(path) if path.endswith(".csv") else last_values_journal(path)
        curves[name] = best_so_far(vals)
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
        ax.set_xlabel("trials started")
        ax.set_ylabel("best validation metric so far")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out_svg)
    except ImportError:
        print("no matplotlib: no SVG", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "optuna":
        run_optuna(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "summary":
        summary(sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(1)
