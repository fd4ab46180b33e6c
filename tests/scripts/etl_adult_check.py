#!/usr/bin/env python3
"""etl_adult_check.py — an independent pandas computation of hpcml-etl's transform on UCI Adult.

  etl_adult_check.py holes SRC OUT      write a copy of SRC with some numeric cells set to '?'
  etl_adult_check.py check CFG H5 FILE...  recompute everything from FILE... and compare with H5

The transform is recomputed from the documentation (docs/etl.md), not from the C code:
rows in input order (row_id), the split hash u = mix64(mix64(seed) ^ row_id) with exact
per-class cut counts, imputation (mean / median / most frequent) and scaling (standard with the
sample std, min-max, none) fitted on the train split, vocabularies ordered by train count
descending then value, one-hot and index encodings, class counts and balanced weights.
Reads the HDF5 file with h5py only. Exits 1 with a list of differences.
"""
import sys

import h5py
import numpy as np
import pandas as pd

COLS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
        "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
        "hours-per-week", "native-country", "income"]
M64 = (1 << 64) - 1


def mix64(x):
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def holes(src, out):
    """Blank numeric cells on a fixed pattern so that imputation has work."""
    with open(src) as f, open(out, "w") as g:
        for i, line in enumerate(f):
            parts = line.rstrip("\n").split(", ")
            if len(parts) == 15:
                if i % 50 == 3:
                    parts[12] = "?"   # hours-per-week: median
                if i % 37 == 5:
                    parts[4] = "?"    # education-num: median (int)
                if i % 41 == 7:
                    parts[10] = "?"   # capital-gain: mean
                if i % 43 == 2:
                    parts[2] = "?"    # fnlwgt: mean, min-max scaled
                line = ", ".join(parts) + "\n"
            g.write(line)


def read_records(paths):
    rows = []
    for p in paths:
        with open(p) as f:
            for line in f:
                line = line.rstrip("\n").rstrip("\r")
                if line == "" or line.startswith("|"):
                    continue
                rows.append([c.strip() for c in line.split(", ")])
    df = pd.DataFrame(rows, columns=COLS)
    return df.replace({"?": None, "": None})


