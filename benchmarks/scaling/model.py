#!/usr/bin/env python3
"""model.py — the cost model of docs/scaling.md: predicted step, ETL and sweep-journal times
on P nodes, from the constants below (measured on the 2-core machine where marked, else the
stated cluster assumptions). Prints the tables that docs/scaling.md quotes.

usage: model.py [--alpha-us 2] [--beta-gbs 10] [--node-gflops 400] [--journal-appends 200]"""
import argparse
import math


def mlp_params(layers):
    return sum(a * b + b for a, b in zip(layers, layers[1:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alpha-us", type=float, default=2.0, help="MPI latency per message, inter-node")
    ap.add_argument("--beta-gbs", type=float, default=10.0, help="link bandwidth, GB/s")
    ap.add_argument("--node-gflops", type=float, default=400.0, help="sgemm rate of one node on small GEMMs")
    ap.add_argument("--fs-gbs-per-ost", type=float, default=1.5)
    ap.add_argument("--fs-gbs-max", type=float, default=100.0)
    ap.add_argument("--journal-appends", type=float, default=200.0, help="locked appends/s of the shared FS")
    a = ap.parse_args()

    n_par = mlp_params([36, 256, 128, 2])  # the demo MLP
    n_bytes = 4 * n_par  # float32 gradient, one allreduce (bucket_kb 1024 > 167 KiB)
    alpha = a.alpha_us * 1e-6
    beta = 1.0 / (a.beta_gbs * 1e9)
    t_sample = 6 * n_par / (a.node_gflops * 1e9)  # forward 2, backward 4 flops per weight
    print("demo MLP 36-256-128-2: %d parameters, gradient %d bytes; %.2f us per sample per node"
          % (n_par, n_bytes, t_sample * 1e6))

    def ring(p):
        return 0.0 if p == 1 else 2 * (p - 1) * alpha + 2 * (p - 1) / p * n_bytes * beta

    def rabenseifner(p):
        return 0.0 if p == 1 else 2 * math.log2(p) * alpha + 2 * (p - 1) / p * n_bytes * beta

    print("\n## training step, one rank per node (BLAS threads inside the node)")
    print("| nodes | ring allreduce | Rabenseifner | weak, 512 rows/node: eff. ring / Rab. "
          "| weak, 4096 rows/node | strong, global batch 512: eff. ring / Rab. |")
    print("|---|---|---|---|---|---|")
    for p in (1, 2, 16, 64, 256, 512, 1024):
        r, t = ring(p), rabenseifner(p)
        c512, c4k, cs = 512 * t_sample, 4096 * t_sample, 512 / p * t_sample
        print("| %d | %.0f us | %.0f us | %.0f%% / %.0f%% | %.0f%% / %.0f%% | %.0f%% / %.0f%% |" % (
            p, r * 1e6, t * 1e6, 100 * c512 / (c512 + r), 100 * c512 / (c512 + t),
            100 * c4k / (c4k + r), 100 * c4k / (c4k + t), 100 * (512 * t_sample) / p / (cs + r) if p > 0 else 0,
            100 * (512 * t_sample) / p / (cs + t)))

    print("\n## ETL, 1e9 rows (~300 GB CSV in, ~205 GB dataset.h5 out), 32 ranks per node")
    rows, b_out = 1e9, 205.0
    parse_rank = 230e3  # rows/s per rank, measured (extract stage, 1 rank, 2-core machine)
    print("| nodes | read CSV (many files) | parse | write, stripe count 1 | write, stripe count -1 (all OSTs) |")
    print("|---|---|---|---|---|")
    for p in (1, 16, 64, 256, 512):
        # each node injects ~2 GB/s; the file system gives fs_gbs_max in all, one OST per stripe
        read = rows * 300.0 / (min(p * 2.0, a.fs_gbs_max) * 1e9)
        parse = rows / (p * 32 * parse_rank)
        w1 = rows * b_out / (min(p * 2.0, a.fs_gbs_per_ost) * 1e9)
        wall = rows * b_out / (min(p * 2.0, a.fs_gbs_max) * 1e9)
        print("| %d | %.1f s | %.1f s | %.0f s | %.1f s |" % (p, read, parse, w1, wall))

    print("\n## sweep journal: lock utilisation (appends/s demanded / %.0f appends/s available)"
          % a.journal_appends)
    print("| concurrent trials | epoch 60 s | epoch 10 s | epoch 1 s |")
    print("|---|---|---|---|")
    for trials in (16, 100, 256, 1024):
        cells = []
        for epoch in (60.0, 10.0, 1.0):
            demand = trials * (1.0 / epoch + 1.0 / 150.0)  # a result per epoch, a heartbeat per 150 s
            cells.append("%.0f%%" % (100 * demand / a.journal_appends))
        print("| %d | %s |" % (trials, " | ".join(cells)))


if __name__ == "__main__":
    main()
