#!/usr/bin/env bash
# hpcml-etl's output does not depend on the rank count: the same inputs on
# -np 1, 2, 3 and 4 give files that h5diff finds identical (and the same
# quality.json), for
#   a) hpcml-gen shards (several files cut into byte ranges, nulls, a category),
#   b) one file with a BOM, CRLF line ends and quoted fields holding
#      delimiters, doubled quotes and newlines, one of them 200 KB long and
#      spanning the middle of the file, so that range boundaries fall inside
#      quotes; duplicate keys removed globally; median imputation,
#   c) the shards gzip-compressed (whole files per rank) give the same rows
#      as the plain shards.
# labels: mpi etl
# timeout: 480
# ranks: 1, 2, 3, 4
# options: configs written by the script; -s etl.input, etl.on_bad_value, etl.output,
#   etl.resample, etl.resample_ratio, etl.stratify, gen.categorical_columns,
#   gen.malformed_fraction, gen.missing_fraction, gen.output_dir, gen.positive_fraction,
#   gen.rows, gen.shards
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
etl=$BIN/hpcml-etl

# ---- a) generated shards ----------------------------------------------------
mkdir -p "$TMP/raw"
if [[ -x $BIN/hpcml-gen ]]; then
  "$BIN/hpcml-gen" -q -s gen.rows=30000 -s gen.shards=4 -s gen.categorical_columns=2 \
    -s gen.missing_fraction=0.02 -s gen.positive_fraction=0.01 -s "gen.output_dir=$TMP/raw"
else
  $PY - "$TMP/raw" <<'EOF'
import random, sys
random.seed(5)
for s in range(4):
    with open(f"{sys.argv[1]}/part-{s:05d}.csv", "w") as f:
        f.write("Time," + ",".join(f"V{j}" for j in range(1, 29)) + ",Amount,Cat1,Cat2,Class\n")
        for i in range(7500):
            v = ["" if random.random() < 0.02 else f"{random.gauss(0, 1):.6f}" for _ in range(28)]
            f.write(f"{s * 7500 + i}," + ",".join(v) + f",{random.expovariate(0.1):.2f},"
                    f"c{random.randint(0, 4)},c{random.randint(0, 9)},{int(random.random() < 0.01)}\n")
EOF
fi
cat >"$TMP/gen.cfg" <<EOF
etl = {
  input = [ "$TMP/raw/*.csv" ];
  label = "Class";
  columns = (
    { name = "Time"; type = "float"; scale = "minmax"; },
    { name = "V1"; type = "float"; impute = "median"; },
    { name = "V2"; type = "float"; impute = "most_frequent"; },
    { name = "V3"; type = "float"; impute = "constant"; impute_value = -1.0; },
    { name = "Amount"; type = "float"; min = 0.0; max = 200.0; },
    { name = "Cat1"; type = "category"; impute = "most_frequent"; },
    { name = "Cat2"; type = "category"; encoding = "index"; max_categories = 6; },
    { name = "Class"; type = "label"; nullable = false; }
  );
  stratify = true;
  chunk_rows = 1000;
};
EOF

# run_all NAME CFG [extra -s options]: np 1..4 into the same output path
run_all() {
  local name=$1 cfg=$2; shift 2
  for np in 1 2 3 4; do
    timeout 120 "${MPIRUN[@]}" -np $np "$etl" -q -c "$cfg" -s "etl.output=$TMP/out/$name.h5" "$@" \
      >"$TMP/log" 2>&1 || { cat "$TMP/log"; fail "$name: np=$np exited with $?"; }
    mv "$TMP/out/$name.h5" "$TMP/out/$name.np$np.h5"
    mv "$TMP/out/$name.quality.json" "$TMP/out/$name.np$np.quality.json"
  done
  for np in 2 3 4; do
    h5diff -q "$TMP/out/$name.np1.h5" "$TMP/out/$name.np$np.h5" ||
      { h5diff -r "$TMP/out/$name.np1.h5" "$TMP/out/$name.np$np.h5" | head -20; fail "$name: np=1 and np=$np differ"; }
    cmp "$TMP/out/$name.np1.quality.json" "$TMP/out/$name.np$np.quality.json" ||
      fail "$name: quality.json differs between np=1 and np=$np"
  done
}

