#!/usr/bin/env bash
# test_slurm_sweep_tpe.sh — sweep.search = "tpe" as a real Slurm job array on the local
# Slurm: `sbatch --array=0-15%4 slurm/sweep.sbatch`, each task the real
# `hpcml-sweep --trial N` on a tiny dataset, all tasks sharing one journal, no head node.
# Checks:
#   1. every task COMPLETED; one `started` record of attempt 1 per trial, never two, and
#      each carries the trial's configuration (written when the trial began);
#   2. the 4 start-up trials have exactly the random searcher's values (same seed, same
#      ids: a control run with sweep.search = "random" over a copy of the prefix);
#   3. constant liars: trials chosen by TPE while other array tasks were RUNNING (found
#      from the journal's line order). Each is re-chosen from a copy of the journal as it
#      was when the trial began (on another host name, so the RUNNING trials' pids cannot
#      be checked and they keep lying): the same values, so a trial's configuration is a
#      function of (seed, id, journal state). Again with the RUNNING trials' lines removed
#      (no liars): at least one choice differs, so the liars were in the model;
#   4. results.csv, best.cfg, `--status` and curves.svg name the searcher; every ASHA
#      decision equals Ray's rule replayed over the journal.
# labels: slurm sweep
# timeout: 600
# Usage: bash test_slurm_sweep_tpe.sh BUILD_DIR SRC_DIR
source "$(dirname "$0")/lib.sh" "$@"
source "$(dirname "$0")/slurm_lib.sh"
[[ -x $BIN/hpcml-sweep ]] || fail "$BIN/hpcml-sweep not built"
unshare --uts true 2>/dev/null || skip "unshare --uts is not permitted here (needs root)"
t_start=$SECONDS
slurm_up 7700 8
export HPCML_PREFIX=$BUILD
CFG=$SRC/configs/demo.cfg
cd "$TMP" || fail "cd $TMP"

$PY "$SRC/tests/scripts/make_train_dataset.py" ds.h5 --train 1000 --val 300 --test 100 \
  --features 8 --seed 3
S=(-s train.dataset="$TMP/ds.h5" -s sweep.trials=16 -s sweep.max_parallel=4 -s sweep.max_t=4
  -s sweep.grace_period=1 -s sweep.reduction_factor=3.0 -s sweep.metric=val_auc
  -s sweep.search=tpe -s sweep.tpe_n_startup_trials=4 -s sweep.seed=11
  -s sweep.heartbeat_timeout_s=3600.0 -s monitoring.profile=false -s train.evaluate=false
  -s resources.log_dir="$TMP/logs" -s resources.sweep_ntasks=1)

mkdir -p logs # Slurm does not create the directory of -o
arr=$(sbatch --parsable --array=0-15%4 -o "logs/sweep-%A_%a.out" "$SRC/slurm/sweep.sbatch" "$CFG" \
  "${S[@]}" -s sweep.output_dir="$TMP/sw") || fail "sbatch refused the array"
for _ in $(seq 2400); do # up to 8 min
  states=$(squeue -r -h -j "$arr" -o %T 2>/dev/null) || true
  grep -qE '^(PENDING|RUNNING|COMPLETING|CONFIGURING|REQUEUED)$' <<<"$states" || break
  sleep 0.2
