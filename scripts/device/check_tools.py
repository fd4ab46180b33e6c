#!/usr/bin/env python3
"""check_tools.py — the figures and verdicts of scripts/device/check.sh
(standard library only: it runs under the GPU image's python3 and in the
clean root's bare one).

  compare REF.jsonl RUN.jsonl LOSS_RTOL AUC_ATOL
        hpcml-train metrics of two runs of the same model, epoch by epoch:
        train_loss within LOSS_RTOL relative, val_auc and val_pr_auc within
        AUC_ATOL absolute; exit 1 when not
  trains REF.jsonl RUN.jsonl AUC_ATOL
        RUN's training loss fell and its last val_auc is within AUC_ATOL of
        REF's last (a lower-precision run against the fp32 one)
  rate METRICS.jsonl            best epoch's samples/s
  bench LOG                     gpu_bench's lines -> figures
  torch JSONLINE                torch_mlp.py's record -> figures
  summary STEPS_DIR OUT.json MODE SECONDS
        the summary JSON of the steps check.sh ran
Figures are printed as "key<TAB>value" lines and appended to $FIG when set."""
import json
import math
import os
import re
import sys


def figure(key, value):
    line = f"{key}\t{value}"
    print(line)
    if os.environ.get("FIG"):
        with open(os.environ["FIG"], "a") as f:
            f.write(line + "\n")


def epochs(path):
    return [r for r in map(json.loads, open(path)) if "train_loss" in r]


def close(a, b, rtol=None, atol=None):
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        return False
    if rtol is not None:
        return abs(a - b) <= rtol * max(abs(a), abs(b), 1e-12)
    return abs(a - b) <= atol


def compare(ref_path, run_path, loss_rtol, auc_atol):
    ref, run = epochs(ref_path), epochs(run_path)
    ok = len(ref) == len(run) and len(ref) > 0
    if not ok:
        print(f"epochs: reference {len(ref)}, run {len(run)}")
    worst = {"train_loss": 0.0, "val_auc": 0.0, "val_pr_auc": 0.0}
    for e, (a, b) in enumerate(zip(ref, run)):
        for key in worst:
            x, y = a.get(key), b.get(key)
            good = close(x, y, rtol=loss_rtol) if key == "train_loss" else close(x, y, atol=auc_atol)
            if x is not None and y is not None:
                d = abs(x - y) / max(abs(x), abs(y), 1e-12) if key == "train_loss" else abs(x - y)
                worst[key] = max(worst[key], d)
            if not good:
                print(f"epoch {e + 1}: {key} {x} vs {y} (out of tolerance)")
                ok = False
    figure("epochs", len(run))
    figure("max_train_loss_rel_diff", f"{worst['train_loss']:.3g}")
    figure("max_val_auc_diff", f"{worst['val_auc']:.3g}")
    figure("max_val_pr_auc_diff", f"{worst['val_pr_auc']:.3g}")
    if ref:
        figure("ref_last_val_auc", ref[-1].get("val_auc"))
    if run:
        figure("run_last_val_auc", run[-1].get("val_auc"))
    return 0 if ok else 1


def trains(ref_path, run_path, auc_atol):
    ref, run = epochs(ref_path), epochs(run_path)
    if not run or not ref:
        print("no epochs")
        return 1
    figure("first_train_loss", run[0]["train_loss"])
    figure("last_train_loss", run[-1]["train_loss"])
    figure("last_val_auc", run[-1].get("val_auc"))
    figure("fp32_last_val_auc", ref[-1].get("val_auc"))
    figure("samples_per_s", round(max(r["samples_per_s"] for r in run)))
    ok = len(run) > 1 and run[-1]["train_loss"] < run[0]["train_loss"]
    if not ok:
        print("the training loss did not fall")
    if not close(run[-1].get("val_auc"), ref[-1].get("val_auc"), atol=auc_atol):
        print(f"last val_auc {run[-1].get('val_auc')} vs fp32 {ref[-1].get('val_auc')}: "
              f"more than {auc_atol} apart")
        ok = False
    return 0 if ok else 1


def rate(path):
    print(round(max(r["samples_per_s"] for r in epochs(path))))
    return 0


BENCH = re.compile(r"gpu_bench (?P<desc>.*?) \| math (?P<math>\w+) \| peak GEMM 8192\^3 (?P<peak>[\d.]+)"
                   r" TFLOP/s \| MLP (?P<arch>[\d-]+) batch (?P<batch>\d+): GEMMs (?P<gemm>[\d.]+)"
                   r" TFLOP/s \((?P<share>\d+)% of peak\), step (?P<step>\d+) samples/s"
                   r"(?: \| cpu (?P<cpu>\d+) samples/s, gpu/cpu (?P<ratio>[\d.]+)x)?")


def bench(path):
    n = 0
    for line in open(path):
        m = BENCH.search(line)
        if not m:
            continue
        n += 1
        k = f"{m['arch']}_b{m['batch']}_{m['math']}"
        figure("device", m["desc"])
        figure(f"{k}_peak_tflops", m["peak"])
        figure(f"{k}_gemm_tflops", m["gemm"])
        figure(f"{k}_gemm_share_of_peak_pct", m["share"])
        figure(f"{k}_step_samples_per_s", m["step"])
        if m["ratio"]:
            figure(f"{k}_gpu_over_cpu", m["ratio"])
    return 0 if n else 1


def torch_rec(line):
    r = json.loads(line)
    figure(f"{r['mode']}_samples_per_s", round(r["samples_per_s"]))
    figure(f"{r['mode']}_val_auc", r["val_auc"])
    return 0


def value(text):
    try:
        v = float(text)
        return int(v) if v.is_integer() and "." not in text and "e" not in text.lower() else v
    except ValueError:
        return None if text in ("None", "null") else text


def summary(steps_dir, out, mode, seconds):
    steps = []
    for name in sorted(f[:-7] for f in os.listdir(steps_dir) if f.endswith(".status")):
        base = os.path.join(steps_dir, name)
        read = lambda ext: open(base + ext).read().strip() if os.path.exists(base + ext) else ""
        figs = {}
        for line in read(".fig").splitlines():
            if "\t" in line:
                k, v = line.split("\t", 1)
                figs[k] = value(v)
        steps.append({"name": name.split("_", 1)[1], "status": read(".status"),
                      "seconds": float(read(".seconds") or 0), "reason": read(".reason") or None,
                      "figures": figs})
    doc = {"format": "hpcml-device-check", "version": 1, "mode": mode,
           "seconds": float(seconds), "failed": [s["name"] for s in steps if s["status"] == "fail"],
           "steps": steps}
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out)
    width = max(len(s["name"]) for s in steps) if steps else 4
    for s in steps:
        print(f"{s['name']:<{width}}  {s['status']:<4}  {s['seconds']:6.1f}s  {s['reason'] or ''}")
    print(f"failed: {', '.join(doc['failed']) or 'none'}")
    return 0


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "compare":
        return compare(args[0], args[1], float(args[2]), float(args[3]))
    if cmd == "trains":
        return trains(args[0], args[1], float(args[2]))
    if cmd == "rate":
        return rate(args[0])
    if cmd == "bench":
        return bench(args[0])
    if cmd == "torch":
        return torch_rec(args[0])
    if cmd == "summary":
        return summary(args[0], args[1], args[2], args[3])
    print(__doc__, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
