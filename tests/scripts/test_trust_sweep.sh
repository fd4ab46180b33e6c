#!/usr/bin/env bash
# Trust across runs of hpcml-sweep (issue 19), with the synthetic runner
# (tests/mpi/mpi_sweep_synthetic.c), real processes, real signals:
#   (4)  a second `--trial N` (on 2 ranks) while trial N runs in a live process
#        (1 rank) on this host: exit 75 naming the owner's pid; the owner ends
#        normally; the journal holds one started record and one result per epoch;
#        an owner on another host with a fresh record: exit 75; with a record
#        older than sweep.heartbeat_timeout_s: taken over;
#   (12) a pool (2 ranks, 2 groups) whose rank is killed with SIGKILL, re-run at
#        once (heartbeat timeout 600 s): the dead owner's trial is marked failed
#        by pid, run again, and "pool: finished" comes only when every trial ended;
#   (11) one changed byte in the journal's header: another sweep config and the
#        same one are refused (exit 2), the journal is not changed.
# Ranks: 1 and 2 (mpirun --oversubscribe).
# labels: mpi sweep fault
# timeout: 300
# ranks: 1, 2
# options: configs written by the script; -s sweep.output_dir, sweep.trials
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
SYN=$TBIN/mpi_sweep_synthetic
OUT=$TMP/sweep
cat >"$TMP/sweep.cfg" <<CFG
train = { seed = 5; };
sweep = {
  trials = 6; max_t = 5; grace_period = 1; reduction_factor = 3.0; seed = 11;
  metric = "val_auc"; mode = "max"; output_dir = "$OUT"; scheduler = "none";
  heartbeat_timeout_s = 600.0; lock_stale_s = 10.0;
  space = ( { key = "train.lr"; dist = "loguniform"; low = 1e-4; high = 1.0; } );
};
CFG
J=$OUT/journal.jsonl
np1=("${MPIRUN[@]}" -np 1)
np2=("${MPIRUN[@]}" -np 2)
host=$(hostname)

# --- (4) a live owner on this host --------------------------------------------------
HPCML_SYNTH_EPOCH_S=1.0 "${np1[@]}" "$SYN" -q -c "$TMP/sweep.cfg" --trial 1 >"$TMP/owner.log" 2>&1 &
owner=$!
for _ in $(seq 1 200); do
  grep -q '"event":"result","trial":1' "$J" 2>/dev/null && break
  sleep 0.1
done
grep -q '"event":"result","trial":1' "$J" || { kill -9 $owner; fail "trial 1 did not start"; }
HPCML_SYNTH_EPOCH_S=0.01 expect_exit 75 "${np2[@]}" "$SYN" -q -c "$TMP/sweep.cfg" --trial 1
grep -q "trial 1 is running in another process (pid [0-9]* on $host" "$TMP/err" ||
  { cat "$TMP/err"; kill -9 $owner; fail "(4) the second process does not name the owner"; }
rc=0
wait $owner || rc=$?
((rc == 0)) || { cat "$TMP/owner.log"; fail "(4) the owner exited $rc"; }
$PY - "$J" <<'PYEOF' || fail "(4) journal of trial 1"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
t1 = [r for r in recs if r.get("trial") == 1]
assert sum(r["event"] == "started" for r in t1) == 1, t1
iters = [r["iter"] for r in t1 if r["event"] == "result"]
assert iters == [1, 2, 3, 4, 5], iters
assert t1[-1]["event"] == "completed", t1[-1]
PYEOF
pass "(4) second --trial while the owner lives (same host): exit 75 naming its pid; one attempt recorded"

# owner on another host: its records decide (crafted with the journal's checksum and,
# as every started record has, the values it was given)
append() { # append JOURNAL JSON: one record with its crc, as the writers do
  $PY - "$1" "$2" <<'PYEOF'
import json, sys, zlib
body = json.dumps(json.loads(sys.argv[2]), separators=(",", ":"))
line = body[:-1] + ',"crc":"%08x"}\n' % (zlib.crc32(body.encode()) & 0xffffffff)
open(sys.argv[1], "a").write(line)
PYEOF
}
now=$(date +%s)
append "$J" "{\"event\":\"started\",\"trial\":3,\"attempt\":1,\"config\":{\"train.lr\":\"0.003\"},\"host\":\"node-elsewhere\",\"pid\":4242,\"time\":$now}"
HPCML_SYNTH_EPOCH_S=0.01 expect_exit 75 "${np1[@]}" "$SYN" -q -c "$TMP/sweep.cfg" --trial 3
grep -q "trial 3 is running in another process (pid 4242 on node-elsewhere" "$TMP/err" ||
  { cat "$TMP/err"; fail "(4) another host's fresh owner not respected"; }
