#!/usr/bin/env python3
"""etl_quantile_check.py — hpcml-etl's quantile transform against scikit-learn's.

  etl_quantile_check.py H5 COLUMNS FILE...

COLUMNS: comma-separated numeric Adult columns written with scale = "quantile". For each, fits
sklearn.preprocessing.QuantileTransformer(n_quantiles=1000, output_distribution="normal",
subsample above the row count, so its quantiles are exact too) on the raw non-null values of
the rows H5 has in /train (by row_id), and compares:
  - its quantiles_ with /meta/columns/<c>/quantiles: relative 1e-9 of the column's range
    (numpy's percentile computes p_k as k * (1/(n_q - 1)) * 100 / 100, hpcml as k / (n_q - 1):
    the position (n - 1) p_k may differ in its last bits, which moves a lerped quantile by
    ~1e-11 of the gap between two order statistics);
  - its transform of every row's raw value (nulls first set to the column's impute_value)
    with H5's X column in all three splits: absolute 1e-5 (X is float32, half an ulp at
    |z| <= 5.2 is 2.4e-7; scipy's norm.ppf is not AS241, and the p_k above differ, both by
    ~1e-15 before the cast; 1e-5 leaves room and still catches any rule difference, which
    moves z by 1e-3 or more).
Reads HDF5 with h5py only. Exits 1 with the differences.
"""
import os
import sys

import h5py
import numpy as np
from sklearn.preprocessing import QuantileTransformer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from etl_adult_check import read_records  # noqa: E402


def main(h5_path, columns, inputs):
    df = read_records(inputs)
    errors = []
    with h5py.File(h5_path, "r") as f:
        train_ids = f["train/row_id"][:]
        for c in columns:
            g = f["meta/columns"][c]
            scale = g.attrs["scale"]
            scale = scale.decode() if isinstance(scale, bytes) else scale
            if scale != "quantile":
                errors.append(f"{c}: scale is {scale!r}")
                continue
            raw = df[c].astype(float).to_numpy()
            qt = QuantileTransformer(n_quantiles=1000, output_distribution="normal",
                                     subsample=10 * len(raw) + 10**6)
            qt.fit(raw[train_ids].reshape(-1, 1))
            ours = g["quantiles"][:]
            ref = qt.quantiles_[:, 0]
            if ours.shape != ref.shape:
                errors.append(f"{c}: {ours.shape[0]} quantiles, sklearn {ref.shape[0]}")
                continue
            span = max(ref[-1] - ref[0], 1.0)
            dq = np.max(np.abs(ours - ref)) / span
            if dq > 1e-9:
                k = int(np.argmax(np.abs(ours - ref)))
                errors.append(f"{c}: quantile {k}: {ours[k]!r} vs sklearn {ref[k]!r}")
            imp = float(g.attrs["impute_value"])
            j = int(g.attrs["first_feature"])
            worst = 0.0
            for split in ("train", "val", "test"):
                ids = f[split]["row_id"][:]
                x = raw[ids].copy()
                x[np.isnan(x)] = imp
                want = qt.transform(x.reshape(-1, 1))[:, 0]
                got = f[split]["X"][:, j].astype(np.float64)
                d = np.abs(got - want)
                worst = max(worst, float(d.max()) if d.size else 0.0)
                if d.size and d.max() > 1e-5:
                    i = int(np.argmax(d))
                    errors.append(f"{c} /{split} row_id {ids[i]}: x = {x[i]!r}: "
                                  f"hpcml {got[i]!r}, sklearn {want[i]!r}")
            print(f"{c}: {ours.shape[0]} quantiles, max |diff|/range {dq:.2e}; "
                  f"features max |diff| {worst:.2e}")
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2].split(","), sys.argv[3:]))
