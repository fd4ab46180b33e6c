#!/usr/bin/env bash
# sweep.scheduler = "asha_promotion" on the real trainer (hpcml-sweep --pool, 2 groups):
# a trial paused at a rung, when promoted, resumes from its own checkpoint.
#  - every promotion continues the caller-stopped checkpoint ("continuing" in the log,
#    once per promotion of world rank 0's group) and trains on: results past the
#    paused milestone;
#  - no epoch is trained or recorded twice: each (trial, epoch) is reported to the
#    journal exactly once (the on_epoch debug line) and recorded once, epochs 1..k
#    without holes (sweep_ray_replay.py);
#  - a trial promoted up to max_t ends with the same weights and the same metric at
#    every epoch as a straight hpcml-train run of its config.cfg (h5diff of /model).
# labels: mpi sweep train
# timeout: 300
# ranks: 2
# options: configs written by the script; -s train.output_dir, train.resume
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
cd "$TMP"; [[ -z ${KEEP:-} ]] || trap - EXIT
$PY "$SRC/tests/scripts/make_train_dataset.py" ds.h5 --train 3000 --val 500 --test 500 \
  --features 8 --seed 11
cat >sweep.cfg <<EOF
train = {
  dataset = "$TMP/ds.h5";
  hidden = [ 24, 12 ];
  batch_size = 100;
  blas_threads = 1;
  early_stopping_patience = 0;
};
monitoring = { profile = false; };
sweep = {
  trials = 8; seed = 4; scheduler = "asha_promotion";
  max_t = 4; grace_period = 1; reduction_factor = 2.0;
  metric = "val_auc"; mode = "max"; output_dir = "$TMP/sweep";
  space = (
    { key = "train.lr"; dist = "loguniform"; low = 1e-4; high = 0.1; },
    { key = "train.dropout"; dist = "uniform"; low = 0.0; high = 0.4; }
  );
};
EOF
"${MPIRUN[@]}" -np 2 "$BIN/hpcml-sweep" -c sweep.cfg -v --pool >log.txt 2>&1 ||
  { tail -30 log.txt; fail "promotion pool on the trainer"; }
"$PY" "$SRC/tests/scripts/sweep_ray_replay.py" sweep/journal.jsonl >replay.json ||
  { cat replay.json; fail "duplicate or missing results in the journal"; }

t=$("$PY" - "$TMP" <<'EOF'
import json, re, sys
tmp = sys.argv[1]
recs = [json.loads(l) for l in open(f"{tmp}/sweep/journal.jsonl")]
log = open(f"{tmp}/log.txt").read()
results = {}
for r in recs:
    if r["event"] == "result":
        results.setdefault(r["trial"], []).append(r["iter"])
promos = [r for r in recs if r["event"] == "promoted"]
assert len(promos) >= 3, f"only {len(promos)} promotions"
# each epoch reported once: a retrained trial would report epochs 1..m again
reported = re.findall(r"trial (\d+) epoch (\d+): val_auc = ", log)
assert len(reported) == sum(len(v) for v in results.values()), (len(reported), results)
assert len(set(reported)) == len(reported), "an epoch was trained twice"
# (info lines come from world rank 0 only: its group's promotions)
cont = len(re.findall(r"stopped by the caller at epoch \d+: continuing", log))
seen = len(re.findall(r"trial \d+ promoted: continues to epoch", log))
assert cont == seen, f"{cont} resumes for {seen} promotions"
for p in promos:  # trained past the milestone it paused at
    t, paused_at = p["trial"], 2 ** (p["rung"] - 1)
    assert max(results[t]) > paused_at, (t, paused_at, results[t])
done = [r["trial"] for r in recs if r["event"] == "completed"]
full = [t for t in done if sorted(results[t]) == [1, 2, 3, 4]]
assert full, "no trial was promoted up to max_t"
print(full[0])
EOF
) || fail "promoted trials did not resume from their checkpoints"
dir=$(printf 'sweep/trial-%05d' "$t")
pass "promoted trials resume from their checkpoints; every epoch trained and recorded once"

# trial $t: paused at 1 and 2, promoted twice, completed: same as a straight run
"$BIN/hpcml-train" -q -c "$dir/config.cfg" -s train.output_dir="$TMP/straight" \
  -s train.resume=never || fail "straight run of trial $t"
last=$(ls "$dir"/checkpoints/step-*.h5 | sort | tail -1)
[[ -f straight/checkpoints/$(basename "$last") ]] || fail "straight run has no $(basename "$last")"
h5diff "$last" "straight/checkpoints/$(basename "$last")" /model /model ||
  fail "trial $t's weights after two promotions differ from a straight run"
"$PY" - "$TMP" "$t" "$dir" <<'EOF' || fail "trial $t's metrics differ from a straight run"
import json, sys
tmp, t, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
got = {r["iter"]: r["value"] for r in map(json.loads, open(f"{tmp}/sweep/journal.jsonl"))
       if r["event"] == "result" and r["trial"] == t}
want = {r["epoch"]: r["val_auc"] for r in map(json.loads, open(f"{tmp}/straight/metrics.jsonl"))}
# metrics.jsonl has 10 significant digits, the journal 17
assert {k: float(f"{v:.10g}") for k, v in got.items()} == want, (got, want)
EOF
pass "trial $t (paused twice, promoted twice) = a straight hpcml-train run, bit for bit"
