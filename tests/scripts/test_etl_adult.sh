#!/usr/bin/env bash
# hpcml-etl on UCI Adult (tests/data, CC BY 4.0) against an independent pandas
# computation (etl_adult_check.py): row counts, imputed values (numeric
# cells blanked on a fixed pattern so mean and median imputation have work),
# vocabularies, one-hot/index encodings, scaling fitted on train only, the
# stratified split, class counts and weights. adult.test brings the junk
# first line and the labels ending in '.'. Also: the same file from 1 and 3
# ranks is identical, and --infer-schema prints a block that loads back.
# labels: mpi etl
# timeout: 180
# ranks: 1, 3
# options: configs/adult.cfg; -s etl.output
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
etl=$BIN/hpcml-etl
check=$SRC/tests/scripts/etl_adult_check.py
cfg=$SRC/configs/adult.cfg
data=$SRC/tests/data

$PY "$check" holes "$data/adult.data" "$TMP/adult_holes.data"
inputs="etl.input=[\"$TMP/adult_holes.data\", \"$data/adult.test\"]"

for np in 1 3; do
  timeout 120 "${MPIRUN[@]}" -np $np "$etl" -q -c "$cfg" -s "$inputs" -s "etl.output=$TMP/out/adult.h5" \
    || fail "np=$np: exit $?"
  mv "$TMP/out/adult.h5" "$TMP/out/adult.np$np.h5"
done
h5diff -q "$TMP/out/adult.np1.h5" "$TMP/out/adult.np3.h5" || fail "np=1 and np=3 differ"
pass "adult: np 1 and 3 identical"

$PY "$check" check "$cfg" "$TMP/out/adult.np3.h5" "$TMP/adult_holes.data" "$data/adult.test" ||
  fail "adult: hpcml-etl and pandas disagree"
pass "adult: matches pandas"

$PY - "$TMP/out/adult.quality.json" <<'EOF' || fail "adult: quality.json"
import json, sys
q = json.load(open(sys.argv[1]))
assert q["rows_read"] == 32561 + 16281, q["rows_read"]
assert q["input"]["skipped_lines"] == 1          # "|1x3 Cross validator"
assert q["input"]["blank_lines"] == 2            # both files end with an empty line
assert q["columns"]["workclass"]["nulls"] == 1836 + 963, q["columns"]["workclass"]["nulls"]
assert q["columns"]["hours-per-week"]["nulls"] > 0
assert q["columns"]["native-country"]["vocabulary_size"] == 20
assert sum(q["splits"][s]["rows"] for s in ("train", "val", "test")) == q["rows_valid"]
print("quality.json ok")
EOF

# --infer-schema: a columns block that loads back as config
timeout 60 "$etl" -c "$cfg" -s "$inputs" --infer-schema >"$TMP/schema.txt" || fail "--infer-schema: exit $?"
grep -q '{ name = "age"; type = "int"; nullable = false; }' "$TMP/schema.txt" ||
  { cat "$TMP/schema.txt"; fail "--infer-schema: age"; }
grep -q '{ name = "workclass"; type = "category"; }' "$TMP/schema.txt" || fail "--infer-schema: workclass"
grep -q '{ name = "income"; type = "label";' "$TMP/schema.txt" || fail "--infer-schema: label"
{ echo "etl = {"; grep -v '^#' "$TMP/schema.txt"; echo "};"; } >"$TMP/inferred.cfg"
"$etl" -c "$TMP/inferred.cfg" --print-config >/dev/null || fail "--infer-schema output does not load"
pass "adult: --infer-schema"
