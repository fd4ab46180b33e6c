#!/usr/bin/env bash
# test_sweep_legacy_journal.sh — a journal written before sweep.search existed (its header
# names no searcher; those sweeps searched at random) resumed after the default became TPE,
# with the synthetic runner in place of the trainer:
#   1. sweep.search left unset: the sweep continues with random search (trial 3 gets the
#      random searcher's values), with a notice; --status names random search.
#   2. the control: the same history under a header that names TPE gives trial 3 other
#      values (so step 1 can fail).
#   3. sweep.search = "tpe" set explicitly: refused (exit 1, the journal names another
#      searcher), as for any other sweep parameter.
# labels: mpi sweep
# timeout: 120
# ranks: 1
# options: configs written by the script; -s sweep.search, sweep.output_dir
source "$(dirname "$0")/lib.sh" "$@"
SYN=$TBIN/mpi_sweep_synthetic
need_exe "$SYN"
export HPCML_SYNTH_EPOCH_S=0.01
# no sweep.search here: the schema's default (tpe) applies unless -s sets it
cat >"$TMP/sweep.cfg" <<CFG
train = { seed = 5; };
sweep = {
  trials = 10; max_t = 4; grace_period = 1; reduction_factor = 3.0; seed = 21;
  metric = "val_auc"; mode = "max"; output_dir = "$TMP/legacy";
  tpe_n_startup_trials = 2;
  space = (
    { key = "train.lr"; dist = "loguniform"; low = 1e-4; high = 0.3; },
    { key = "train.dropout"; dist = "uniform"; low = 0.0; high = 0.5; },
    { key = "train.hidden"; dist = "choice"; values = ( [64], [128, 64], [256, 128, 64] ); }
  );
};
CFG
run() { "${MPIRUN[@]}" -np 1 "$SYN" -q -c "$TMP/sweep.cfg" "$@"; }

# trials 0..3 with random search: the reference values; trials 0..2 also in the journal
# that becomes the older one, and trial 0 of a TPE sweep for its header's searcher text
for t in 0 1 2 3; do
  run -s sweep.search='"random"' -s sweep.output_dir="$TMP/random" --trial $t || fail "random $t"
done
for t in 0 1 2; do
  run -s sweep.search='"random"' --trial $t || fail "legacy $t"
done
run -s sweep.output_dir="$TMP/tpehdr" --trial 0 || fail "a TPE sweep"
# rewrite the headers: no searcher (an older journal), and the TPE sweep's searcher
mkdir -p "$TMP/control"
"$PY" - "$TMP/legacy/journal.jsonl" "$TMP/tpehdr/journal.jsonl" "$TMP/control/journal.jsonl" \
  <<'PYEOF' || fail "rewriting the journal headers"
import json, sys, zlib
legacy, tpehdr, control = sys.argv[1:]
SUFFIX = len(',"crc":"00000000"}')

def body(line):
    return line.rstrip("\n")[:-SUFFIX] + "}"

def line(body):
    return body[:-1] + ',"crc":"%08x"}\n' % (zlib.crc32(body.encode()) & 0xffffffff)

lines = open(legacy).readlines()
head = body(lines[0])
assert ',"search":"random"' in head, head
tpe = json.loads(open(tpehdr).readline())["search"]
assert tpe.startswith("tpe(n_startup_trials=2"), tpe
ctl = head.replace(',"search":"random"', ',"search":' + json.dumps(tpe))
old = head.replace(',"search":"random"', "")
open(control, "w").writelines([line(ctl)] + lines[1:])
open(legacy, "w").writelines([line(old)] + lines[1:])
PYEOF

# 3. (first, so that the journal still has 3 trials) an explicit tpe is refused
expect_exit 1 run -s sweep.search='"tpe"' --trial 3
grep -q 'its search is "random"' "$TMP/err" || { cat "$TMP/err"; fail "the refusal's message"; }
pass "an older journal refuses an explicit sweep.search = \"tpe\" (exit 1)"

# 1. sweep.search unset: continued with random search
"${MPIRUN[@]}" -np 1 "$SYN" -c "$TMP/sweep.cfg" --trial 3 >"$TMP/legacy.out" 2>&1 ||
  { cat "$TMP/legacy.out"; fail "an older journal was refused"; }
grep -q "written before sweep.search existed: continuing it with random search" \
  "$TMP/legacy.out" || { cat "$TMP/legacy.out"; fail "no notice of the random search"; }
"$SYN" -c "$TMP/sweep.cfg" --status >"$TMP/status.txt" 2>/dev/null || fail "--status"
grep -q "^Search: random$" "$TMP/status.txt" || { cat "$TMP/status.txt"; fail "--status searcher"; }
# 2. the control: the same history, the header naming TPE
run -s sweep.output_dir="$TMP/control" --trial 3 || fail "control trial 3"

"$PY" - "$TMP" <<'PYEOF' || fail "trial 3's values"
import json, sys
tmp = sys.argv[1]

def started(path):
    return {r["trial"]: r["config"] for r in map(json.loads, open(path))
            if r["event"] == "started"}

rnd, leg, ctl = (started(f"{tmp}/{d}/journal.jsonl") for d in ("random", "legacy", "control"))
assert all(leg[t] == rnd[t] for t in range(3)), "the history differs from random search's"
assert leg[3] == rnd[3], ("not random search", leg[3], rnd[3])
assert ctl[3] != rnd[3], ("TPE gave random search's values: the check cannot fail", ctl[3])
print("trial 3: random search's values; under a TPE header:", ctl[3])
PYEOF
pass "an older journal continues with random search when sweep.search is not set"
