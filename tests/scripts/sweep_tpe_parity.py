#!/usr/bin/env python3
"""sweep_tpe_parity.py HELPER — hpcml's TPE Parzen estimator (src/sweep/tpe.c,
through the test helper mpi_tpe_logpdf) against Optuna 3.1's own
_ParzenEstimator: the same observations, the same points, log densities equal
within 1e-9. Cases: float, log float, int, stepped int and float, log int,
categorical; univariate (one parameter) and multivariate (several, more than
25 observations so the weight ramp is used); no observations; another prior
weight. Exit 0 when all agree, 1 otherwise, 77 without Optuna."""
import json
import subprocess
import sys

import numpy as np

try:
    import optuna
    from optuna import distributions as D
    from optuna.samplers._tpe.parzen_estimator import (_ParzenEstimator,
                                                       _ParzenEstimatorParameters)
    from optuna.samplers._tpe.sampler import default_weights
except ImportError:
    print("SKIP: python3-optuna is not installed", file=sys.stderr)
    sys.exit(77)


def describe(dist):
    if isinstance(dist, D.CategoricalDistribution):
        return {"kind": "categorical", "n_choices": len(dist.choices)}
    if isinstance(dist, D.FloatDistribution):
        if dist.step is not None:
            return {"kind": "discrete", "low": dist.low, "high": dist.high, "q": dist.step}
        return {"kind": "float", "log": dist.log, "low": dist.low, "high": dist.high}
    if dist.log:
        return {"kind": "float", "log": True, "int": True, "low": dist.low, "high": dist.high}
    return {"kind": "discrete", "low": dist.low, "high": dist.high, "q": dist.step}


def draw(rng, dist, n, distinct=False):
    """n values of dist; distinct: no two equal. Past 25 observations the
    kernels' weights differ, and which of two equal observations gets which
    bandwidth follows np.argsort's order of ties, which depends on numpy's
    build (AVX-512 or not); hpcml keeps ties in observation order."""
    if distinct:
        out = []
        while len(out) < n:
            x = draw(rng, dist, 1)[0]
            if x not in out:
                out.append(x)
        return np.array(out, dtype=float)
    if isinstance(dist, D.CategoricalDistribution):
        return rng.randint(0, len(dist.choices), n).astype(float)
    if isinstance(dist, D.FloatDistribution):
        if dist.log:
            return np.exp(rng.uniform(np.log(dist.low), np.log(dist.high), n))
        if dist.step is not None:
            k = rng.randint(0, int(round((dist.high - dist.low) / dist.step)) + 1, n)
            return dist.low + k * dist.step
        return rng.uniform(dist.low, dist.high, n)
    if dist.log:
        return np.round(np.exp(rng.uniform(np.log(dist.low), np.log(dist.high), n)))
    k = rng.randint(0, (dist.high - dist.low) // dist.step + 1, n)
    return (dist.low + k * dist.step).astype(float)


SPACES = {
    "lr": D.FloatDistribution(1e-5, 1e-1, log=True),
    "dropout": D.FloatDistribution(0.0, 0.5),
    "dropout_q": D.FloatDistribution(0.0, 0.5, step=0.05),
    "epochs": D.IntDistribution(2, 9),
    "batch": D.IntDistribution(128, 2048, step=128),
    "units": D.IntDistribution(1, 1000, log=True),
    "opt": D.CategoricalDistribution(["adam", "adamw", "sgd", "rmsprop"]),
}


def cases():
    rng = np.random.RandomState(20260101)
    out = []
    for name, dist in SPACES.items():  # univariate, as TPESampler's default
        grid = {"dropout_q": 11, "epochs": 8, "batch": 16, "opt": 4}.get(name, 10**9)
        for n_obs in (0, 1, 3, 9, 31):
            if n_obs <= 25 or n_obs <= grid or name == "opt":
                out.append(([name], n_obs, False, 1.0))
        if grid < 31 and name != "opt":  # past 25 observations with ties: equal weights only
            out.append(([name], 20, False, 1.0))
    out.append((["lr", "epochs", "opt", "dropout"], 30, True, 1.0))
    out.append((["batch", "units", "dropout_q"], 7, True, 1.0))
    out.append((["lr", "opt"], 12, False, 1.0))  # several params, non-multivariate sigmas
    out.append((["dropout"], 10, False, 0.5))
    out.append((["opt"], 10, False, 2.0))
    for names, n_obs, mv, pw in out:
        space = {k: SPACES[k] for k in names}
        # categorical kernels have no bandwidth, multivariate ones all the same
        # bandwidth: ties matter only for univariate numeric kernels
        obs = {k: draw(rng, space[k], n_obs, distinct=n_obs > 25 and not mv and
                       not isinstance(space[k], D.CategoricalDistribution)) for k in names}
        # The same holds for an observation equal to the prior's mu (the
        # range's centre) once numpy sorts more than 16 kernels by quicksort
        # instead of its stable insertion sort: which of the two keeps which
        # bandwidth then depends on numpy's build. Move such observations.
        for k in names:
            d = space[k]
            if mv or n_obs + 1 <= 16 or isinstance(d, D.CategoricalDistribution) or d.log:
                continue
            centre = 0.5 * (d.low + d.high)
            while np.any(obs[k] == centre):
                obs[k][obs[k] == centre] = draw(rng, d, int(np.sum(obs[k] == centre)))
        pts = {k: np.concatenate([draw(rng, space[k], 40), obs[k][:5]]) for k in names}
        yield space, obs, pts, mv, pw


def main():
    helper = sys.argv[1]
    lines, expected = [], []
    for space, obs, pts, mv, pw in cases():
        params = _ParzenEstimatorParameters(True, pw, True, False, default_weights, mv)
        pe = _ParzenEstimator(obs, space, params)
        # Optuna indexes its categorical weights with the points: integers there
        expected.append(pe.log_pdf({k: v.astype(int) if isinstance(space[k], D.CategoricalDistribution)
                                    else v for k, v in pts.items()}))
        names = list(space)
        lines.append(json.dumps({
            "params": [describe(space[k]) for k in names],
            "multivariate": mv, "prior_weight": pw,
            "obs": [[float(obs[k][i]) for k in names] for i in range(len(obs[names[0]]))],
            "points": [[float(pts[k][i]) for k in names] for i in range(len(pts[names[0]]))],
        }))
    res = subprocess.run([helper], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, check=False)
    if res.returncode != 0:
        print(res.stderr, file=sys.stderr)
        sys.exit(1)
    got = [json.loads(l)["log_pdf"] for l in res.stdout.splitlines()]
    worst, bad = 0.0, 0
    for i, (e, g) in enumerate(zip(expected, got)):
        g = np.array([float(v) for v in g])
        same_inf = np.isinf(e) & np.isinf(g) & (np.sign(e) == np.sign(g))
        diff = np.where(same_inf, 0.0, np.abs(e - g))
        worst = max(worst, float(np.max(diff)))
        if not np.all(diff <= 1e-9):
            bad += 1
            j = int(np.argmax(diff))
            print(f"case {i}: point {j}: optuna {e[j]!r}, hpcml {g[j]!r}", file=sys.stderr)
    n = len(expected)
    if len(got) != n:
        print(f"helper answered {len(got)} of {n} cases", file=sys.stderr)
        sys.exit(1)
    print(f"TPE parity with Optuna {optuna.__version__}: {n} cases, "
          f"{sum(len(e) for e in expected)} points, largest |difference| {worst:.3g}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
