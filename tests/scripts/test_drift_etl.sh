#!/usr/bin/env bash
# The drift reference end to end:
#   a) hpcml-etl writes /meta/drift (the train split's summaries) and it is
#      identical for -np 1 and -np 3 (h5diff, the whole file too); its counts
#      match the train rows' raw values read back with h5py (null counts and
#      per-category counts, the numeric count per column);
#   b) a next batch from hpcml-gen with another seed and no drift options is
#      not drifted per the module (tests/mpi/mpi_drift_tool.c compare: the
#      new batch's own ETL reference against the training one), neither with
#      the default method (Jensen-Shannon at this size) nor with KS;
#   c) the same batch with gen.drift_columns shifted by one sd and a share of
#      categories never seen drifts: exactly those columns (and the
#      categorical one) are marked, the dataset verdict is drift;
#   d) drift.json follows the version 1 contract and drift.svg is XML with
#      the drifted columns marked.
# labels: mpi etl drift
# timeout: 300
# ranks: 1, 3
# options: configs written by the script; -s etl.input, etl.output, gen.categorical_columns,
#   gen.drift_columns, gen.drift_shift, gen.missing_fraction, gen.new_category_fraction,
#   gen.output_dir, gen.positive_fraction, gen.rows, gen.seed, gen.shards,
#   monitoring.categorical_method, monitoring.numeric_method
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
gen=$BIN/hpcml-gen
etl=$BIN/hpcml-etl
tool=$TBIN/mpi_drift_tool
need_exe "$tool"
cd "$TMP"

cat >"$TMP/etl.cfg" <<EOF
etl = {
  label = "Class";
  columns = (
    { name = "Amount"; type = "float"; impute = "median"; },
    { name = "Cat1"; type = "category"; },
    { name = "Class"; type = "label"; nullable = false; }
  );
};
EOF
common=(-s gen.shards=3 -s gen.categorical_columns=1 -s gen.missing_fraction=0.02 -s gen.positive_fraction=0.01)

# ---- a) the reference, np 1 vs 3 ------------------------------------------------
"$gen" -q "${common[@]}" -s gen.rows=12000 -s gen.seed=1 -s "gen.output_dir=$TMP/train"
for np in 1 3; do # the same output path: the effective config in /meta names it
  timeout 120 "${MPIRUN[@]}" -np $np "$etl" -q -c "$TMP/etl.cfg" -s "etl.input=[\"$TMP/train/*.csv\"]" \
    -s "etl.output=$TMP/out/dataset.h5" >"$TMP/log" 2>&1 || { cat "$TMP/log"; fail "etl np=$np"; }
  mkdir -p "$TMP/ref$np"
  mv "$TMP/out/dataset.h5" "$TMP/ref$np/dataset.h5"
done
h5diff -q "$TMP/ref1/dataset.h5" "$TMP/ref3/dataset.h5" /meta/drift /meta/drift ||
  fail "/meta/drift differs between np 1 and np 3"
h5diff -q "$TMP/ref1/dataset.h5" "$TMP/ref3/dataset.h5" || fail "dataset.h5 differs between np 1 and np 3"
$PY - "$TMP/ref1/dataset.h5" "$TMP/train" <<'EOF' || fail "/meta/drift does not match the train rows"
import glob, sys, h5py, numpy as np, pandas as pd
f = h5py.File(sys.argv[1], "r")
g = f["/meta/drift"]
assert g.attrs["format"] == "hpcml-drift-reference" and g.attrs["version"] == 1
rows = pd.concat([pd.read_csv(p) for p in sorted(glob.glob(sys.argv[2] + "/*.csv"))], ignore_index=True)
train = rows.iloc[f["/train/row_id"][:]]
assert g.attrs["rows"] == len(train), (g.attrs["rows"], len(train))
names = [n.decode() for n in g["columns"][:]]
assert names[:2] == ["Time", "V1"] and len(names) == 31, names
assert "Class" not in names and "Cat1" in names and "Amount" in names, names
for name in ["Time", "V1", "V7", "Amount"]:
    c = g[name]
    assert c.attrs["type"] == "numeric"
    assert c.attrs["nulls"] == train[name].isna().sum(), (name, c.attrs["nulls"])
    assert c.attrs["count"] == train[name].notna().sum() == c["bucket_counts"][:].sum()
c = g["Cat1"]
cats = [x.decode() for x in c["categories"][:]]
counts = dict(zip(cats, c["counts"][:]))
vc = train["Cat1"].value_counts()
for k, v in vc.items():
    assert counts[k] == v, (k, counts[k], v)
assert counts["<unknown>"] == 0 and c.attrs["nulls"] == train["Cat1"].isna().sum()
print("reference ok:", len(names), "columns,", len(train), "train rows")
EOF
pass "reference present, identical for np 1 and 3, equal to the train rows' counts"

