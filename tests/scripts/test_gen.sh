#!/usr/bin/env bash
# test_gen.sh — hpcml-gen writes the same bytes on 1, 2 and 3 ranks; the row
# count, manifest.json and the data's shape are right; stale shards are
# removed; an injected write fault fails every rank with exit 3 and leaves
# neither a manifest nor temp files.
# labels: mpi gen
# timeout: 300
# ranks: 1, 2, 3
# options: configs written by the script; -s gen.categorical_columns, gen.category_levels,
#   gen.header, gen.malformed_fraction, gen.missing_fraction, gen.output_dir, gen.rows,
#   gen.seed, gen.shards
# skips (exit 77): never
# Usage: bash test_gen.sh BUILD_DIR SRC_DIR
source "$(dirname "$0")/lib.sh" "$@"

GEN=$BIN/hpcml-gen
ROWS=100003
SHARDS=7
common=(-q -s gen.rows=$ROWS -s gen.shards=$SHARDS -s gen.seed=7 -s gen.categorical_columns=2
        -s gen.category_levels=6 -s gen.missing_fraction=0.01)

# gen NP DIR [extra args...]
gen() {
  local np=$1 dir=$2; shift 2
  "${MPIRUN[@]}" -np "$np" "$GEN" "${common[@]}" -s gen.output_dir="$dir" "$@"
}

# --- identical bytes whatever the rank count --------------------------------
for np in 1 2 3; do
  gen "$np" "$TMP/np$np" || fail "hpcml-gen on $np ranks exited $?"
done
for np in 2 3; do
  for f in "$TMP"/np1/part-*.csv "$TMP/np1/manifest.json"; do
    cmp "$f" "$TMP/np$np/$(basename "$f")" || fail "$(basename "$f") differs between 1 and $np ranks"
  done
done
n_files=$(ls "$TMP"/np3/part-*.csv | wc -l)
[[ $n_files -eq $SHARDS ]] || fail "expected $SHARDS shards, found $n_files"
ls "$TMP"/np3 | grep -q '\.tmp\.' && fail "temp files left: $(ls "$TMP/np3")"
data_lines=$(cat "$TMP"/np1/part-*.csv | grep -vc '^Time,')
[[ $data_lines -eq $ROWS ]] || fail "expected $ROWS data rows, found $data_lines"
pass "1, 2 and 3 ranks write identical shards ($ROWS rows in $SHARDS files)"

# --- manifest and data shape (numpy) ------------------------------------------
"$PY" - "$TMP/np1" "$ROWS" "$SHARDS" <<'EOF' || fail "manifest or data check"
import glob, hashlib, json, sys
import numpy as np

d, rows, shards = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
m = json.load(open(f"{d}/manifest.json"))
assert m["format"] == "hpcml-gen-manifest" and m["version"] == 1, m["format"]
assert m["rows"] == rows and m["seed"] == 7 and len(m["shards"]) == shards
cols = ["Time"] + [f"V{j}" for j in range(1, 29)] + ["Amount", "Cat1", "Cat2", "Class"]
assert m["columns"] == cols, m["columns"]
files = sorted(glob.glob(f"{d}/part-*.csv"))
assert [s["file"] for s in m["shards"]] == [f.split("/")[-1] for f in files]
first = 0
for s, f in zip(m["shards"], files):
    assert s["first_row"] == first, (s, first)
    n = sum(1 for _ in open(f)) - 1
    assert s["rows"] == n, (s, n)
    assert s["sha256"] == hashlib.sha256(open(f, "rb").read()).hexdigest(), s  # for hpcml-etl
    first += n
assert first == rows
import os
assert sum(s["bytes"] for s in m["shards"]) == m["bytes"] == sum(os.path.getsize(f) for f in files)

text = "".join(open(f).read().split("\n", 1)[1] for f in files)
lines = text.splitlines()
assert len(lines) == rows
cat = np.array([[l.split(",")[30], l.split(",")[31]] for l in lines])
num = np.genfromtxt([",".join(l.split(",")[:30] + l.split(",")[32:]) for l in lines],
                    delimiter=",")
assert num.shape == (rows, 31), num.shape
y = num[:, -1]
assert set(np.unique(y)) == {0.0, 1.0}
pos = int(y.sum())
assert pos == m["positives"] and abs(pos - 0.00172 * rows) <= 1, pos
assert np.all(np.diff(num[:, 0]) >= 0), "Time must not decrease"
v = num[:, 1:29]
miss = np.isnan(v).mean()
assert abs(miss - 0.01) < 0.002, miss
assert m["missing_cells"] == int(np.isnan(v).sum())
neg, posr = v[y == 0], v[y == 1]
sd = np.nanstd(neg, axis=0)
assert sd[0] > 1.9 and sd[27] < 0.4 and np.all(np.diff(sd) < 0.05), sd
assert np.nanmean(posr[:, 13]) < np.nanmean(neg[:, 13]) - 1.0  # V14
assert set(np.unique(cat)) <= {f"c{l}" for l in range(6)}
print(f"ok: manifest and data ({pos} positives, {miss:.4f} missing)")
EOF

# --- malformed rows, no header ------------------------------------------------
gen 2 "$TMP/bad" -s gen.malformed_fraction=0.05 -s gen.header=false || fail "malformed run"
grep -q '^Time,' "$TMP"/bad/part-00000.csv && fail "gen.header=false still wrote a header"
lines=$(cat "$TMP"/bad/part-*.csv | wc -l)
[[ $lines -eq $ROWS ]] || fail "malformed run: expected $ROWS lines, got $lines"
grep -q '"' "$TMP"/bad/part-*.csv || fail "no unterminated quote among malformed rows"
"$PY" -c "
import json, sys
m = json.load(open('$TMP/bad/manifest.json'))
share = m['malformed_rows'] / m['rows']
assert abs(share - 0.05) < 0.005, share
" || fail "malformed share"
pass "malformed rows and gen.header=false"

# --- stale shards of an earlier run are removed -------------------------------
gen 1 "$TMP/np1" -s gen.shards=3 || fail "rerun with 3 shards"
n_files=$(ls "$TMP"/np1/part-*.csv | wc -l)
[[ $n_files -eq 3 ]] || fail "stale shards left: $(ls "$TMP/np1")"
pass "stale shards removed"

# --- an injected write fault: exit 3 on all ranks, no manifest, no temp files --
got=0
HPCML_FAULT=gen.write@1 "${MPIRUN[@]}" -x HPCML_FAULT -np 2 "$GEN" "${common[@]}" \
  -s gen.output_dir="$TMP/fault" 2>"$TMP/err" || got=$?
[[ $got -eq 3 ]] || { cat "$TMP/err" >&2; fail "fault run: expected exit 3, got $got"; }
grep -q "injected fault at gen.write" "$TMP/err" || fail "fault message missing: $(cat "$TMP/err")"
[[ -e $TMP/fault/manifest.json ]] && fail "manifest written despite a failed shard"
ls "$TMP"/fault | grep -q '\.tmp\.' && fail "temp files left after the fault"
pass "write fault reported with exit 3, no manifest"
