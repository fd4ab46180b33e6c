#!/usr/bin/env bash
# hpcml-etl on malformed inputs and unusable outputs: every case on 1, 2 and 4
# ranks must end within the timeout with the documented exit code
# (docs/exit-codes.md: 1 config, 2 bad data, 3 I/O), print one message that
# names the problem (FILE:LINE[:COLUMN] for bad records: the bad record sits
# at line 2501 of 3001 so that on 4 ranks it is read by rank 3, and the line
# number must not depend on the rank count), and leave no output file (no
# dataset, no temp file, no quality.json).
# labels: mpi etl
# timeout: 900
# ranks: 1, 2, 4
# options: configs written by the script; -s etl.chunk_rows, etl.input, etl.output,
#   gen.output_dir, gen.rows, gen.shards
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
etl=$BIN/hpcml-etl
IN=$TMP/in
mkdir -p "$IN"

$PY - "$IN" <<'EOF'
import gzip, os, random, sys
d = sys.argv[1]
random.seed(3)
head = "id,x,n,cat,Class\n"
good = [f"{i},{random.uniform(-5, 5):.5f},{random.randint(0, 99)},c{i % 5},{i % 2}\n" for i in range(3000)]
BAD = 2499  # data row 2499 = physical line 2501

def put(name, lines, header=head, mode="w"):
    with open(os.path.join(d, name), mode) as f:
        f.write(header + "".join(lines) if mode == "w" else (header + "".join(lines)).encode())

def with_bad(row):
    rows = list(good)
    rows[BAD] = row
    return rows

put("good.csv", good)
put("ragged_short.csv", with_bad("2499,1.0,3,c1\n"))
put("ragged_long.csv", with_bad("2499,1.0,3,c1,0,extra\n"))
put("unterminated_quote.csv", with_bad('2499,1.0,3,"c1,0\n'))
put("stray_quote.csv", with_bad('2499,1.0,3,c"1,0\n'))
put("after_quote.csv", with_bad('2499,1.0,3,"c1"x,0\n'))
put("not_a_number.csv", with_bad("2499,abc,3,c1,0\n"))
put("nan_text.csv", with_bad("2499,NaN,3,c1,0\n"))
put("inf_text.csv", with_bad("2499,-inf,3,c1,0\n"))
put("too_large.csv", with_bad("2499,1e400,3,c1,0\n"))
put("int_fraction.csv", with_bad("2499,1.0,3.5,c1,0\n"))
put("int_overflow.csv", with_bad("2499,1.0,99999999999999999999,c1,0\n"))
put("third_label.csv", with_bad("2499,1.0,3,c1,2\n"))
put("null_x.csv", with_bad("2499,,3,c1,0\n"))
put("ten_mb_line.csv", with_bad("2499," + "7" * 10_000_000 + "x,3,c1,0\n"))
put("empty_header_name.csv", good, header="id,,n,cat,Class\n")
put("duplicate_columns.csv", good, header="id,x,x,cat,Class\n")
put("missing_label.csv", [r.rsplit(",", 1)[0] + "\n" for r in good], header="id,x,n,cat\n")
put("missing_required.csv", [",".join(r.split(",")[:2] + r.split(",")[3:]) for r in good],
    header="id,x,cat,Class\n")
put("header_only.csv", [])
open(os.path.join(d, "empty.csv"), "w").close()
put("other_header.csv", good, header="id,x,n,kind,Class\n")
# classic Mac OS line ends: one 'line' of 3001 records
with open(os.path.join(d, "cr_only.csv"), "w", newline="") as f:
    f.write((head + "".join(good)).replace("\n", "\r"))
# ';'-separated, read with etl.delimiter = ",": a one-column header
put("semicolon.csv", [r.replace(",", ";") for r in good], header=head.replace(",", ";"))
rows = with_bad("2499,1.0,3,c\xff\xfe1,0\n")
with open(os.path.join(d, "invalid_utf8.csv"), "wb") as f:
    f.write((head + "".join(rows)).encode("latin-1"))
with open(os.path.join(d, "binary_garbage.csv"), "wb") as f:
    f.write(head.encode() + "".join(good[:2499]).encode() + bytes(random.randrange(256) for _ in range(20000)))
