#!/usr/bin/env bash
# hpcml-etl on CSV files as they come (issue 15 part 2), made-up files:
#  - a ';'-separated file with every field quoted: with etl.delimiter unset
#    the delimiter is detected, logged and stored in /meta/config, and the
#    dataset is the same on 1 and 2 ranks; with etl.delimiter = "," the
#    error says which delimiter to set;
#  - a date-sorted file whose rare category and a column's first values
#    appear only late, with identifier, free-text and constant columns:
#    --infer-schema samples the whole input (the same block on 1, 2 and 3
#    ranks), marks id / ignore with the reason, suggests the label with its
#    positive value, and the printed block runs as the etl section.
# ranks: 1, 2, 3. options: etl.infer_sample_rows = 2000.
# labels: mpi etl
# timeout: 240
source "$(dirname "$0")/lib.sh" "$@"
etl=$BIN/hpcml-etl
IN=$TMP/in
mkdir -p "$IN"

$PY - "$IN" <<'EOF'
import os, random, sys
d = sys.argv[1]
random.seed(15)
# 1. ';'-separated, every field quoted (a ';' inside a quoted text too)
with open(os.path.join(d, "semi.csv"), "w") as f:
    f.write('"id";"amount";"city";"note";"flag"\n')
    for i in range(3000):
        f.write(f'"{i}";"{random.uniform(0, 100):.3f}";"{random.choice(["Lyon", "Nice", "Metz"])}";'
                f'"a; b {i % 7}";"{random.choice(["yes", "no", "no"])}"\n')
# 2. sorted by date: 'app' appears in the last 6 % only, 'promo' is null in
# the first 60 %, surnames are free text, customer numbers unique, the
# currency constant, the row number rising; 'churned' is the label.
n = 20000
syll = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fe", "go"]
with open(os.path.join(d, "dated.csv"), "w") as f:
    f.write("row_no,month,customer_id,surname,channel,promo,currency,spend,churned\n")
    ids = random.sample(range(100000, 999999), n)
    for i in range(n):
        month = f"2024-{1 + i * 12 // n:02d}"
        channel = "app" if i >= n * 0.94 else random.choice(["web", "store"])
        promo = "" if i < n * 0.6 else random.choice(["SPRING", "SUMMER", "NONE"])
        surname = "".join(random.choice(syll) for _ in range(4)).capitalize()
        churned = "yes" if random.random() < 0.2 else "no"
        f.write(f"{i + 1},{month},{ids[i]},{surname},{channel},{promo},USD,"
                f"{random.gauss(50, 10):.2f},{churned}\n")
EOF

cat >"$TMP/semi.cfg" <<EOF
etl = {
  input = "$IN/semi.csv";
  label = "flag";
  positive_labels = ["yes"];
  negative_labels = ["no"];
  columns = ( { name = "id"; type = "id"; }, { name = "city"; type = "category"; },
              { name = "note"; type = "ignore"; } );
};
EOF

# 1. detection: logged, stored in /meta/config, identical on 1 and 2 ranks
for np in 1 2; do
  expect_exit 0 timeout 60 "${MPIRUN[@]}" -np $np "$etl" -c "$TMP/semi.cfg" -s "etl.output=$TMP/semi.h5"
  mv "$TMP/semi.h5" "$TMP/semi$np.h5"
  grep -q "etl.delimiter not set: detected ';' (5 fields in each of the first 200 records of .*semi.csv)" "$TMP/err" ||
    { cat "$TMP/err"; fail "semi (np=$np): the detected delimiter is not logged"; }
