#!/usr/bin/env python3
"""sweep_ray_replay.py — check a sweep journal against Ray Tune's ASHA rule.

An independent re-implementation, in Python with numpy, of Ray Tune's
AsyncHyperBandScheduler / _Bracket (python/ray/tune/schedulers/async_hyperband.py):
rungs at grace_period * rf**k for k < int(log(max_t / grace) / log(rf) + 1),
cutoff = np.nanpercentile(recorded, (1 - 1/rf) * 100), STOP when
metric_op * value < cutoff, results at iter >= max_t STOP unrecorded, and
on_trial_complete records the final result. It replays the journal's records
in file order and compares every recorded decision with Ray's.

Also checks each line's CRC-32 the way journal.c writes it, that no
(trial, iter) result appears twice, and prints a JSON summary.

usage: sweep_ray_replay.py JOURNAL [--acks FILE...]
  --acks: files of "trial iter decision" lines acknowledged to a worker;
          each must be in the journal exactly once with that decision.
exit status 0 when everything agrees."""
import json
import sys
import warnings
import zlib

import numpy as np

SUFFIX = len(',"crc":"00000000"}')


def parse(line):
    """The record of a journal line, or None when torn or corrupt."""
    line = line.rstrip("\n")
    if len(line) < SUFFIX + 2 or not line.startswith("{"):
        return None
    tail = line[-SUFFIX:]
    if not (tail.startswith(',"crc":"') and tail.endswith('"}')):
        return None
    body = line[:-SUFFIX] + "}"
    try:
        if zlib.crc32(body.encode()) != int(tail[8:16], 16):
            return None
        rec = json.loads(line)
    except ValueError:
        return None
    return rec if isinstance(rec, dict) and "event" in rec else None


def metric(v):
    return float(v)  # numbers, or the strings "nan", "inf", "-inf"


class Bracket:
    """Ray's _Bracket with s = 0 (one bracket), stop_last_trials = True."""

    def __init__(self, min_t, max_t, rf):
        self.rf = rf
        max_rungs = int(np.log(max_t / min_t) / np.log(rf) - 0 + 1)
        self.rungs = [(min_t * rf ** k, {}) for k in reversed(range(max_rungs))]

    def cutoff(self, recorded):
        if not recorded:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rung
            return np.nanpercentile(list(recorded.values()), (1 - 1 / self.rf) * 100)

    def on_result(self, trial, cur_iter, cur_rew):
        action = "continue"
        for milestone, recorded in self.rungs:
            if cur_iter < milestone or trial in recorded:
                continue
            cutoff = self.cutoff(recorded)
            if cutoff is not None and cur_rew < cutoff:
                action = "stop"
            recorded[trial] = cur_rew
            break
        return action


class Scheduler:
    """Ray's AsyncHyperBandScheduler (time_attr = epochs, one bracket)."""

    def __init__(self, header):
        self.max_t = header["max_t"]
        self.op = 1.0 if header["mode"] == "max" else -1.0
        self.bracket = Bracket(header["grace_period"], header["max_t"], header["reduction_factor"])

    def on_trial_result(self, trial, it, value):
        if it >= self.max_t:
            return "stop"
        return self.bracket.on_result(trial, it, self.op * value)

    def on_trial_complete(self, trial, it, value):
        self.bracket.on_result(trial, it, self.op * value)


def main():
    args = sys.argv[1:]
    path = args[0]
    ack_files = args[args.index("--acks") + 1:] if "--acks" in args else []
    with open(path) as f:
        lines = f.readlines()
    records, corrupt = [], 0
    for line in lines:
        rec = parse(line)
        if rec is None:
            corrupt += 1
        else:
            records.append(rec)
    header = next(r for r in records if r["event"] == "sweep")
    sched = Scheduler(header) if header["scheduler"] == "asha" else None
    seen, mismatches, duplicates = {}, [], 0
    status, attempts = {}, {}
    for rec in records:
        ev, t = rec["event"], rec.get("trial")
        if ev == "started":
            attempts[t] = attempts.get(t, 0) + 1
            status[t] = "RUNNING"
        elif ev == "result":
            key = (t, rec["iter"])
            if key in seen:  # journal.c never writes one twice
                duplicates += 1
                continue
            seen[key] = rec["decision"]
            if sched is not None:
                want = sched.on_trial_result(t, rec["iter"], metric(rec["value"]))
                if want != rec["decision"]:
                    mismatches.append((t, rec["iter"], rec["value"], rec["decision"], want))
        elif ev in ("stopped", "completed"):
            status[t] = ev.upper()
            if sched is not None and "iter" in rec:
                sched.on_trial_complete(t, rec["iter"], metric(rec["value"]))
        elif ev == "failed":
            status[t] = "FAILED"
    acked, ack_missing, ack_wrong = 0, [], []
    for name in ack_files:
        with open(name) as f:
            for line in f:
                parts = line.split()
                if len(parts) != 3 or parts[0] == "end":
                    continue
                key, d = (int(parts[0]), int(parts[1])), parts[2]
                acked += 1
                if key not in seen:
                    ack_missing.append(key)
                elif seen[key] != d:
                    ack_wrong.append((key, seen[key], d))
    # each trial's results: epochs 1..k without holes
    holes = []
    for t in status:
        its = sorted(i for (tt, i) in seen if tt == t)
        if its != list(range(1, len(its) + 1)):
            holes.append(t)
    summary = {
        "lines": len(lines), "records": len(records), "corrupt": corrupt,
        "results": len(seen), "duplicates": duplicates, "mismatches": mismatches[:10],
        "n_mismatches": len(mismatches), "acked": acked, "ack_missing": ack_missing[:10],
        "ack_wrong": ack_wrong[:10], "holes": holes,
        "status": {str(k): v for k, v in sorted(status.items())},
        "attempts": {str(k): v for k, v in sorted(attempts.items())},
        "stopped": sum(1 for v in status.values() if v == "STOPPED"),
        "completed": sum(1 for v in status.values() if v == "COMPLETED"),
    }
    print(json.dumps(summary))
    ok = not mismatches and not duplicates and not ack_missing and not ack_wrong and not holes
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
