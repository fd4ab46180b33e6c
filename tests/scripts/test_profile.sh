#!/usr/bin/env bash
# test_profile.sh — profile.json and trace.json from mpi_profile_demo are valid
# JSON and plausible on 1 and 3 ranks, with a zero event cap (ranks with no
# trace events); a write failure (exit 3) and stages that differ across ranks
# (exit 4) are reported on all ranks without hanging.
# labels: mpi profile
# timeout: 120
# ranks: 1, 2, 3 (mpi_profile_demo)
# options: the helper program's arguments in the script (no config keys)
# skips (exit 77): never
# Usage: bash test_profile.sh BUILD_DIR SRC_DIR
set -euo pipefail

build=${1:?usage: test_profile.sh BUILD_DIR SRC_DIR}
demo="$build/tests/mpi_profile_demo"
mpirun=(mpirun --allow-run-as-root --oversubscribe)
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# check_run DIR RANKS CAPPED: structural and plausibility checks.
check_run() {
    local dir=$1 ranks=$2 capped=$3
    $py -m json.tool "$dir/profile.json" >/dev/null || fail "$dir/profile.json is not JSON"
    $py -m json.tool "$dir/trace.json" >/dev/null || fail "$dir/trace.json is not JSON"
    ls "$dir" | grep -q '\.tmp' && fail "temp files left in $dir: $(ls "$dir")"
    $py - "$dir" "$ranks" "$capped" <<'EOF'
import json, sys

d, ranks, capped = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
p = json.load(open(f"{d}/profile.json"))
tr = json.load(open(f"{d}/trace.json"))
errors = []
def want(cond, msg):
    if not cond:
        errors.append(msg)

EPS = 1e-6
want(p["ranks"] == ranks, f"ranks {p['ranks']} != {ranks}")
want(p["program"] == "mpi_profile_demo", "program name")
want(p["mpi_intercepted"] is True, "MPI calls not intercepted")
stages = p["stages"]
by_path = {s["path"]: s for s in stages}
for path in ["demo", "demo/compute", "demo/write_file", "demo/allreduce", "demo/epoch",
             "demo/epoch/step", "demo/hdf5_write"]:
    want(path in by_path, f"stage {path} missing")
if errors:
    sys.exit("\n".join(errors))

for i, s in enumerate(stages):
    name = s["path"]
    for key in ["wall_s", "cpu_user_s", "cpu_sys_s", "mpi_s", "read_bytes", "write_bytes",
                "peak_rss_bytes", "start_s", "end_s"]:
        st = s[key]
        want(st["min"] <= st["mean"] + EPS and st["mean"] <= st["max"] + EPS,
             f"{name}.{key}: min/mean/max out of order {st}")
        want(0 <= st["max_rank"] < ranks, f"{name}.{key}: max_rank {st['max_rank']}")
        want(st["min"] >= 0, f"{name}.{key}: negative {st}")
    want(s["wall_s"]["min"] > 0, f"{name}: wall time not positive")
    want(s["count"] >= 1, f"{name}: count {s['count']}")
    want(s["peak_rss_bytes"]["min"] > 1 << 20, f"{name}: peak RSS implausible")
    want(s["end_s"]["max"] <= p["run_s"]["max"] + EPS, f"{name}: ends after the run")
    if s["parent"] >= 0:
        want(s["parent"] < i, f"{name}: parent index {s['parent']} not before {i}")
        par = stages[s["parent"]]
        want(s["start_s"]["min"] >= par["start_s"]["min"] - EPS, f"{name}: starts before parent")
        want(s["end_s"]["max"] <= par["end_s"]["max"] + EPS, f"{name}: ends after parent")
        want(s["wall_s"]["max"] <= par["wall_s"]["max"] + EPS, f"{name}: longer than parent")

want(by_path["demo/epoch"]["count"] == 5, "epoch count")
want(by_path["demo/epoch/step"]["count"] == 15, "step count")
want(by_path["demo/epoch/step"]["parent"] == stages.index(by_path["demo/epoch"]), "step parent")
want(by_path["demo/allreduce"]["mpi_s"]["min"] > 0, "no MPI time in the allreduce stage")
want(by_path["demo/compute"]["cpu_user_s"]["max"] > 0, "no CPU time in the compute stage")
if p["io_counters"]:
    want(by_path["demo/write_file"]["write_bytes"]["min"] >= 4 << 20,
         f"write_file wrote {by_path['demo/write_file']['write_bytes']} < 4 MiB")
    want(by_path["demo/compute"]["write_bytes"]["max"] < 4096, "compute stage writes bytes")
# The demo makes no MPI-IO calls itself: these are HDF5's, caught by the interposers.
calls = p["mpi_calls"]
want(calls.get("MPI_File_open", {}).get("calls", 0) >= ranks, f"HDF5's MPI_File_open not counted: {calls.keys()}")
want(any(k.startswith("MPI_File_write") for k in calls), "HDF5's MPI-IO writes not counted")
want(by_path["demo/hdf5_write"]["mpi_s"]["max"] > 0, "no MPI time in the HDF5 stage")
want(calls["MPI_Allreduce"]["calls"] >= 200 * ranks, "allreduce calls")

# trace.json: one track per rank, events inside the run
want(isinstance(tr, list), "trace is not an array")
tracks = {}
xs = []
for ev in tr:
    if ev["ph"] == "M" and ev["name"] == "thread_name":
        want(ev["tid"] not in tracks, f"track {ev['tid']} named twice")
        tracks[ev["tid"]] = ev["args"]["name"]
    elif ev["ph"] == "X":
        xs.append(ev)
want(tracks == {r: f"rank {r}" for r in range(ranks)}, f"tracks {tracks}")
run_us = p["run_s"]["max"] * 1e6
for ev in xs:
    want(0 <= ev["tid"] < ranks, f"event on track {ev['tid']}")
    want(ev["ts"] >= 0 and ev["dur"] >= 0, f"negative ts/dur {ev}")
    want(ev["ts"] + ev["dur"] <= run_us + 1.0, f"event past the run ({run_us} us): {ev}")
per_rank = sum(s["count"] for s in stages)
if capped:
    want(len(xs) == 0, f"{len(xs)} events despite a zero cap")
    want(p["trace"]["events_dropped"] == per_rank * ranks, f"dropped {p['trace']}")
else:
    want(len(xs) == per_rank * ranks, f"{len(xs)} events, expected {per_rank * ranks}")
    want(p["trace"]["events"] == len(xs), "trace event count in profile.json")
if errors:
    sys.exit(f"{d}:\n  " + "\n  ".join(errors))
print(f"ok: {ranks} rank(s), {len(stages)} stages, {len(xs)} trace events")
EOF
}