data = gzip.compress((head + "".join(good)).encode())
with open(os.path.join(d, "truncated.csv.gz"), "wb") as f:
    f.write(data[: len(data) // 2])
EOF
mkdir -p "$IN/a_directory.csv"
touch "$TMP/a_file"

# hpcml-gen output checked against its manifest.json (docs/etl.md): a missing,
# truncated, changed or foreign shard, a broken manifest, no manifest where one
# is required.
for d in gen_ok gen_missing gen_truncated gen_changed gen_unlisted gen_bad_manifest gen_nomanifest; do
  "$BIN/hpcml-gen" -q -s gen.rows=3000 -s gen.shards=3 -s "gen.output_dir=$IN/$d"
done
rm "$IN/gen_missing/part-00001.csv"
truncate -s -100 "$IN/gen_truncated/part-00002.csv"
$PY - "$IN/gen_changed/part-00001.csv" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b"5", len(b) // 2)  # one digit changed: same size, other bytes
b[i] = ord("6")
open(sys.argv[1], "wb").write(bytes(b))
EOF
cp "$IN/gen_unlisted/part-00000.csv" "$IN/gen_unlisted/part-00003.csv" # from "another run"
echo '{"format": "hpcml-gen-manifest", "version": 1,' >"$IN/gen_bad_manifest/manifest.json"
rm "$IN/gen_nomanifest/manifest.json"
GENCOLS='etl.columns=({name="Class";type="label";})'

cat >"$TMP/bad.cfg" <<'EOF'
etl = {
  label = "Class";
  columns = (
    { name = "id"; type = "id"; },
    { name = "x"; type = "float"; nullable = false; },
    { name = "n"; type = "int"; },
    { name = "cat"; type = "category"; },
    { name = "Class"; type = "label"; }
  );
};
EOF

# name | exit code | message (extended regex) | input | extra -s settings (space-separated)
cases=(
  "ragged_short|2|ragged_short.csv:2501: expected 5 fields, found 4|ragged_short.csv|"
  "ragged_long|2|ragged_long.csv:2501: expected 5 fields, found 6|ragged_long.csv|"
  "unterminated_quote|2|unterminated_quote.csv:2501:[0-9]+: unterminated quoted field|unterminated_quote.csv|"
  "stray_quote|2|stray_quote.csv:2501:[0-9]+: quote character inside an unquoted field|stray_quote.csv|"
  "after_quote|2|after_quote.csv:2501:[0-9]+: text after a closing quote|after_quote.csv|"
  "not_a_number|2|not_a_number.csv:2501:6: column 'x': 'abc' is not a number|not_a_number.csv|"
  "nan_text|2|nan_text.csv:2501:6: column 'x': 'NaN' is not a number|nan_text.csv|"
  "inf_text|2|inf_text.csv:2501:6: column 'x': '-inf' is not a number|inf_text.csv|"
  "too_large|2|too_large.csv:2501:6: column 'x': '1e400' is not a number|too_large.csv|"
  "int_fraction|2|int_fraction.csv:2501:[0-9]+: column 'n': '3.5' is not an integer|int_fraction.csv|"
  "int_overflow|2|int_overflow.csv:2501:[0-9]+: column 'n': '9+' is not an integer|int_overflow.csv|"
  "third_label|2|third_label.csv:2501:[0-9]+: column 'Class': '2' is not a known label|third_label.csv|"
  "null_violation|2|null_x.csv:2501: column 'x' is null but nullable = false|null_x.csv|etl.on_null_violation=error"
  "ten_mb_line|2|ten_mb_line.csv:2501:6: column 'x': '7+\.\.\.' is not a number|ten_mb_line.csv|"
  "invalid_utf8|2|invalid_utf8.csv:2501:[0-9]+: column 'cat': 'c.xff.xfe1' is not valid UTF-8|invalid_utf8.csv|"
  "binary_garbage|2|binary_garbage.csv:25[0-9][0-9]|binary_garbage.csv|"
  "empty_file|2|empty.csv: no header line|empty.csv|"
  "header_only|2|only 0 valid records \(etl.min_records = 1\): 0 records read|header_only.csv|"
  "min_records|2|only 3000 valid records \(etl.min_records = 5000\)|good.csv|etl.min_records=5000"
  "all_dropped|2|only 0 valid records.*dropped: out_of_range 3000|good.csv|etl.columns=({name=\"id\";type=\"id\";},{name=\"x\";min=100.0;},{name=\"cat\";type=\"category\";})"
  "duplicate_columns|2|duplicate column name 'x' \(columns 2 and 3\); header: \[id, x, x, cat, Class\]|duplicate_columns.csv|"
  "empty_header_name|2|column 2 has an empty name|empty_header_name.csv|"
  "missing_label|2|the label column 'Class' is missing; header found: \[id, x, n, cat\]|missing_label.csv|"
  "missing_required|2|required column 'n' missing; header found: \[id, x, cat, Class\]|missing_required.csv|"
  "cr_line_ends|2|cr_only.csv: the file uses CR line ends|cr_only.csv|"
  "one_column_header|2|semicolon.csv:1: the header is one column, 'id;x;n;cat;Class', split by ',' it is not|semicolon.csv|etl.delimiter=\",\""
  "header_mismatch|2|other_header.csv: the header differs from the one of .*good.csv|good.csv other_header.csv|"
  "unlisted_column|2|column 'n' is not in etl.columns \(etl.default_type = \"error\"\)|good.csv|etl.default_type=error etl.columns=({name=\"id\";type=\"id\";},{name=\"x\";},{name=\"cat\";type=\"category\";})"
  "gen_missing_shard|2|incomplete input: .*gen_missing/manifest.json lists 3 shards; 1 of them, matched by etl.input, are missing: .*gen_missing/part-00001.csv|gen_missing/*.csv|$GENCOLS"
  "gen_truncated_shard|2|gen_truncated/part-00002.csv: [0-9]+ bytes, but .*manifest.json records [0-9]+: the shard is incomplete|gen_truncated/*.csv|$GENCOLS"
  "gen_changed_shard|2|gen_changed/part-00001.csv: SHA-256 [0-9a-f]+\.\.\. differs from [0-9a-f]+\.\.\. recorded in .*gen_changed/manifest.json|gen_changed/*.csv|$GENCOLS"
  "gen_unlisted_shard|2|gen_unlisted/part-00003.csv is not a shard listed in .*gen_unlisted/manifest.json \(3 shards\)|gen_unlisted/*.csv|$GENCOLS"
  "gen_bad_manifest|2|gen_bad_manifest/manifest.json:[0-9]+:[0-9]+: not a valid hpcml-gen manifest|gen_bad_manifest/*.csv|$GENCOLS"
  "gen_no_manifest|2|no manifest.json in .*gen_nomanifest \(etl.check_manifest = \"require\"\)|gen_nomanifest/*.csv|$GENCOLS etl.check_manifest=require"
  "truncated_gzip|2|truncated.csv.gz: corrupt or truncated gzip data|truncated.csv.gz|"
  "directory_input|3|a_directory.csv is not a regular file|a_directory.csv|"
  "missing_input|3|cannot read input file .*no_such.csv: No such file or directory|no_such.csv|"
  "glob_no_match|3|no input file matches '.*/nothing\*.csv'|nothing*.csv|"
  "output_under_file|3|cannot create directory .*a_file/out: Not a directory|good.csv|etl.output=@TMP@/a_file/out/d.h5"
  "output_unwritable|3|cannot create directory /proc/hpcml-etl-test|good.csv|etl.output=/proc/hpcml-etl-test/d.h5"
  "bad_delimiter|1|etl.delimiter: the delimiter holds the quote character|good.csv|etl.delimiter=\""
  "fractions|1|etl.train_fraction \+ etl.val_fraction = 1.2 is above 1|good.csv|etl.train_fraction=0.9 etl.val_fraction=0.3"
)

run_case() { # np name code regex inputs extra
  local np=$1 name=$2 code=$3 regex=$4 inputs=$5 extra=$6
  local out=$TMP/out_$name
  rm -rf "$out"
  local args=(-c "$TMP/bad.cfg" -s "etl.output=$out/d.h5")
  local list="" f
  for f in $inputs; do list+="${list:+, }\"$IN/$f\""; done
  args+=(-s "etl.input=[$list]")
  local kv
  for kv in $extra; do args+=(-s "${kv//@TMP@/$TMP}"); done
  local start=$SECONDS
  expect_exit "$code" timeout 60 "${MPIRUN[@]}" -np "$np" "$etl" "${args[@]}"
  grep -Eq "hpcml-etl: error: .*$regex" "$TMP/err" ||
    { cat "$TMP/err" >&2; fail "$name (np=$np): message does not match /$regex/"; }
  [[ $(grep -c "hpcml-etl: error:" "$TMP/err") -eq 1 ]] || fail "$name (np=$np): message not printed once"
  if [[ -d $out ]]; then
    local left
    left=$(ls -A "$out")
    [[ -z $left ]] || fail "$name (np=$np): left files behind: $left"
  fi
  ((SECONDS - start < 30)) || fail "$name (np=$np): took $((SECONDS - start)) s"
}

# A usable input first, so the table tests the inputs and not the setup.
expect_exit 0 timeout 60 "${MPIRUN[@]}" -np 2 "$etl" -c "$TMP/bad.cfg" -s "etl.input=$IN/good.csv" \
  -s "etl.output=$TMP/ok/d.h5"
[[ -f $TMP/ok/d.h5 && -f $TMP/ok/d.quality.json ]] || fail "the good input wrote no dataset"
# Complete hpcml-gen output passes its manifest check (and quality.json names
# the manifest); one shard named alone needs no other; without a manifest
# ("auto") the shards are read with a warning.
expect_exit 0 timeout 60 "${MPIRUN[@]}" -np 2 "$etl" -c "$TMP/bad.cfg" -s "$GENCOLS" \
  -s "etl.input=$IN/gen_ok/*.csv" -s "etl.output=$TMP/ok/gen.h5"
$PY -c 'import json, sys; q = json.load(open(sys.argv[1])); assert q["input"]["manifests"] == [sys.argv[2]], q["input"]' \
  "$TMP/ok/gen.quality.json" "$IN/gen_ok/manifest.json" || fail "quality.json does not name the manifest"
expect_exit 0 timeout 60 "${MPIRUN[@]}" -np 2 "$etl" -c "$TMP/bad.cfg" -s "$GENCOLS" \
  -s "etl.input=$IN/gen_missing/part-00000.csv" -s "etl.output=$TMP/ok/one.h5"
expect_exit 0 timeout 60 "${MPIRUN[@]}" -np 2 "$etl" -c "$TMP/bad.cfg" -s "$GENCOLS" \
  -s "etl.input=$IN/gen_nomanifest/*.csv" -s "etl.output=$TMP/ok/noman.h5"
grep -q "no .*gen_nomanifest/manifest.json: cannot check that hpcml-gen finished" "$TMP/err" ||
  { cat "$TMP/err"; fail "no warning without a manifest"; }
pass "hpcml-gen output with its manifest, one shard alone, no manifest (warning)"

n=0
for c in "${cases[@]}"; do
  IFS='|' read -r name code regex inputs extra <<<"$c"
  for np in 1 2 4; do run_case "$np" "$name" "$code" "$regex" "$inputs" "$extra"; done
  n=$((n + 1))
  pass "$name: exit $code on 1, 2 and 4 ranks"
done

# A full file system: a file-size limit on the ranks (not on mpirun, whose
# own files must fit; shared-memory transport off for the same reason).
for np in 1 2 4; do
  out=$TMP/out_full
  rm -rf "$out"
  expect_exit 3 timeout 60 "${MPIRUN[@]}" --mca btl self,tcp -np $np bash -c \
    "trap '' XFSZ; ulimit -f 64; exec \"$etl\" -c \"$TMP/bad.cfg\" -s etl.input=$IN/good.csv -s etl.output=$out/d.h5 -s etl.chunk_rows=100"
  grep -q "hpcml-etl: error: cannot write $out/d.h5.tmp.[^:]*: .* needed: File too large" "$TMP/err" ||
    { cat "$TMP/err" >&2; fail "full file system (np=$np): message"; }
  [[ -z $(ls -A "$out") ]] || fail "full file system (np=$np): left $(ls -A "$out")"
done
n=$((n + 1))
pass "full file system (file-size limit): exit 3 on 1, 2 and 4 ranks"

# A write failure on one rank of four (fault injection) ends all of them with exit 3.
out=$TMP/out_fault
HPCML_FAULT=etl.write@2 expect_exit 3 timeout 60 "${MPIRUN[@]}" -np 4 "$etl" -c "$TMP/bad.cfg" \
  -s "etl.input=$IN/good.csv" -s "etl.output=$out/d.h5"
[[ $(grep -c "injected fault at etl.write on rank 2" "$TMP/err") -eq 1 ]] || fail "fault message"
[[ -z $(ls -A "$out") ]] || fail "fault: left $(ls -A "$out")"
n=$((n + 1))
pass "write fault on rank 2 of 4: exit 3, nothing left"
echo "$n malformed-input cases passed"
