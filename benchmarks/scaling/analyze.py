#!/usr/bin/env python3
"""analyze.py — speed-up and efficiency of the scaling points, as CSV and an SVG plot.

usage: analyze.py POINTS.csv OUT.csv OUT.svg [--title TEXT]

POINTS.csv: program,set,ranks,oversubscribed,work,unit,reps,wall_s,run_s (point.sh rows).
Times are run_s (the program's own run time, MPI start-up left out). Against the point
with the fewest ranks (r0, t0) of the same program and set:
  strong: speedup = t0 / t,              efficiency = speedup * r0 / r
  weak:   speedup = (r / r0) * t0 / t    (scaled speed-up), efficiency = t0 / t
OUT.csv adds speedup and efficiency. OUT.svg: speed-up (top) and efficiency (bottom) per
program, strong and weak, with the ideal line; oversubscribed points (more ranks than
cores) are hollow and labelled. Needs matplotlib (Debian: python3-matplotlib)."""
import argparse
import csv

import matplotlib

matplotlib.use("svg")
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, smaller
import matplotlib.pyplot as plt  # noqa: E402

PROGRAMS = ("etl", "train", "sweep")


def load(path):
    rows = list(csv.DictReader(open(path)))
    for r in rows:
        r["ranks"] = int(r["ranks"])
        r["oversubscribed"] = int(r["oversubscribed"])
        r["run_s"] = float(r["run_s"])
    rows.sort(key=lambda r: (PROGRAMS.index(r["program"]), r["set"], r["ranks"]))
    for r in rows:
        base = min((b for b in rows if b["program"] == r["program"] and b["set"] == r["set"]),
                   key=lambda b: b["ranks"])
        ratio = base["run_s"] / r["run_s"]
        if r["set"] == "strong":
            r["speedup"] = ratio
            r["efficiency"] = ratio * base["ranks"] / r["ranks"]
        else:
            r["speedup"] = ratio * r["ranks"] / base["ranks"]
            r["efficiency"] = ratio
    return rows


def write_csv(rows, path):
    cols = ["program", "set", "ranks", "oversubscribed", "work", "unit", "reps", "wall_s",
            "run_s", "speedup", "efficiency"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([("%.4f" % r[c]) if c in ("run_s", "speedup", "efficiency") else r[c]
                        for c in cols])


def plot(rows, path, title):
    fig, axes = plt.subplots(2, 3, figsize=(12, 7), sharex=True)
    styles = {"strong": ("tab:blue", "o"), "weak": ("tab:orange", "s")}
    maxr = max(r["ranks"] for r in rows)
    for j, prog in enumerate(PROGRAMS):
        for i, key in enumerate(("speedup", "efficiency")):
            ax = axes[i][j]
            ideal = [1, maxr] if key == "speedup" else [1, 1]
            ax.plot([1, maxr], ideal, color="grey", linestyle=":", label="ideal")
            for s, (color, marker) in styles.items():
                pts = [r for r in rows if r["program"] == prog and r["set"] == s]
                if not pts:
                    continue
                ax.plot([p["ranks"] for p in pts], [p[key] for p in pts], color=color,
                        label=s + (" (scaled)" if s == "weak" and key == "speedup" else ""))
                for p in pts:
                    hollow = p["oversubscribed"] == 1
                    ax.plot(p["ranks"], p[key], marker=marker, color=color, markersize=7,
                            markerfacecolor="white" if hollow else color)
                    if hollow:
                        ax.annotate("oversubscribed", (p["ranks"], p[key]), fontsize=7,
                                    textcoords="offset points", xytext=(-60, 6))
            ax.set_title("hpcml-%s: %s" % (prog, key), fontsize=10)
            ax.set_xscale("log", base=2)
            ax.set_xticks(sorted({r["ranks"] for r in rows}))
            ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.grid(True, alpha=0.3)
            if i == 1:
                ax.set_xlabel("MPI ranks")
                ax.set_ylim(0, 1.3)
            if j == 0:
                ax.set_ylabel(key)
            if i == 0 and j == 0:
                ax.legend(fontsize=8)
    fig.suptitle("hpcml scaling (run time without MPI start-up; hollow = more ranks than cores)"
                 + ("\n" + title if title else ""), fontsize=11)
    fig.tight_layout()
    fig.savefig(path, format="svg", metadata={"Date": None})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("points")
    ap.add_argument("out_csv")
    ap.add_argument("out_svg")
    ap.add_argument("--title", default="")
    a = ap.parse_args()
    rows = load(a.points)
    write_csv(rows, a.out_csv)
    plot(rows, a.out_svg, a.title)


if __name__ == "__main__":
    main()
