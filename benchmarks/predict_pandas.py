"""predict_pandas.py — the peer of hpcml-predict for benchmarks/predict_vs_pandas.sh:
pandas reads the CSV files, the transform is applied from model.h5's /meta (imputation
value, scale offset/mul, one-hot from the vocabulary, unknown slot for unseen values), the
MLP runs in PyTorch (Debian's python3-torch) from model.h5's weights, and the same CSV
(prob_<class>..., predicted label text) is written. Reads only model.h5 and the CSV.

usage: predict_pandas.py MODEL OUTPUT CSV...
"""
import sys

import h5py
import numpy as np
import pandas as pd
import torch

model, output, inputs = sys.argv[1], sys.argv[2], sys.argv[3:]
torch.set_num_threads(1)
f = h5py.File(model, "r")
meta = f["meta"]
cols = []
for g in meta["columns"].values():
    nf = int(g.attrs["n_features"])
    if nf > 0:
        cols.append((int(g.attrs["first_feature"]), g))
cols.sort(key=lambda c: c[0])
offset, mul = meta["scale_offset"][:], meta["scale_mul"][:]
n_features = len(offset)
widths = f["model/widths"][:]
layers = []
for k in range(len(widths) - 1):
    lin = torch.nn.Linear(int(widths[k]), int(widths[k + 1]))
    lin.weight.data = torch.from_numpy(f[f"model/layer{k}.weight"][:])
    lin.bias.data = torch.from_numpy(f[f"model/layer{k}.bias"][:])
    layers.append(lin)
    if k + 2 < len(widths):
        layers.append(torch.nn.ReLU() if f["model"].attrs["activation"] in ("relu", b"relu") else torch.nn.GELU())
net = torch.nn.Sequential(*layers).eval()
classes = [c.decode() if isinstance(c, bytes) else c for c in f["class_names"][:]]
threshold = float(f.attrs["threshold"])

df = pd.concat([pd.read_csv(p, dtype={g.attrs["name"]: str for _, g in cols
                                      if g.attrs["type"] in ("category", b"category")})
                for p in inputs], ignore_index=True)
x = np.zeros((len(df), n_features), dtype=np.float32)
for first, g in cols:
    name = g.attrs["name"]
    name = name.decode() if isinstance(name, bytes) else name
    if g.attrs["type"] in ("category", b"category"):
        vocab = [v.decode() if isinstance(v, bytes) else v for v in g["vocabulary"][:]]
        index = {v: i for i, v in enumerate(vocab) if i > 0}
        idx = df[name].map(index)
        idx = idx.where(df[name].notna(), int(g.attrs["impute_value"])).fillna(0).astype(np.int64)
        x[np.arange(len(df)), first + idx.to_numpy()] = 1.0
    else:
        v = df[name].to_numpy(dtype=np.float64)
        v = np.where(np.isnan(v), float(g.attrs["impute_value"]), v)
        x[:, first] = ((v - offset[first]) * mul[first]).astype(np.float32)
with torch.no_grad():
    prob = torch.softmax(net(torch.from_numpy(x)), dim=1).numpy()
pred = np.where(prob[:, 1] >= threshold, classes[1], classes[0])
out = pd.DataFrame({f"prob_{c}": prob[:, i] for i, c in enumerate(classes)})
out["predicted"] = pred
out.to_csv(output, index=False, float_format="%.9g")
