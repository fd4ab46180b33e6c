#!/usr/bin/env bash
# test_sweep_tpe_array.sh — sweep.search = "tpe" as separate processes sharing
# one journal (array tasks), with the synthetic runner in place of the trainer.
#   1. 8 start-up trials as processes 2 at a time: TPE's start-up values are
#      the random searcher's (same seed, same trial ids).
#   2. Constant liars: trials 8..13 each die after their first epoch and stay
#      RUNNING; each next one is chosen with the earlier ones as liars. A
#      control copy of the journal chooses each of them with no liars. The
#      values must differ from the control's and be more spread out.
#   3. After sweep.heartbeat_timeout_s the dead trials are failed and lie no
#      more: trial 14 gets exactly the values the liar-free control gives it.
#   4. A requeued trial (8, after its failure) re-runs its first values; every
#      started record of a trial carries the same config; no trial id twice.
#   5. 6 more trials as 3 concurrent processes, then --status: results.csv,
#      best.cfg and the table name the searcher; decisions replay as Ray's.
#   6. Pool mode with TPE.
# labels: mpi sweep
# timeout: 300
# ranks: 1, 2
# options: configs written by the script; -s sweep.heartbeat_timeout_s, sweep.output_dir,
#   sweep.search, sweep.tpe_n_startup_trials, sweep.trials
# skips (exit 77): unshare --uts not permitted (not root)
source "$(dirname "$0")/lib.sh" "$@"
SYN=$TBIN/mpi_sweep_synthetic
need_exe "$SYN"
export HPCML_SYNTH_EPOCH_S=0.01
OUT=$TMP/tpe
cat >"$TMP/sweep.cfg" <<CFG
train = { seed = 5; };
sweep = {
  trials = 30; max_t = 6; grace_period = 1; reduction_factor = 3.0; seed = 21;
  metric = "val_auc"; mode = "max"; output_dir = "$OUT";
  heartbeat_timeout_s = 600.0; lock_stale_s = 10.0;
  search = "tpe"; tpe_n_startup_trials = 8;
  space = (
    { key = "train.lr"; dist = "loguniform"; low = 1e-4; high = 0.3; },
    { key = "train.dropout"; dist = "uniform"; low = 0.0; high = 0.5; },
    { key = "train.hidden"; dist = "choice"; values = ( [64], [128, 64], [256, 128, 64] ); }
  );
};
CFG
run() { "${MPIRUN[@]}" -np 1 "$SYN" -q -c "$TMP/sweep.cfg" "$@"; }

# 1. start-up, and the same trials with the random searcher
seq 0 7 | xargs -P 2 -I{} "${MPIRUN[@]}" -np 1 "$SYN" -q -c "$TMP/sweep.cfg" --trial {} ||
  fail "a start-up task failed"
for t in 0 1 2 3 4 5 6 7; do
  run -s sweep.search='"random"' -s sweep.output_dir="$TMP/random" --trial $t || fail "random $t"
done
cp "$OUT/journal.jsonl" "$TMP/base.jsonl"

# 2. liars: each of trials 8..13 dies after epoch 1 on a node of its own (a UTS namespace
# with its own host name) and stays RUNNING: from any other host its pid cannot be
# checked, so only the heartbeat timeout fails it, as for an array task on another node
# whose node went silent. (A dead pid on the same host is failed at once:
# test_trust_sweep.sh.)
on_node() { # on_node N CMD...: CMD with host name tpe-test-node-N
  local n=$1
  shift
  unshare --uts bash -c 'hostname "$0" && exec "$@"' "tpe-test-node-$n" "$@"
}
unshare --uts true 2>/dev/null || skip "unshare --uts is not permitted here (needs root)"
for t in 8 9 10 11 12 13; do
  HPCML_SYNTH_DIE_AT=$t:1 on_node $t "${MPIRUN[@]}" -np 1 "$SYN" -q -c "$TMP/sweep.cfg" \
    --trial $t >/dev/null 2>&1 && fail "trial $t should have died"
  mkdir -p "$TMP/ctl$t"
  cp "$TMP/base.jsonl" "$TMP/ctl$t/journal.jsonl"
  HPCML_SYNTH_DIE_AT=$t:1 run -s sweep.output_dir="$TMP/ctl$t" --trial $t >/dev/null 2>&1 &&
    fail "control trial $t should have died"
done
# 3. past the heartbeat timeout the liars are failed: trial 14 as without them
mkdir -p "$TMP/ctl14"
cp "$TMP/base.jsonl" "$TMP/ctl14/journal.jsonl"
sleep 2.2
HB=(-s sweep.heartbeat_timeout_s=2.0)
run "${HB[@]}" --trial 14 || fail "trial 14"
run "${HB[@]}" -s sweep.output_dir="$TMP/ctl14" --trial 14 || fail "control trial 14"
# 4. the requeued trial 8 re-runs its values
run "${HB[@]}" --trial 8 || fail "re-run of trial 8"
# 5. more trials, 3 at a time, then the reports
seq 15 20 | xargs -P 3 -I{} "${MPIRUN[@]}" -np 1 "$SYN" -q -c "$TMP/sweep.cfg" "${HB[@]}" \
  --trial {} || fail "a concurrent task failed"
