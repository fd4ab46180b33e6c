#!/usr/bin/env bash
# test_torch_equiv.sh — K training steps of hpcml's MLP (src/nn, through the
# CPU backend) against the same steps in PyTorch (nn.Linear/ReLU/GELU,
# CrossEntropyLoss with class weights, torch.optim SGD/Adam/AdamW,
# clip_grad_norm_) from the same initial weights and batches: the per-step
# losses and the final weights agree within float32 tolerance. The SHARDS
# runs cut every batch into pieces with gradient accumulation, the
# arithmetic of a data-parallel step, and must agree just the same.
# labels: nn python torch
# timeout: 300
# ranks: 1 (mpi_train_steps, no launcher)
# options: the helper program's arguments in the script (no config keys)
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
helper=$TBIN/mpi_train_steps
need_exe "$helper"
need_py_module torch

"$PY" - "$helper" "$TMP" <<'EOF'
import subprocess, sys
import numpy as np
import torch
from torch import nn

helper, tmp = sys.argv[1], sys.argv[2]
torch.set_num_threads(1)
torch.manual_seed(0)
rng = np.random.default_rng(7)
n_in, hidden, n_cls, rows, steps = 10, [16, 8], 3, 32, 12
failures = 0

def build(act):
    layers, w = [], n_in
    for h in hidden:
        layers += [nn.Linear(w, h), {1: nn.ReLU(), 2: nn.GELU()}[act]]
        w = h
    layers.append(nn.Linear(w, n_cls))
    return nn.Sequential(*layers)

# batches: separable-ish data so the loss moves; imbalanced classes, weights
x = rng.normal(size=(steps, rows, n_in)).astype(np.float32)
y = (np.argmax(x[:, :, :n_cls] + 0.5 * rng.normal(size=(steps, rows, n_cls)), axis=2)
     * (rng.random((steps, rows)) < 0.8)).astype(np.int32)
cw = np.array([0.5, 2.0, 1.5], dtype=np.float32)
x.tofile(f"{tmp}/x.f32"); y.tofile(f"{tmp}/y.i32"); cw.tofile(f"{tmp}/cw.f32")

#        opt     lr     wd    mom  nest clip  act shards
runs = [("sgd",  0.1,   0.0,  0.9, 0,   0.0,  1,  1),
        ("sgd",  0.05,  1e-3, 0.9, 1,   0.0,  2,  3),
        ("sgd",  0.2,   0.0,  0.0, 0,   0.3,  1,  4),
        ("adam", 0.01,  0.0,  0,   0,   0.0,  1,  1),
        ("adam", 0.005, 1e-2, 0,   0,   0.3,  2,  2),
        ("adamw", 0.01, 0.05, 0,   0,   0.0,  1,  5)]
for i, (opt, lr, wd, mom, nest, clip, act, shards) in enumerate(runs):
    model = build(act)
    flat = torch.cat([p.detach().flatten() for p in model.parameters()]).numpy()
    flat.astype(np.float32).tofile(f"{tmp}/init.f32")
    with open(f"{tmp}/meta.txt", "w") as f:
        f.write(f"{n_in} {n_cls} {rows} {steps} {act} {len(hidden)} {' '.join(map(str, hidden))}\n")
    out = f"{tmp}/run{i}"
    subprocess.run([helper, tmp, out, opt, repr(lr), repr(wd), repr(mom), str(nest), repr(clip),
                    str(shards)], check=True)

    if opt == "sgd":
        o = torch.optim.SGD(model.parameters(), lr=lr, momentum=mom, nesterov=bool(nest),
                            weight_decay=wd)
    elif opt == "adam":
        o = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd)
    else:
        o = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    loss_fn = nn.CrossEntropyLoss(weight=torch.from_numpy(cw))
    losses, clipped = [], 0
    for t in range(steps):
        o.zero_grad()
        loss = loss_fn(model(torch.from_numpy(x[t])), torch.from_numpy(y[t]).long())
        loss.backward()
        if clip > 0:
            clipped += float(nn.utils.clip_grad_norm_(model.parameters(), clip)) > clip
        o.step()
        losses.append(loss.item())
    ref = torch.cat([p.detach().flatten() for p in model.parameters()]).numpy()
    ours = np.fromfile(f"{out}.params.f32", dtype=np.float32)
    ours_loss = np.loadtxt(f"{out}.loss")
    tag = f"run {i} {opt} lr={lr} wd={wd} mom={mom} nest={nest} clip={clip} act={act} shards={shards}"
    loss_err = np.max(np.abs(ours_loss - losses) / np.abs(losses))
    w_err = np.max(np.abs(ours - ref) / (1e-5 + 1e-4 * np.abs(ref)))
    moved = np.max(np.abs(ref - flat))
    print(f"{tag}: loss {losses[0]:.4f} -> {losses[-1]:.4f}, max loss rel err {loss_err:.2e}, "
          f"weights moved {moved:.3f}, weight err / tol {w_err:.3f}, steps clipped {clipped}")
    if (ours.shape != ref.shape or loss_err > 1e-4 or w_err > 1.0 or not moved > 1e-2
            or (clip > 0 and clipped == 0)):
        failures += 1
        print(f"FAIL {tag}")
sys.exit(1 if failures else 0)
EOF
pass "hpcml training steps match PyTorch"
