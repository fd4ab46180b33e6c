#!/usr/bin/env python3
"""make_train_dataset.py — write a small dataset.h5 in the hpcml-etl layout
(io/dataset_layout.h) for the trainer's tests, without running the ETL.

usage: make_train_dataset.py OUT.h5 [--train N] [--val N] [--test N]
                             [--features F] [--classes C] [--positive P] [--seed S]

Features are standard normal; the label depends on a fixed random linear
and quadratic function of them plus noise, so an MLP can learn it and the
metrics are far from trivial. Binary labels have roughly P positives."""
import argparse

import h5py
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--train", type=int, default=4000)
    ap.add_argument("--val", type=int, default=1000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--features", type=int, default=12)
    ap.add_argument("--classes", type=int, default=2)
    ap.add_argument("--positive", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-row-id", action="store_true")
    a = ap.parse_args()

    rng = np.random.default_rng(a.seed)
    n = a.train + a.val + a.test
    F, C = a.features, a.classes
    x = rng.standard_normal((n, F)).astype(np.float32)
    w = rng.standard_normal((F, C))
    q = rng.standard_normal((F, C)) * 0.3
    logits = x @ w + (x * x) @ q + 0.5 * rng.standard_normal((n, C))
    if C == 2:
        s = logits[:, 1] - logits[:, 0]
        y = (s > np.quantile(s, 1.0 - a.positive)).astype(np.int32)
    else:
        y = logits.argmax(axis=1).astype(np.int32)

    with h5py.File(a.out, "w") as f:
        f.attrs["hpcml_format"] = "hpcml-dataset"
        f.attrs["format_version"] = np.int32(1)
        cuts = {"train": (0, a.train), "val": (a.train, a.train + a.val),
                "test": (a.train + a.val, n)}
        for name, (lo, hi) in cuts.items():
            g = f.create_group(name)
            rows = hi - lo
            g.create_dataset("X", data=x[lo:hi], chunks=(max(1, min(rows, 1024)), F) if rows else None,
                             maxshape=(None, F))
            g.create_dataset("y", data=y[lo:hi], maxshape=(None,))
            if not a.no_row_id:
                g.create_dataset("row_id", data=np.arange(lo, hi, dtype=np.int64))
        m = f.create_group("meta")
        counts = np.bincount(y[: a.train], minlength=C).astype(np.int64)
        m.create_dataset("class_counts", data=counts)
        m.create_dataset("class_weights",
                         data=(a.train / (C * np.maximum(counts, 1))).astype(np.float64))
        m.create_dataset("feature_names", data=np.array([f"f{i}" for i in range(F)], dtype=object),
                         dtype=h5py.string_dtype())
        m.create_dataset("class_names", data=np.array([str(c) for c in range(C)], dtype=object),
                         dtype=h5py.string_dtype())
        for k, v in (("n_features", F), ("n_classes", C), ("rows_train", a.train),
                     ("rows_val", a.val), ("rows_test", a.test)):
            m.attrs[k] = np.int64(v)


if __name__ == "__main__":
    main()