append "$J" "{\"event\":\"started\",\"trial\":4,\"attempt\":1,\"config\":{\"train.lr\":\"0.003\"},\"host\":\"node-elsewhere\",\"pid\":4242,\"time\":$((now - 900))}"
HPCML_SYNTH_EPOCH_S=0.01 expect_exit 0 "${np1[@]}" "$SYN" -c "$TMP/sweep.cfg" --trial 4
pass "(4) an owner on another host: refused while its record is fresh, taken over after the timeout"

# --- (12) a killed pool, re-run at once ----------------------------------------------
P=$TMP/pool
HPCML_SYNTH_EPOCH_S=0.5 "${np2[@]}" "$SYN" -q -c "$TMP/sweep.cfg" -s "sweep.output_dir=$P" \
  --pool >"$TMP/pool1.log" 2>&1 &
pool=$!
for _ in $(seq 1 200); do
  grep -q '"event":"result"' "$P/journal.jsonl" 2>/dev/null && break
  sleep 0.1
done
ranks=$(pgrep -P $pool || true)
victim=$(head -1 <<<"$ranks")
[[ -n $victim ]] || { kill -9 $pool; fail "(12) no pool rank found"; }
kill -9 "$victim"
rc=0
wait $pool || rc=$?
((rc != 0)) || fail "(12) the killed pool exited 0"
# mpirun has returned, but it may still be tearing down the other rank: the re-run
# comes once no rank of the killed pool exists (a live one is rightly left alone).
for _ in $(seq 1 100); do
  alive=0
  for r in $ranks; do kill -0 "$r" 2>/dev/null && alive=1; done
  ((alive)) || break
  sleep 0.1
done
((alive == 0)) || fail "(12) a rank of the killed pool outlived it by 10 s"
running=$($PY - "$P/journal.jsonl" <<'PYEOF'
import json, sys
st = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if "trial" in r:
        st[r["trial"]] = r["event"]
print(sum(v in ("started", "result", "heartbeat") for v in st.values()))
PYEOF
)
((running >= 1)) || fail "(12) the kill left no RUNNING trial to test with"
HPCML_SYNTH_EPOCH_S=0.01 expect_exit 0 timeout 120 "${np2[@]}" "$SYN" -c "$TMP/sweep.cfg" \
  -s "sweep.output_dir=$P" --pool
cat "$TMP/out" "$TMP/err" >"$TMP/pool2.log"
grep -q "marked failed: its process (pid [0-9]* on $host) is gone" "$TMP/pool2.log" ||
  { cat "$TMP/pool2.log"; fail "(12) the dead owner was not recognised by its pid"; }
grep -q "pool: finished" "$TMP/pool2.log" || { cat "$TMP/pool2.log"; fail "(12) no 'pool: finished'"; }
$PY - "$P/journal.jsonl" <<'PYEOF' || fail "(12) not every trial ended"
import json, sys
st = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["event"] in ("started", "completed", "stopped", "failed"):
        st[r["trial"]] = r["event"]
assert len(st) == 6 and all(v in ("completed", "stopped") for v in st.values()), st
PYEOF
pass "(12) killed pool re-run at once: dead owner found by pid, its trial re-run, finished only when all ended"

# --- (11) a damaged header record ------------------------------------------------------
D=$TMP/damaged
mkdir -p "$D"
cp "$J" "$D/journal.jsonl"
sed -i '1s/"max_t":5/"max_t":6/' "$D/journal.jsonl"
grep -q '"max_t":6' "$D/journal.jsonl" || fail "(11) could not damage the header"
before=$(md5sum <"$D/journal.jsonl")
for extra in "-s sweep.trials=7" ""; do
  # shellcheck disable=SC2086
  HPCML_SYNTH_EPOCH_S=0.01 expect_exit 2 "${np1[@]}" "$SYN" -q -c "$TMP/sweep.cfg" \
    -s "sweep.output_dir=$D" $extra --trial 5
  grep -q "no valid header record" "$TMP/err" || { cat "$TMP/err"; fail "(11) message ($extra)"; }
  [[ $(md5sum <"$D/journal.jsonl") == "$before" ]] || fail "(11) the damaged journal was written to"
done
pass "(11) one changed byte in the header: every writer refused (exit 2), journal unchanged"
