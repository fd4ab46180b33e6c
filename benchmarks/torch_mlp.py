#!/usr/bin/env python3
"""torch_mlp.py — the seed's PyTorch MLP trainer on an hpcml dataset.h5, timed
the way hpcml-train reports samples/s, for benchmarks/train_vs_torch.sh.

usage: torch_mlp.py DATASET.h5 --threads T [--ddp N] [--epochs E] [--batch B]
                    [--hidden 256,128] [--dropout 0.3] [--lr 1e-3] [--select-best]
                    [--device cuda [--tf32]]

Prints one JSON line: {"mode": ..., "samples_per_s": best epoch, "epoch_s": [...],
"val_auc": ..., "test_auc": ...}. With --select-best the test AUC is that of the
epoch with the best validation AUC (as hpcml-train's evaluation.json), else of
the last epoch. Batches are drawn by indexing tensors with a random
permutation (faster than a DataLoader); with --ddp N the batch is split over N
gloo processes as DistributedDataParallel does (each with T threads).
With --device cuda (one process; scripts/device/check.sh) the data, model and
permutation live on the GPU, eager mode as the seed runs it, and each epoch
is timed between two torch.cuda.synchronize() calls; matrix products are
float32 (PyTorch's default) unless --tf32 allows TF32."""
import argparse
import json
import os
import time

import h5py
import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn


def build(features, hidden, dropout, classes):
    layers, prev = [], features
    for h in hidden:
        layers += [nn.Linear(prev, h), nn.ReLU(), nn.Dropout(dropout)]
        prev = h
    layers.append(nn.Linear(prev, classes))
    return nn.Sequential(*layers)


def load(path):
    with h5py.File(path, "r") as f:
        x = torch.from_numpy(f["train/X"][:])
        y = torch.from_numpy(f["train/y"][:].astype(np.int64))
        vx = torch.from_numpy(f["val/X"][:])
        vy = f["val/y"][:]
        tx = torch.from_numpy(f["test/X"][:])
        ty = f["test/y"][:]
        classes = int(f["meta"].attrs["n_classes"])
    return x, y, vx, vy, tx, ty, classes


def auc(scores, labels):
    from sklearn.metrics import roc_auc_score
    return float(roc_auc_score(labels, scores)) if labels.min() != labels.max() else float("nan")


def train(rank, world, a, result_path=None):
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if world > 1:
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", "29517")
        dist.init_process_group("gloo", rank=rank, world_size=world)
    x, y, vx, vy, tx, ty, classes = load(a.dataset)
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = a.tf32
        torch.backends.cudnn.allow_tf32 = a.tf32
        x, y, vx, tx = x.to(dev), y.to(dev), vx.to(dev), tx.to(dev)
    model = build(x.shape[1], a.hidden, a.dropout, classes).to(dev)
    if world > 1:
        model = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()
    n, B = x.shape[0], a.batch
    steps = (n + B - 1) // B
    lo, hi = B * rank // world, B * (rank + 1) // world
    times = []
    best_val, test_auc = float("-inf"), float("nan")

    def scores_of(data):
        model.eval()
        with torch.no_grad():
            return torch.softmax(model(data), dim=1)[:, 1].cpu().numpy()

    for epoch in range(a.epochs):
        g = torch.Generator().manual_seed(a.seed + epoch)
        perm = torch.randperm(n, generator=g)
        perm = torch.cat([perm, perm[: steps * B - n]]).to(dev)
        model.train()
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for s in range(steps):
            idx = perm[s * B + lo: s * B + hi]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
        if a.select_best:
            v = auc(scores_of(vx), vy)
            if v > best_val:
                best_val, test_auc = v, auc(scores_of(tx), ty)
    val_auc = auc(scores_of(vx), vy)
    if not a.select_best:
        test_auc = auc(scores_of(tx), ty)
    if rank == 0:
        mode = f"ddp{world}x{a.threads}t" if world > 1 else f"torch{a.threads}t"
        if cuda:
            mode = "torch-cuda-" + ("tf32" if a.tf32 else "fp32")
        rec = {"mode": mode,
               "samples_per_s": steps * B / min(times), "epoch_s": times,
               "val_auc": val_auc, "test_auc": test_auc}
        line = json.dumps(rec)
        if result_path:
            with open(result_path, "w") as f:
                f.write(line)
        else:
            print(line)
    if world > 1:
        dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ddp", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--hidden", type=lambda s: [int(v) for v in s.split(",")], default=[256, 128])
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--select-best", action="store_true")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tf32", action="store_true")
    a = ap.parse_args()
    if a.device != "cpu" and a.ddp > 1:
        ap.error("--device cuda runs one process (no --ddp)")
    if a.ddp > 1:
        import tempfile
        with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
            mp.spawn(train, args=(a.ddp, a, tmp.name), nprocs=a.ddp, join=True)
            print(open(tmp.name).read())
    else:
        train(0, 1, a)


if __name__ == "__main__":
    main()