done
h5diff -q "$TMP/semi1.h5" "$TMP/semi2.h5" || fail "semi: np=1 and np=2 differ"
$PY - "$TMP/semi1.h5" <<'EOF' || fail "semi: /meta/config does not hold the detected delimiter"
import h5py, sys
f = h5py.File(sys.argv[1], "r")
text = f["/meta/config"][()]
text = text.decode() if isinstance(text, bytes) else str(text)
assert 'delimiter = ";";' in text, [l for l in text.splitlines() if "delimiter" in l]
assert f["/meta"].attrs["rows_train"] + f["/meta"].attrs["rows_val"] + f["/meta"].attrs["rows_test"] == 3000
EOF
pass "';'-separated quoted file: delimiter detected, logged, stored; same on 1 and 2 ranks"

# ... and with the wrong delimiter set, the error says which one to set
expect_exit 2 timeout 60 "${MPIRUN[@]}" -np 2 "$etl" -c "$TMP/semi.cfg" -s 'etl.delimiter=","' \
  -s "etl.output=$TMP/bad.h5"
grep -q "semi.csv:1:[0-9]*: in the header: text after a closing quote" "$TMP/err" || { cat "$TMP/err"; fail "semi with ',': message"; }
grep -q "the header parses as 5 columns split by ';': set etl.delimiter = \";\"" "$TMP/err" ||
  { cat "$TMP/err"; fail "semi with ',': no hint which delimiter to set"; }
[[ ! -e $TMP/bad.h5 ]] || fail "semi with ',': output written"
pass "wrong delimiter set: the error names the one to set"

cat >"$TMP/dated.cfg" <<EOF
etl = { input = "$IN/dated.csv"; infer_sample_rows = 2000; };
EOF
# 2. --infer-schema over the whole input, the same on 1, 2 and 3 ranks
for np in 1 2 3; do
  expect_exit 0 timeout 60 "${MPIRUN[@]}" -np $np "$etl" -c "$TMP/dated.cfg" --infer-schema
  cp "$TMP/out" "$TMP/schema$np.txt"
done
cmp -s "$TMP/schema1.txt" "$TMP/schema2.txt" && cmp -s "$TMP/schema1.txt" "$TMP/schema3.txt" ||
  { diff "$TMP/schema1.txt" "$TMP/schema3.txt"; fail "--infer-schema differs between 1, 2 and 3 ranks"; }
s=$TMP/schema1.txt
want() { grep -Eq "$1" "$s" || { cat "$s"; fail "--infer-schema: $2"; }; }
want '^# .* from [0-9]+ records: 20 chunks of up to 100 consecutive records at evenly spaced offsets of 1 file' "how the sample was drawn"
want '\{ name = "row_no"; type = "id"; \}.*rising with every record' "row number as id"
want '\{ name = "customer_id"; type = "id"; \}.*all [0-9]+ sampled values distinct, named like an identifier' "customer number as id"
want '\{ name = "month"; type = "category"; nullable = false; \}.*12 distinct' "all 12 months"
want '\{ name = "channel"; type = "category"; nullable = false; \}.*3 distinct.*app' "the late category"
want '\{ name = "promo"; type = "category"; \}' "a column null only early"
want '\{ name = "surname"; type = "ignore"; \}.*free text' "free text"
want '\{ name = "currency"; type = "ignore"; \}.*constant' "constant column"
want '\{ name = "spend"; type = "float"; nullable = false; \}' "spend"
want '\{ name = "churned"; type = "label"; \}' "label column"
want '^label = "churned";  # suggested' "suggested label"
want '^positive_labels = \["yes"\];' "positive value (the rarer)"
want '^negative_labels = \["no"\];' "negative value"
pass "--infer-schema: whole-input sample, id / free text / constant marked, label suggested; same on 1, 2, 3 ranks"

# the block runs as the etl section of a config
{ echo "etl = {"; echo "  input = \"$IN/dated.csv\";"; grep -v '^#' "$s"; echo "};"; } >"$TMP/inferred.cfg"
expect_exit 0 timeout 60 "${MPIRUN[@]}" -np 2 "$etl" -c "$TMP/inferred.cfg" -s "etl.output=$TMP/dated.h5"
[[ -f $TMP/dated.h5 ]] || fail "the inferred config wrote no dataset"
pass "the printed block runs as a config"
