#!/usr/bin/env python3
"""etl_pandas.py — the work of hpcml-etl on configs/demo.cfg, done with pandas + h5py.

  etl_pandas.py OUT.h5 CSV...

Reads the CSV shards, checks Amount >= 0, splits 70/15/15 stratified by the same per-row hash
as hpcml-etl (docs/etl.md), imputes means and standardizes the numeric columns with train
statistics, one-hot encodes Cat1 with the train vocabulary (plus an unknown slot), hashes the
inputs with SHA-256, and writes /train, /val, /test X (float32), y, row_id with h5py. Prints the
seconds spent (after the imports) as the last line.
"""
import hashlib
import sys
import time

import h5py
import numpy as np
import pandas as pd

t0 = time.perf_counter()
out, files = sys.argv[1], sys.argv[2:]
df = pd.concat([pd.read_csv(f, na_values=["", "NA", "?", "null", "unknown"],
                            keep_default_na=False) for f in files], ignore_index=True)
df["row_id"] = np.arange(len(df), dtype=np.int64)
df = df[df["Amount"].isna() | (df["Amount"] >= 0)]
y = df["Class"].to_numpy(np.int32)

# split: u = mix64(mix64(seed) ^ row_id), exact per-class cut counts
M = np.uint64(0xFFFFFFFFFFFFFFFF)


def mix64(x):
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


seed = mix64(np.array([7], dtype=np.uint64))[0]
u = mix64(df["row_id"].to_numpy(np.uint64) ^ seed)
split = np.full(len(df), 2, dtype=np.int8)
for c in (0, 1):
    idx = np.flatnonzero(y == c)
    order = idx[np.argsort(u[idx], kind="stable")]
    n_train = int(np.floor(len(idx) * 0.7 + 0.5))
    n_tv = int(np.floor(len(idx) * 0.85 + 0.5))
    split[order[:n_train]] = 0
    split[order[n_train:n_tv]] = 1
train = split == 0

num = [c for c in df.columns if c not in ("Cat1", "Class", "row_id")]
X = df[num].to_numpy(np.float64)
means = np.nanmean(X[train], axis=0)
X = np.where(np.isnan(X), means, X)
std = X[train].std(axis=0, ddof=1)
X = (X - X[train].mean(axis=0)) / np.where(std > 0, std, 1.0)
counts = df.loc[train, "Cat1"].value_counts()
vocab = sorted(counts.index, key=lambda v: (-counts[v], v))
index = {v: i + 1 for i, v in enumerate(vocab)}
cat_idx = df["Cat1"].map(index).fillna(0).to_numpy(np.int64)
onehot = np.zeros((len(df), len(vocab) + 1), dtype=np.float32)
onehot[np.arange(len(df)), cat_idx] = 1
features = np.hstack([X.astype(np.float32), onehot])
sha = [hashlib.sha256(open(f, "rb").read()).hexdigest() for f in files]

row_id = df["row_id"].to_numpy()
with h5py.File(out, "w") as f:
    for s, name in enumerate(("train", "val", "test")):
        m = split == s
        g = f.create_group(name)
        g.create_dataset("X", data=features[m], chunks=(min(16384, max(1, int(m.sum()))), features.shape[1]))
        g["y"] = y[m]
        g["row_id"] = row_id[m]
    f["meta/source_sha256"] = sha
    f["meta/feature_names"] = num + [f"Cat1={v}" for v in ["<unknown>"] + vocab]
print(f"{time.perf_counter() - t0:.3f}")
