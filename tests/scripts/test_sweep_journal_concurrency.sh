#!/usr/bin/env bash
# test_sweep_journal_concurrency.sh — 32 processes append to one sweep journal
# through the real journal code while some are killed with SIGKILL, from
# outside at random moments and from inside the locked append (holding the
# lock, half a record written, record not yet fsynced). Killed workers are
# started again, as a requeued array task would be, until every trial ended.
# Then: every acknowledged append is in the journal exactly once with the
# decision the worker was told; no result is recorded twice; every trial
# ended; a torn record costs at most one unreadable line; and every decision
# equals Ray Tune's rule replayed over the journal's order (Python/numpy,
# sweep_ray_replay.py) and the C replay.
# labels: sweep fault
# timeout: 240
# ranks: 1 per worker, several workers at once (mpi_journal_worker)
# options: the helper program's arguments in the script (no config keys)
# skips (exit 77): never
# Usage: bash test_sweep_journal_concurrency.sh BUILD_DIR SRC_DIR
source "$(dirname "$0")/lib.sh" "$@"

WORKER=$TBIN/mpi_journal_worker
NW=32
FAULT_PROB=0.006   # per fault point of each locked append (~10 deaths holding the lock)
MAX_KILLS=40       # SIGKILLs from outside
DIR=$TMP/sweep
mkdir -p "$DIR"

declare -a pid done_
exec 3>&2 2>"$TMP/supervisor.err" # bash reports every "Killed" job; keep that out of the log
start() { "$WORKER" "$DIR" "$1" "$NW" "$TMP/ack.$1" "$FAULT_PROB" 2>>"$TMP/worker.err" & pid[$1]=$!; }
for ((w = 0; w < NW; w++)); do start $w; done

kills=0 restarts=0 t0=$SECONDS
while :; do
  alive=0
  for ((w = 0; w < NW; w++)); do
    [[ -n ${done_[$w]:-} ]] && continue
    if kill -0 "${pid[$w]}" 2>/dev/null; then alive=1; continue; fi
    rc=0; { wait "${pid[$w]}"; } 2>/dev/null || rc=$?
    if [[ $rc -eq 0 ]]; then done_[$w]=1
    elif [[ $rc -eq 137 ]]; then restarts=$((restarts + 1)); start $w; alive=1
    else exec 2>&3; cat "$TMP/worker.err" >&2; fail "worker $w exited $rc"
    fi
  done
  [[ $alive -eq 0 ]] && break
  (( SECONDS - t0 > 200 )) && { exec 2>&3; fail "workers still running after 200 s"; }
  if (( kills < MAX_KILLS && RANDOM % 2 == 0 )); then
    w=$((RANDOM % NW))
    if [[ -z ${done_[$w]:-} ]] && kill -9 "${pid[$w]}" 2>/dev/null; then kills=$((kills + 1)); fi
  fi
  sleep 0.05
done
exec 2>&3 3>&-
broken=$(grep -c 'broke a stale lock' "$TMP/worker.err" || true)
torn=$(grep -c 'ignoring a torn record' "$TMP/worker.err" || true)
pass "$NW workers finished in $((SECONDS - t0)) s: $kills outside kills, $restarts restarts in all, $broken stale locks broken, $torn torn records ended"
[[ $broken -ge 1 ]] || fail "no worker died holding the lock: the stale-lock path was not exercised"

J=$DIR/journal.jsonl
[[ -s $J ]] || fail "no journal"
ls "$DIR" | grep -q 'journal.jsonl.lock' && fail "a lock file was left behind: $(ls "$DIR")"

"$PY" "$SRC/tests/scripts/sweep_ray_replay.py" "$J" --acks "$TMP"/ack.* >"$TMP/py.json" ||
  { cat "$TMP/py.json"; fail "journal does not match Ray's rule or the acknowledgements"; }
"$WORKER" --replay "$DIR" "$NW" >"$TMP/c.json" || fail "C replay failed"

"$PY" - "$TMP/py.json" "$TMP/c.json" "$NW" "$restarts" <<'EOF' || fail "journal checks"
import json, sys
py, c = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
nw, restarts = int(sys.argv[3]), int(sys.argv[4])
trials = 3 * nw
print("python replay:", {k: py[k] for k in ("lines", "records", "corrupt", "results", "acked",
                                          "stopped", "completed", "n_mismatches")})
print("C replay:", c)
assert py["n_mismatches"] == 0 and c["mismatched"] == 0, "decisions differ from a sequential replay"
assert py["duplicates"] == 0 and c["duplicates"] == 0, "a result recorded twice"
assert not py["ack_missing"] and not py["ack_wrong"], "acknowledged appends lost or changed"
assert py["acked"] >= py["results"] - restarts, "fewer acknowledgements than expected"
assert py["stopped"] + py["completed"] == trials, f"not every trial ended: {py['status']}"
assert c["stopped"] + c["completed"] == trials and c["running"] == 0 and c["pending"] == 0
assert py["corrupt"] == c["corrupt"], "the C and Python readers disagree on bad lines"
assert py["corrupt"] <= restarts, "more unreadable lines than killed writers"
assert py["stopped"] > 0 and py["completed"] > 0, "the rule should both stop and complete trials"
assert max(py["attempts"].values()) >= 2, "no trial was re-run"
EOF
pass "every acknowledged append present once, no duplicates, all trials ended, decisions = sequential Ray replay"