run_all gen "$TMP/gen.cfg"
$PY - "$TMP/out/gen.np1.h5" "$TMP/out/gen.np1.quality.json" <<'EOF' || fail "gen: contents"
import json, sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r"); q = json.load(open(sys.argv[2]))
n = sum(f[s]["X"].shape[0] for s in ("train", "val", "test"))
assert q["rows_read"] == 30000, q["rows_read"]
assert n == q["rows_valid"], (n, q["rows_valid"])
assert q["rows_read"] - q["rows_dropped"]["total"] == n
ids = np.concatenate([f[s]["row_id"][:] for s in ("train", "val", "test")])
assert len(np.unique(ids)) == n and ids.min() >= 0 and ids.max() < 30000
for s in ("train", "val", "test"):
    r = f[s]["row_id"][:]
    assert (np.diff(r) > 0).all(), f"{s} rows not in input order"
    assert np.isfinite(f[s]["X"][:]).all(), f"{s}: NaN in X"
tr = f["train"]["X"][:]
assert abs(tr[:, 1].mean()) < 1e-3 and abs(tr[:, 1].std(ddof=1) - 1) < 1e-3  # V1 standardized
assert tr[:, 0].min() == 0 and abs(tr[:, 0].max() - 1) < 1e-6               # Time min-max
c = q["columns"]
assert c["V1"]["nulls"] > 0
import glob, pandas as pd
raw = pd.concat([pd.read_csv(p) for p in sorted(glob.glob(sys.argv[1].rsplit("/", 2)[0] + "/raw/*.csv"))])
assert c["Amount"]["filtered_above_max"] == int((raw["Amount"] > 200).sum()) > 0, c["Amount"]
assert c["Amount"]["filtered_below_min"] == int((raw["Amount"] < 0).sum())
# stratified: class shares equal across splits (exact per-class cut counts)
cc = [q["splits"][s]["class_counts"] for s in ("train", "val", "test")]
pos = sum(x[1] for x in cc)
assert cc[0][1] == int(np.floor(pos * 0.7 + 0.5)), cc
print("gen contents ok:", n, "rows,", f["meta"].attrs["n_features"], "features")
EOF
pass "generated shards: np 1..4 identical"

# resampling and class weights depend only on row numbers and global counts
run_all resample "$TMP/gen.cfg" -s etl.resample=oversample -s etl.resample_ratio=0.5
run_all under "$TMP/gen.cfg" -s etl.resample=undersample -s etl.stratify=false
# the resampled train class counts are near their targets (a Philox draw per
# row: within 5 standard deviations), the copies and drops are counted, and
# balanced class weights follow the counts after resampling
$PY - "$TMP/out/resample.np1.quality.json" "$TMP/out/under.np1.quality.json" <<'EOF' || fail "resampling counts"
import json, math, sys
over, under = (json.load(open(p)) for p in sys.argv[1:3])
for q, kind in ((over, "over"), (under, "under")):
    tr = q["splits"]["train"]
    (n0, n1), (a0, a1) = tr["class_counts_before_resampling"], tr["class_counts"]
    if kind == "over":  # ratio 0.5: minority copies up to 0.5 x majority
        want, got = 0.5 * n0, a1
        assert a0 == n0 and tr["oversampled_copies"] == a1 - n1 > 0, tr
    else:  # ratio 1: majority kept with probability n1 / n0
        want, got = n1, a0
        assert a1 == n1 and tr["undersampled_rows"] == n0 - a0 > 0, tr
    assert abs(got - want) < 5 * math.sqrt(want) + 1, (kind, got, want)
    n = a0 + a1
    w = q["class_weights"]
    assert abs(w[0] - n / (2 * a0)) < 1e-12 and abs(w[1] - n / (2 * a1)) < 1e-12, (w, a0, a1)
    print(f"{kind}sampling: {got} rows of the resampled class, target {want:.0f}; weights {w}")