done
all=$(squeue -r -t all -h -j "$arr" -o "%i %T")
ndone=$(grep -c ' COMPLETED$' <<<"$all" || true)
[[ $ndone -eq 16 ]] || { grep -v ' COMPLETED$' <<<"$all" >&2; tail -5 logs/*.out >&2; fail "$ndone of 16 tasks COMPLETED"; }
pass "16 TPE trials ran as a Slurm array, 4 at a time"

"$BIN/hpcml-sweep" -c "$CFG" "${S[@]}" -s sweep.output_dir="$TMP/sw" --status >status.txt ||
  fail "hpcml-sweep --status failed"
grep -q "Number of trials: 16/16" status.txt || { head -8 status.txt; fail "not all 16 trials ended"; }
grep -q "^Search: tpe(n_startup_trials=4" status.txt || { head -8 status.txt; fail "--status does not name TPE"; }
grep -q "TPE search" sw/curves.svg || fail "curves.svg does not name the searcher"
"$PY" "$SRC/tests/scripts/sweep_ray_replay.py" sw/journal.jsonl >replay.json ||
  { cat replay.json; fail "a decision differs from Ray's rule replayed over the journal"; }

# The journal's prefix before each started record, with and without the trials RUNNING then.
"$PY" - sw/journal.jsonl "$TMP" <<'PY' >controls.txt || fail "journal checks"
import csv, json, os, sys
path, tmp = sys.argv[1], sys.argv[2]
lines = open(path).read().splitlines(keepends=True)
recs = [dict(json.loads(x), _n=n) for n, x in enumerate(lines)]
header = recs[0]
assert header["event"] == "sweep" and header["search"].startswith("tpe(n_startup_trials=4"), header
keys = {"train.lr", "train.dropout", "train.hidden", "train.batch_size"}
first, running, ended, liars = {}, set(), set(), {}
for n, r in enumerate(recs):
    ev, t = r["event"], r.get("trial")
    if ev == "started":
        assert set(r["config"]) == keys, ("a started record without the configuration", r)
        if r["attempt"] == 1:
            assert t not in first, ("trial begun twice", t)
            first[t] = n
        liars[t] = sorted(running - ended)
        running.add(t)
    elif ev in ("stopped", "completed", "failed"):
        ended.add(t)
assert sorted(first) == list(range(16)), sorted(first)
assert all(r["attempt"] == 1 for r in recs if r["event"] == "started"), "a task ran twice"
done = lambda n: sum(1 for r in recs[:n] if r["event"] in ("stopped", "completed"))
with_liars = [t for t in sorted(first) if t >= 4 and liars[t] and done(first[t]) >= 4]
assert with_liars, ("no TPE trial began while another task was RUNNING", liars)
def write(d, keep):
    os.makedirs(d)
    with open(os.path.join(d, "journal.jsonl"), "w") as f:
        f.writelines(x for x, r in zip(lines, recs) if keep(r))
for t in with_liars[:4]:
    n, lie = first[t], set(liars[t])
    write(f"{tmp}/ctl-liars{t}", lambda r, n=n: r["_n"] < n)
    write(f"{tmp}/ctl-none{t}", lambda r, n=n, lie=lie: r["_n"] < n and r.get("trial") not in lie)
    print(t, " ".join(map(str, liars[t])))
rows = list(csv.DictReader(open(f"{tmp}/sw/results.csv")))
assert len(rows) == 16 and all(r["search"] == "tpe" for r in rows), rows[:1]
best = open(f"{tmp}/sw/best.cfg").read()
assert "# search: tpe(n_startup_trials=4" in best, best[:400]
PY
pass "one started record per trial, each with its configuration; results.csv, best.cfg, --status, curves.svg name TPE; decisions = Ray's rule"

# A control trial: chosen (and trained) from the copied journal on host name tpe-ctl.
ctl() {
  local dir=$1 t=$2
  shift 2
  unshare --uts bash -c 'hostname tpe-ctl && exec "$@"' _ "$BIN/hpcml-sweep" -q -c "$CFG" "${S[@]}" \
    -s sweep.output_dir="$TMP/$dir" "$@" --trial "$t" >"$dir.log" 2>&1 || { cat "$dir.log"; fail "control $dir"; }
}
for t in 0 1 2 3; do # start-up: the random searcher (another sweep, a journal of its own)
  ctl ctl-rnd "$t" -s sweep.search=random
done
while read -r t ls; do
  ctl "ctl-liars$t" "$t"
  ctl "ctl-none$t" "$t"
  echo "$t $ls" >>liar_trials.txt
done <controls.txt
"$PY" - "$TMP" <<'PY' || fail "start-up or liar checks"
import json, sys
tmp = sys.argv[1]
def config(d, t):
    for line in open(f"{tmp}/{d}/journal.jsonl"):
        r = json.loads(line)
        if r["event"] == "started" and r["trial"] == t:
            return r["config"]
    raise AssertionError(f"{d}: trial {t} not started")
for t in range(4):
    assert config("sw", t) == config("ctl-rnd", t), ("start-up differs from random", t)
print("start-up trials 0..3 have the random searcher's values")
moved = 0
for line in open(f"{tmp}/liar_trials.txt"):
    t, *ls = map(int, line.split())
    got = config("sw", t)
    assert got == config(f"ctl-liars{t}", t), ("not reproduced from its journal state", t)
    moved += got != config(f"ctl-none{t}", t)
    print(f"trial {t}: chosen with liars {ls}; reproduced; "
          f"{'differs from' if got != config(f'ctl-none{t}', t) else 'same as'} the liar-free choice")
assert moved >= 1, "the liars changed no choice"
PY
pass "start-up = random search; TPE choices reproduced from the journal state; constant liars changed them"
pass "all in $((SECONDS - t_start)) s"