# ---- b) an undrifted next batch; c) a drifted one --------------------------------
batch() { # NAME [gen options]
  local name=$1; shift
  "$gen" -q "${common[@]}" -s gen.rows=3000 -s gen.seed=2 -s "gen.output_dir=$TMP/$name" "$@"
  "$etl" -q -c "$TMP/etl.cfg" -s "etl.input=[\"$TMP/$name/*.csv\"]" -s "etl.output=$TMP/$name/dataset.h5" \
    >"$TMP/log" 2>&1 || { cat "$TMP/log"; fail "etl of $name"; }
}
batch same
batch drifted -s 'gen.drift_columns=["V1","V2","V3","V4","V5","V6","V7","V8","V9","V10","V11","V12","V13","V14","V15","V16","Amount"]' \
  -s gen.drift_shift=1.0 -s gen.new_category_fraction=0.2

out=$("$tool" compare "$TMP/ref1/dataset.h5" "$TMP/same/dataset.h5" "$TMP/same.json" "$TMP/same.svg") ||
  fail "compare (undrifted)"
[[ $out == "dataset_drift=0 drifted=0 of 31" ]] || fail "undrifted batch: $out"
out=$("$tool" compare "$TMP/ref1/dataset.h5" "$TMP/same/dataset.h5" "$TMP/same_ks.json" "$TMP/same_ks.svg" \
  -s monitoring.numeric_method=ks -s monitoring.categorical_method=chisquare) || fail "compare (undrifted, ks)"
# KS at p < 0.05 on 31 columns may flag one or two by chance (the binomial
# tail of 31 x 5 %), never the dataset
[[ $out =~ ^dataset_drift=0\ drifted=[0-2]\ of\ 31$ ]] || fail "undrifted batch (ks): $out"
out=$("$tool" compare "$TMP/ref1/dataset.h5" "$TMP/drifted/dataset.h5" "$TMP/drift.json" "$TMP/drift.svg") ||
  fail "compare (drifted)"
[[ $out == "dataset_drift=1 drifted=18 of 31" ]] || fail "drifted batch: $out"
pass "undrifted batch: no drift; drifted batch: $out"

# ---- d) the files --------------------------------------------------------------------
$PY - "$TMP/drift.json" "$TMP/drift.svg" "$TMP/same.json" <<'EOF' || fail "drift.json / drift.svg"
import json, sys
import xml.etree.ElementTree as ET
d = json.load(open(sys.argv[1]))
for k in ["format", "version", "model", "rows_reference", "rows_current", "dataset_drift",
          "drifted_columns", "columns_total", "drift_share", "columns"]:
    assert k in d, k
assert d["format"] == "hpcml-drift" and d["version"] == 1 and d["dataset_drift"] is True
assert d["columns_total"] == len(d["columns"]) == 31 and d["drift_share"] == 0.5
want = {f"V{j}" for j in range(1, 17)} | {"Amount", "Cat1"}
got = {c["name"] for c in d["columns"] if c["drifted"]}
assert got == want, (got ^ want)
for c in d["columns"]:
    for k in ["name", "type", "method", "statistic", "p_value", "threshold", "drifted", "psi",
              "jensenshannon", "null_share_reference", "null_share_current", "reference", "current"]:
        assert k in c, (c["name"], k)
    assert c["method"] == "jensenshannon" and c["p_value"] is None and c["threshold"] == 0.1
    r, cur = c["reference"], c["current"]
    if c["type"] == "numeric":
        assert r["edges"] == cur["edges"] and len(r["edges"]) == len(r["counts"]) + 1
        assert all(a < b for a, b in zip(r["edges"], r["edges"][1:]))
    else:
        assert r["categories"][-1] == "<unknown>" and r["categories"] == cur["categories"]
        assert len(r["counts"]) == len(r["categories"])
        share = cur["counts"][-1] / sum(cur["counts"])
        assert 0.15 < share < 0.25, share  # the unseen level lands in <unknown>
    assert (c["statistic"] >= c["threshold"]) == c["drifted"]
amount = next(c for c in d["columns"] if c["name"] == "Amount")
assert 0.01 < amount["null_share_reference"] or amount["null_share_reference"] == 0
v1 = next(c for c in d["columns"] if c["name"] == "V1")
assert 0.005 < v1["null_share_reference"] < 0.04, v1["null_share_reference"]
s = json.load(open(sys.argv[3]))
assert s["dataset_drift"] is False and s["drifted_columns"] == 0
svg = ET.parse(sys.argv[2]).getroot()
ns = "{http://www.w3.org/2000/svg}"
groups = [g for g in svg.iter(ns + "g") if "column" in g.get("class", "").split()]
marked = [g for g in groups if "drifted" in g.get("class", "").split()]
assert len(groups) == 31 and len(marked) == 18, (len(groups), len(marked))
print("drift.json and drift.svg ok")
EOF
pass "drift.json follows version 1, drift.svg marks the 18 drifted columns"