EOF
pass "over- and undersampled train splits: near their targets, np 1..4 identical"

# Validation in column order, the first reason counted: V4 nulls dropped
# (impute = "drop"), V5 nulls only counted (nullable = false, on_null_violation
# = "warn"), Amount > 200 filtered; the counts equal a pandas count.
sed -e 's/{ name = "V3"; type = "float"; impute = "constant"; impute_value = -1.0; },/&\n    { name = "V4"; type = "float"; impute = "drop"; },\n    { name = "V5"; type = "float"; nullable = false; },/' \
  -e 's/stratify = true;/&\n  on_null_violation = "warn";/' "$TMP/gen.cfg" >"$TMP/validate.cfg"
grep -q 'impute = "drop"' "$TMP/validate.cfg" || fail "validate.cfg not built"
run_all validate "$TMP/validate.cfg"
$PY - "$TMP/raw" "$TMP/out/validate.np1.quality.json" <<'EOF' || fail "validate: counts"
import glob, json, sys
import pandas as pd
raw = pd.concat([pd.read_csv(p) for p in sorted(glob.glob(sys.argv[1] + "/*.csv"))])
q = json.load(open(sys.argv[2]))
c, d = q["columns"], q["rows_dropped"]
v4 = raw["V4"].isna()
assert c["V4"]["impute_drops"] == d["impute_drop"] == int(v4.sum()) > 0, (c["V4"], int(v4.sum()))
assert c["V5"]["null_violations"] == int((~v4 & raw["V5"].isna()).sum()) > 0, c["V5"]
above = int((~v4 & (raw["Amount"] > 200)).sum())
assert c["Amount"]["filtered_above_max"] == d["out_of_range"] == above, (c["Amount"], above)
assert q["rows_valid"] == len(raw) - int(v4.sum()) - above, q["rows_valid"]
print("validation counts ok:", int(v4.sum()), "impute drops,", above, "out of range")
EOF
pass "impute drop, warn-only null violations, range filter: pandas counts, np 1..4 identical"

# rows dropped for bad values (on_bad_value = "drop") are the same rows on any rank count
if [[ -x $BIN/hpcml-gen ]]; then
  mkdir -p "$TMP/dirty"
  "$BIN/hpcml-gen" -q -s gen.rows=20000 -s gen.shards=2 -s gen.categorical_columns=2 \
    -s gen.malformed_fraction=0.002 -s "gen.output_dir=$TMP/dirty"
  run_all dirty "$TMP/gen.cfg" -s "etl.input=$TMP/dirty/*.csv" -s etl.on_bad_value=drop
  $PY - "$TMP/out/dirty.np1.quality.json" <<'EOF2' || fail "dirty: drop counts"
import json, sys
q = json.load(open(sys.argv[1]))
d = q["rows_dropped"]
assert d["ragged_row"] + d["bad_value"] + d["malformed_csv"] > 0, d
print("dropped:", {k: v for k, v in d.items() if v})
EOF2
  pass "malformed rows dropped and counted: np 1..4 identical"
fi

# ---- b) one file, quoted newlines across range boundaries -----------------------
$PY - "$TMP/quoted.csv" <<'EOF'
import random, sys
random.seed(7)
rows = []
for i in range(4000):
    note = random.choice(["plain", "has,comma", 'say ""hi""', "two\r\nlines", "x\ny\nz", ""])
    x = "" if random.random() < 0.05 else f"{random.uniform(-50, 50):.4f}"
    key = i if random.random() > 0.03 else random.randint(0, max(i - 1, 0))  # some duplicate keys
    rows.append(f'{key},"{note}",{x},{int(random.random() < 0.2)}\r\n')
