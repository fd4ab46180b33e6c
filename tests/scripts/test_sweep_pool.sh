#!/usr/bin/env bash
# test_sweep_pool.sh — pool mode: one MPI job runs the trials in groups of
# sweep.ranks_per_trial ranks (synthetic runner).
#  1. asha on 4 ranks in 2 groups of 2: every trial ends and every decision
#     equals Ray Tune's rule replayed over the journal (sweep_ray_replay.py).
#  2. asha_promotion on 3 groups of 1: trials pause at rungs and are promoted;
#     a Python replay of the ASHA paper's get_job (Li et al. 2020, Alg. 2)
#     over the journal's order picks exactly the recorded promotion at every
#     claim, and nothing when a claim started a new trial.
#  3. promotions after a SIGKILL right after a pause, before its checkpoint: the
#     re-run completes, the lost pause is promoted and nothing is recorded twice.
# labels: mpi sweep
# timeout: 240
# ranks: 3, 4 (pool mode, sweep.ranks_per_trial 1 and 2)
# options: configs written by the script; -s sweep.heartbeat_timeout_s, sweep.output_dir,
#   sweep.ranks_per_trial, sweep.scheduler, sweep.trials
# skips (exit 77): never
# Usage: bash test_sweep_pool.sh BUILD_DIR SRC_DIR
source "$(dirname "$0")/lib.sh" "$@"

SYN=$TBIN/mpi_sweep_synthetic
export HPCML_SYNTH_EPOCH_S=0.01
cat >"$TMP/sweep.cfg" <<EOF
sweep = {
  trials = 10; max_t = 9; grace_period = 1; reduction_factor = 3.0; seed = 3;
  metric = "val_auc"; mode = "max";
  space = (
    { key = "train.lr"; dist = "loguniform"; low = 1e-4; high = 0.3; },
    { key = "train.dropout"; dist = "uniform"; low = 0.0; high = 0.5; }
  );
};
EOF

# --- 1. Ray's rule, 2 groups of 2 ranks -------------------------------------------
"${MPIRUN[@]}" -np 4 "$SYN" -q -c "$TMP/sweep.cfg" -s sweep.output_dir="$TMP/asha" \
  -s sweep.ranks_per_trial=2 --pool || fail "asha pool run"
"$PY" "$SRC/tests/scripts/sweep_ray_replay.py" "$TMP/asha/journal.jsonl" >"$TMP/r1.json" ||
  { cat "$TMP/r1.json"; fail "pool decisions differ from Ray's rule"; }
"$PY" -c "
import json,sys; r=json.load(open('$TMP/r1.json'))
assert r['stopped'] + r['completed'] == 10, r['status']
assert all(v == 1 for v in r['attempts'].values()), r['attempts']
" || fail "asha pool: not every trial ended exactly once"
[[ $(tail -n +2 "$TMP/asha/results.csv" | wc -l) -eq 10 ]] || fail "asha pool results.csv"
[[ -s $TMP/asha/best.cfg ]] || fail "asha pool best.cfg"
pass "asha pool (2 groups of 2 ranks): 10 trials ended, decisions = Ray's rule"

# --- 2. promotions, 3 groups of 1 rank ----------------------------------------------
"${MPIRUN[@]}" -np 3 "$SYN" -q -c "$TMP/sweep.cfg" -s sweep.output_dir="$TMP/promo" \
  -s sweep.scheduler=asha_promotion -s sweep.trials=9 --pool || fail "promotion pool run"
cat >"$TMP/promo_replay.py" <<'EOF'
import json, math, sys

recs = [json.loads(l) for l in open(sys.argv[1])]
h = recs[0]
assert h["event"] == "sweep" and h["scheduler"] == "asha_promotion"
rf, op = h["reduction_factor"], 1.0 if h["mode"] == "max" else -1.0
n = int(math.log(h["max_t"] / h["grace_period"]) / math.log(rf) + 1)
miles = [h["grace_period"] * rf ** k for k in range(n)]
if miles[-1] < h["max_t"]:
    miles.append(h["max_t"])
rungs = [[] for _ in miles]  # [trial, value, promoted] in arrival order
target = {}

def get_job():
    for k in range(len(rungs) - 2, -1, -1):
        g = rungs[k]
        top = int(math.floor(len(g) / rf))
        order = sorted(range(len(g)), key=lambda i: (math.isnan(g[i][1]), -g[i][1] if not math.isnan(g[i][1]) else 0, i))
        for i in order[:top]:
            if not g[i][2]:
                return g[i][0], k + 1
    return None