"${mpirun[@]}" -np 1 "$demo" "$work/np1"
check_run "$work/np1" 1 0

"${mpirun[@]}" -np 3 "$demo" "$work/np3"
check_run "$work/np3" 3 0

# Every rank with zero trace events: the file must still be one JSON array.
HPCML_PROFILE_MAX_EVENTS=0 "${mpirun[@]}" -x HPCML_PROFILE_MAX_EVENTS -np 2 "$demo" "$work/cap0"
check_run "$work/cap0" 2 1

# A failing write: every rank returns the I/O error code (3), nobody hangs,
# and the message names the path.
for target in profile.json trace.json; do
    dir="$work/fail-${target%.json}"
    mkdir -p "$dir/$target/occupied" # a non-empty directory where the file should go
    set +e
    "${mpirun[@]}" -np 2 "$demo" "$dir" 2>"$dir.err"
    rc=$?
    set -e
    [ "$rc" -eq 3 ] || fail "$target blocked: exit $rc, expected 3 ($(cat "$dir.err"))"
    grep -q "$dir/$target" "$dir.err" || fail "$target blocked: message lacks the path: $(cat "$dir.err")"
    ls "$dir" | grep -q '\.tmp' && fail "temp files left in $dir: $(ls "$dir")"
done

# Different stages on different ranks: refused everywhere (internal error, 4).
set +e
"${mpirun[@]}" -np 2 "$demo" "$work/mismatch" --mismatch 2>"$work/mismatch.err"
rc=$?
set -e
[ "$rc" -eq 4 ] || fail "stage mismatch: exit $rc, expected 4 ($(cat "$work/mismatch.err"))"
grep -q "stages differ across ranks" "$work/mismatch.err" || fail "mismatch message: $(cat "$work/mismatch.err")"

echo "test_profile: all checks passed"