big = '"' + "\n".join(f"line {k} of a long quoted field, with, commas" for k in range(4000)) + '"'
rows.insert(len(rows) // 2 - 300, f"999999,{big},1.5,1\r\n")
with open(sys.argv[1], "w", newline="") as f:
    # two junk lines (etl.skip_lines = 2), the first with an odd quote: junk is not CSV
    f.write('\ufeffexported by "tool 1.0, beta\r\n(c) nobody\r\nid,note,x,Class\r\n')
    f.writelines(rows)
EOF
cat >"$TMP/quoted.cfg" <<EOF
etl = {
  input = [ "$TMP/quoted.csv" ];
  label = "Class";
  null_markers = [ "" ];
  key_columns = [ "id" ];
  skip_lines = 2;
  columns = (
    { name = "id"; type = "id"; },
    { name = "note"; type = "category"; max_categories = 50; },
    { name = "x"; type = "float"; impute = "median"; },
    { name = "Class"; type = "label"; }
  );
  read_buffer_mb = 1;
};
EOF
run_all quoted "$TMP/quoted.cfg"
$PY - "$TMP/quoted.csv" "$TMP/out/quoted.np1.quality.json" "$TMP/out/quoted.np4.h5" <<'EOF' || fail "quoted: counts"
import csv, json, sys
import h5py, numpy as np
csv.field_size_limit(1 << 30)
with open(sys.argv[1], newline="", encoding="utf-8-sig") as f:
    f.readline(), f.readline()  # the junk lines
    recs = list(csv.reader(f))[1:]
q = json.load(open(sys.argv[2]))
assert q["rows_read"] == len(recs), (q["rows_read"], len(recs))
# the first occurrence of each key, in input order, is the row kept
first = {}
for i, r in enumerate(recs):
    first.setdefault(r[0], i)
dups = len(recs) - len(first)
assert q["duplicates"] == dups and q["rows_dropped"]["duplicate"] == dups, (q["duplicates"], dups)
h = h5py.File(sys.argv[3], "r")
kept = np.sort(np.concatenate([h[s]["row_id"][:] for s in ("train", "val", "test")]))
assert np.array_equal(kept, np.sort(np.array(list(first.values())))), "not the first occurrences"
print("quoted ok:", len(recs), "records,", dups, "duplicates, first occurrences kept (np=4)")
EOF
pass "quoted newlines across range boundaries: np 1..4 identical"

# ---- c) gzip shards, whole files per rank ------------------------------------------
mkdir -p "$TMP/gz"
for f in "$TMP"/raw/*.csv; do gzip -c "$f" >"$TMP/gz/$(basename "$f").gz"; done
timeout 120 "${MPIRUN[@]}" -np 3 "$etl" -q -c "$TMP/gen.cfg" -s "etl.input=$TMP/gz/*.csv.gz" \
  -s "etl.output=$TMP/out/gz.h5" || fail "gzip inputs: exit $?"
$PY - "$TMP/out/gz.profile.json" <<'EOF' || fail "gzip inputs: not read in parallel"
import json, sys
p = json.load(open(sys.argv[1]))
ex = [s for s in p["stages"] if s["name"] == "extract"][0]
assert p["ranks"] == 3 and ex["read_bytes"]["min"] > 0, ex["read_bytes"]  # every rank read a file
EOF
for obj in /train /val /test /meta/columns /meta/feature_names /meta/scale_offset /meta/scale_mul; do
  h5diff -q "$TMP/out/gen.np1.h5" "$TMP/out/gz.h5" "$obj" "$obj" ||
    fail "gzip inputs: $obj differs from the plain files"
done
pass "gzip inputs on 3 ranks (every rank decompressing whole files) give the same rows"