promotions = claims = 0
for r in recs[1:]:
    ev, t = r["event"], r.get("trial")
    if ev == "started":
        claims += 1
        assert get_job() is None, f"trial {t} started while {get_job()} was promotable"
        target.setdefault(t, 0)  # a re-run keeps its rung
    elif ev == "promoted":
        claims += 1
        promotions += 1
        assert get_job() == (t, r["rung"]), f"promoted {(t, r['rung'])}, rule says {get_job()}"
        for e in rungs[r["rung"] - 1]:
            if e[0] == t:
                e[2] = True
        target[t] = r["rung"]
    elif ev == "result":
        k = target[t]
        v = float(r["value"])
        if r["iter"] >= math.ceil(miles[k]):
            rungs[k].append([t, op * v, False])
            want = "stop" if k == len(miles) - 1 else "pause"
        else:
            want = "continue"
        assert r["decision"] == want, (r, want)
status = {}
for r in recs[1:]:
    if r["event"] in ("started", "promoted"):
        status[r["trial"]] = "RUNNING"
    elif r["event"] == "paused":  # its process is done with it (checkpoint written)
        status[r["trial"]] = "PAUSED"
    elif r["event"] in ("completed", "stopped", "failed"):
        status[r["trial"]] = r["event"]
print("claims", claims, "promotions", promotions, "rungs", [len(g) for g in rungs], "status", status)
assert len(status) == 9 and "RUNNING" not in status.values()
assert promotions >= 3 and "completed" in status.values()
EOF
"$PY" "$TMP/promo_replay.py" "$TMP/promo/journal.jsonl" ||
  fail "promotions differ from the ASHA paper's rule"
"$SYN" -c "$TMP/sweep.cfg" -s sweep.output_dir="$TMP/promo" -s sweep.scheduler=asha_promotion \
  -s sweep.trials=9 --status >"$TMP/status.txt" || fail "--status of the promotion sweep"
grep -q "Using ASHA with promotions" "$TMP/status.txt" || fail "promotion status header"
grep -q "decisions differ" "$TMP/status.txt" && fail "C replay disagrees with the recorded decisions"
pass "promotion pool (3 groups): every claim is the ASHA paper's get_job over the journal order"

# --- 3. promotions: a trial killed right after its pause, before its checkpoint ----
# Trial 1 (the best at epoch 1 of the first three, and in the top third of all nine)
# pauses at epoch 1 and its process dies before checkpointing: the job ends. The
# re-run marks the dead trials failed after the heartbeat timeout; trial 1 is still
# promoted when its turn comes (the rule waits for a live pause to be checkpointed,
# not for a dead one), re-trains epoch 1 from no checkpoint without recording it
# again, and goes on; the trials that died while running are re-run and resume.
# Between the SIGKILL and mpirun ending the other ranks, a surviving group may
# already see trial 1's process gone and promote its pause (on a loaded machine it
# usually does): that is the same rule, so the first run may record a promotion
# of trial 1, but never its "paused" record (no checkpoint was written).
HPCML_SYNTH_DIE_AT=1:1 "${MPIRUN[@]}" -np 3 "$SYN" -q -c "$TMP/sweep.cfg" \
  -s sweep.output_dir="$TMP/crash" -s sweep.scheduler=asha_promotion -s sweep.trials=9 \
  --pool >/dev/null 2>&1 && fail "the injected SIGKILL did not end the job"
"$PY" - "$TMP/crash/journal.jsonl" <<'EOF' || fail "trial 1 did not die right after its pause"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert [r["decision"] for r in recs if r["event"] == "result" and r["trial"] == 1] == ["pause"]
assert not [r for r in recs if r["event"] == "paused" and r["trial"] == 1]
EOF
"${MPIRUN[@]}" -np 3 "$SYN" -q -c "$TMP/sweep.cfg" -s sweep.output_dir="$TMP/crash" \
  -s sweep.scheduler=asha_promotion -s sweep.trials=9 -s sweep.heartbeat_timeout_s=1 --pool ||
  fail "re-run of the crashed promotion pool"
"$PY" "$SRC/tests/scripts/sweep_ray_replay.py" "$TMP/crash/journal.jsonl" >"$TMP/r3.json" ||
  { cat "$TMP/r3.json"; fail "crashed promotion pool: a result recorded twice or missing"; }
"$PY" "$TMP/promo_replay.py" "$TMP/crash/journal.jsonl" ||
  fail "crashed promotion pool: promotions differ from the ASHA paper's rule"
"$PY" - "$TMP/crash/journal.jsonl" <<'EOF' || fail "trial 1 was not promoted past its lost pause"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert any(r["event"] == "promoted" and r["trial"] == 1 for r in recs)
its = [r["iter"] for r in recs if r["event"] == "result" and r["trial"] == 1]
assert its == list(range(1, len(its) + 1)) and len(its) >= 3, its
assert any(r["event"] == "failed" and r.get("timeout") for r in recs), "no dead trial marked"
EOF
pass "promotion pool killed right after a pause: re-run promotes it, nothing recorded twice"

# array mode refuses the promotion rule
expect_exit 1 "$SYN" -q -c "$TMP/sweep.cfg" -s sweep.output_dir="$TMP/x" \
  -s sweep.scheduler=asha_promotion --trial 0
grep -q "use --pool" "$TMP/err" || fail "message for asha_promotion in array mode"
pass "array mode refuses asha_promotion"