def check(cfg_path, h5_path, inputs):
    import re
    text = open(cfg_path).read()
    seed = int(re.search(r"split_seed\s*=\s*(\d+)", text).group(1))
    tf = float(re.search(r"train_fraction\s*=\s*([0-9.]+)", text).group(1))
    vf = float(re.search(r"val_fraction\s*=\s*([0-9.]+)", text).group(1))

    df = read_records(inputs)
    n = len(df)
    df["row_id"] = np.arange(n, dtype=np.int64)
    df["y"] = df["income"].isin([">50K", ">50K."]).astype(np.int32)
    numeric = {"age": "int", "fnlwgt": "float", "education-num": "int", "capital-gain": "float",
               "capital-loss": "float", "hours-per-week": "float"}
    for c in numeric:
        df[c] = pd.to_numeric(df[c]).astype(float)
    # age outside [17, 90] is filtered (none in Adult)
    df = df[df["age"].isna() | ((df["age"] >= 17) & (df["age"] <= 90))].copy()

    # split: exact per-class cut counts by the order of u
    seed_mix = mix64(seed)
    df["u"] = [mix64(seed_mix ^ int(r)) for r in df["row_id"]]
    df["split"] = -1
    tv = min(1.0, tf + vf)
    for c in (0, 1):
        idx = df.index[df["y"] == c]
        nc = len(idx)
        n_train = int(np.floor(nc * tf + 0.5))
        n_tv = int(np.floor(nc * tv + 0.5))
        order = df.loc[idx].sort_values("u").index
        df.loc[order[:n_train], "split"] = 0
        df.loc[order[n_train:n_tv], "split"] = 1
        df.loc[order[n_tv:], "split"] = 2
    train = df[df["split"] == 0]

    impute = {"age": "mean", "fnlwgt": "mean", "education-num": "median", "capital-gain": "mean",
              "capital-loss": "mean", "hours-per-week": "median"}
    scale = {"age": "standard", "fnlwgt": "minmax", "education-num": "standard",
             "capital-gain": "standard", "capital-loss": "none", "hours-per-week": "standard"}
    cats = {"workclass": ("onehot", "most_frequent", 1000), "education": ("onehot", "mean", 1000),
            "marital-status": ("index", "mean", 1000), "occupation": ("onehot", "mean", 1000),
            "relationship": ("onehot", "mean", 1000), "race": ("onehot", "mean", 1000),
            "sex": ("onehot", "mean", 1000), "native-country": ("onehot", "mean", 20)}

    errors = []

    def expect(cond, msg):
        if not cond:
            errors.append(msg)

    f = h5py.File(h5_path, "r")
    meta = f["meta"]
    features, offs, muls = [], [], []
    encoded = {}
    for c in COLS:
        if c == "income":
            continue
        g = meta["columns"][c]
        if c in numeric:
            vals = train[c]
            if impute[c] == "mean":
                imp = vals.mean()
            else:
                imp = vals.median()
            filled = vals.fillna(imp)
            mean, std = filled.mean(), filled.std(ddof=1)
            mn, mx = filled.min(), filled.max()
            if scale[c] == "standard":
                off, mul = mean, (1.0 / std if std > 0 else 1.0)
            elif scale[c] == "minmax":
                off, mul = mn, (1.0 / (mx - mn) if mx > mn else 1.0)
            else:
                off, mul = 0.0, 1.0
            got_imp = g.attrs["impute_value"]
            if impute[c] == "median":
                expect(got_imp == imp, f"{c}: median {got_imp!r} != pandas {imp!r}")
            else:
                expect(np.isclose(got_imp, imp, rtol=1e-13, atol=0), f"{c}: mean {got_imp!r} != {imp!r}")
            expect(np.isclose(g.attrs["mean"], mean, rtol=1e-12), f"{c}: mean {g.attrs['mean']} != {mean}")
            expect(np.isclose(g.attrs["std"], std, rtol=1e-10), f"{c}: std {g.attrs['std']} != {std}")
            expect(g.attrs["min"] == mn and g.attrs["max"] == mx, f"{c}: min/max differ")
            features.append(c)
            offs.append(off)
            muls.append(mul)
            encoded[c] = [((df[c].fillna(imp) - off) * mul).to_numpy()]
        else:
            enc, imp, cap = cats[c]
            counts = train[c].dropna().value_counts()
            items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].encode("utf-8")))[:cap]
            vocab = [v for v, _ in items]
            got = [s.decode("utf-8") if isinstance(s, bytes) else s for s in g["vocabulary"][:]]
            expect(got == ["<unknown>"] + vocab, f"{c}: vocabulary {got[:6]}... != {(['<unknown>'] + vocab)[:6]}...")
            index = {v: i + 1 for i, v in enumerate(vocab)}
            null_index = 1 if (imp == "most_frequent" and vocab) else 0
            idx = df[c].map(lambda v: null_index if v is None else index.get(v, 0)).to_numpy()
            if enc == "onehot":
                names = [f"{c}=<unknown>"] + [f"{c}={v}" for v in vocab]
                features += names
                offs += [0.0] * len(names)
                muls += [1.0] * len(names)
                encoded[c] = [(idx == k).astype(float) for k in range(len(names))]
            else:
                features.append(c)
                offs.append(0.0)
                muls.append(1.0)
                encoded[c] = [idx.astype(float)]
    got_names = [s.decode("utf-8") if isinstance(s, bytes) else s for s in meta["feature_names"][:]]
    expect(got_names == features, f"feature names differ: {len(got_names)} vs {len(features)}")
    expect(np.allclose(meta["scale_offset"][:], offs, rtol=1e-12, atol=0), "scale_offset differs")
    expect(np.allclose(meta["scale_mul"][:], muls, rtol=1e-12, atol=0), "scale_mul differs")

    X = np.column_stack([col for c in COLS if c in encoded for col in encoded[c]])
    for s, name in enumerate(["train", "val", "test"]):
        part = df[df["split"] == s]
        pos = np.flatnonzero((df["split"] == s).to_numpy())
        rid = f[name]["row_id"][:]
        expect(len(rid) == len(part), f"/{name}: {len(rid)} rows, pandas {len(part)}")
        if len(rid) != len(part):
            continue
        expect(np.array_equal(rid, part["row_id"].to_numpy()), f"/{name}/row_id differs")
        expect(np.array_equal(f[name]["y"][:], part["y"].to_numpy()), f"/{name}/y differs")
        want = X[pos].astype(np.float32)
        got = f[name]["X"][:]
        expect(got.shape == want.shape, f"/{name}/X shape {got.shape} != {want.shape}")
        if got.shape == want.shape:
            bad = ~np.isclose(got, want, rtol=2e-6, atol=2e-6)
            expect(not bad.any(), f"/{name}/X: {bad.sum()} values differ, first at "
                   f"{np.argwhere(bad)[:1].tolist()}: {got[bad][:3]} vs {want[bad][:3]}")
    cc = np.bincount(train["y"], minlength=2)
    expect(list(meta["class_counts"][:]) == list(cc), f"class_counts {meta['class_counts'][:]} != {cc}")
    w = len(train) / (2.0 * cc)
    expect(np.allclose(meta["class_weights"][:], w, rtol=1e-15), "class_weights differ")
    for k, v in (("rows_train", (df["split"] == 0).sum()), ("rows_val", (df["split"] == 1).sum()),
                 ("rows_test", (df["split"] == 2).sum())):
        expect(meta.attrs[k] == v, f"{k} {meta.attrs[k]} != {v}")
    if errors:
        print("\n".join("MISMATCH: " + e for e in errors))
        return 1
    print(f"ok: {n} rows, {len(features)} features, splits "
          f"{[(df['split'] == s).sum() for s in range(3)]} match pandas")
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "holes":
        holes(sys.argv[2], sys.argv[3])
        sys.exit(0)
    sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4:]))