"$SYN" -c "$TMP/sweep.cfg" "${HB[@]}" --status >"$TMP/status.txt" || fail "--status"

"$PY" - "$OUT" "$TMP" <<'PYEOF' || fail "TPE array checks"
import csv, itertools, json, math, sys
out, tmp = sys.argv[1], sys.argv[2]

def started(path):
    s = {}
    for line in open(path):
        r = json.loads(line)
        if r["event"] == "started":
            s.setdefault(r["trial"], []).append(r["config"])
    return s

tpe = started(out + "/journal.jsonl")
rnd = started(tmp + "/random/journal.jsonl")
for t in range(8):
    assert tpe[t][0] == rnd[t][0], ("start-up differs from random search", t, tpe[t], rnd[t])
print("1. start-up trials 0..7 have the random searcher's values")

def point(c):
    return (math.log10(float(c["train.lr"])), float(c["train.dropout"]) * 4)

liar = [tpe[t][0] for t in range(8, 14)]
ctl = [started(f"{tmp}/ctl{t}/journal.jsonl")[t][0] for t in range(8, 14)]
def spread(cs):
    ps = [point(c) for c in cs]
    return sum(math.dist(a, b) for a, b in itertools.combinations(ps, 2)) / 15
s_l, s_c = spread(liar), spread(ctl)
print(f"2. trials 8..13: mean pairwise distance {s_l:.3f} with liars, {s_c:.3f} without")
assert liar[0] == ctl[0], "trial 8 saw no liar: it must equal its control"
# A liar only enters g(x): the 24 candidates (drawn from l(x)) are the
# control's, and the argmax may by chance stay the same one; most must move.
moved = sum(a != b for a, b in zip(liar[1:], ctl[1:]))
assert moved >= 3, f"liars moved only {moved} of 5 choices"
assert s_l > 1.2 * s_c, (s_l, s_c)

c14 = started(tmp + "/ctl14/journal.jsonl")[14][0]
assert tpe[14][0] == c14, ("expired liars still lie", tpe[14][0], c14)
print("3. after the heartbeat timeout trial 14 gets the liar-free values")

assert len(tpe[8]) == 2 and tpe[8][0] == tpe[8][1], tpe[8]
for t, cs in tpe.items():
    assert all(c == cs[0] for c in cs), ("a trial changed its values", t, cs)
first = set()
for line in open(out + "/journal.jsonl"):
    r = json.loads(line)
    if r["event"] == "started" and r["attempt"] == 1:
        assert r["trial"] not in first, ("trial begun twice", r["trial"])
        first.add(r["trial"])
print("4. requeued trial 8 re-ran its values; no trial begun twice")

rows = list(csv.DictReader(open(out + "/results.csv")))
assert rows and all(r["search"] == "tpe" for r in rows), rows[:1]
best = open(out + "/best.cfg").read()
assert "# search: tpe(n_startup_trials=8" in best, best[:400]
header = json.loads(open(out + "/journal.jsonl").readline())
assert header["search"].startswith("tpe(n_startup_trials=8"), header
print("5. results.csv, best.cfg and the journal header name the searcher")
PYEOF
grep -q "^Search: tpe(n_startup_trials=8" "$TMP/status.txt" || { cat "$TMP/status.txt"; fail "--status"; }
grep -q "TPE search" "$OUT/curves.svg" || fail "curves.svg does not name the searcher"
"$PY" "$SRC/tests/scripts/sweep_ray_replay.py" "$OUT/journal.jsonl" >"$TMP/replay.json" ||
  { cat "$TMP/replay.json"; fail "a decision differs from Ray's rule replayed over the journal"; }
# a journal of one searcher refuses the other
expect_exit 1 run -s sweep.search='"random"' --trial 21
grep -q "search" "$TMP/err" || { cat "$TMP/err"; fail "searcher mismatch message"; }
pass "TPE over a shared journal: start-up, constant liars, expiry, requeue, reports"

# 6. pool mode with TPE: 2 groups, 12 trials
"${MPIRUN[@]}" -np 2 "$SYN" -q -c "$TMP/sweep.cfg" -s sweep.output_dir="$TMP/pool" \
  -s sweep.trials=12 -s sweep.tpe_n_startup_trials=4 --pool || fail "pool mode with TPE"
[[ $(tail -n +2 "$TMP/pool/results.csv" | grep -c ',tpe$') -eq 12 ]] || fail "pool results.csv"
pass "pool mode with TPE: 12 trials"
