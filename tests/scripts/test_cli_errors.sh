#!/usr/bin/env bash
# The command-line contract and errors across ranks: a misspelt key fails
# with file:line and a suggestion, --print-config round-trips, docs/config.md
# matches the schema, and a fault on one rank of four ends every rank
# promptly with one message and the right exit code.
# labels: mpi cli
# timeout: 300
# ranks: 1 (no launcher), 2, 4
# options: configs/demo.cfg; -s etl.columns, etl.input, gen.output_dir, gen.rows, gen.shards,
#   train.data, train.lr
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
gen=$BIN/hpcml-gen

# --help / --version / unknown option
expect_exit 0 "$gen" --help
grep -q "usage: hpcml-gen" "$TMP/out" || fail "--help prints no usage"
expect_exit 0 "$gen" --version
expect_exit 1 "$gen" --no-such-option
grep -q "unknown option '--no-such-option'" "$TMP/err" || fail "unknown option message"
pass "help, version, unknown option"

# misspelt key: exit 1, file and line, did-you-mean
printf 'gen = {\n  rows = 10;\n  sed = 3;\n};\n' >"$TMP/bad.cfg"
expect_exit 1 "${MPIRUN[@]}" -np 2 "$gen" -c "$TMP/bad.cfg"
grep -q "$TMP/bad.cfg:3: unknown key 'gen.sed' (did you mean 'seed'?)" "$TMP/err" ||
  { cat "$TMP/err"; fail "misspelt key message"; }
[[ $(grep -c "unknown key" "$TMP/err") -eq 1 ]] || fail "message printed more than once"
pass "misspelt key"

# -s: a key that a known key begins, a section given as a key, an error inside a list
expect_exit 1 "$gen" -s train.data=x
grep -q "unknown key 'train.data' (did you mean 'train.dataset'?)" "$TMP/err" ||
  { cat "$TMP/err"; fail "prefix suggestion"; }
expect_exit 1 "$gen" -s train=1
grep -q "(-s train=1): 'train' is a section; name one of its keys" "$TMP/err" ||
  { cat "$TMP/err"; fail "-s SECTION=value message"; }
grep -q "did you mean 'train'" "$TMP/err" && fail "suggested the name that was given"
expect_exit 1 "$gen" -s 'etl.columns=({ name = "a"; type = "bogus"; })'
grep -q "command line (-s etl.columns=...)" "$TMP/err" && ! grep -q ":0:" "$TMP/err" ||
  { cat "$TMP/err"; fail "an -s list error is blamed on the command line"; }
pass "-s messages: prefix suggestion, section as key, errors inside a list on the command line"

# bad value in an override
expect_exit 1 "$gen" -s gen.rows=-5
grep -q "gen.rows: expected a value in \[1," "$TMP/err" || fail "range message"
expect_exit 1 "$gen" -c "$TMP/missing.cfg"
grep -q "cannot open config file $TMP/missing.cfg" "$TMP/err" || fail "missing config message"
pass "bad override and missing file"

# --print-config round trip (defaults filled in, overrides applied)
"$gen" -c "$SRC/configs/demo.cfg" -s train.lr=0.0123 -s 'etl.input=data/*.csv' --print-config >"$TMP/a.cfg"
grep -q "lr = 0.0123;" "$TMP/a.cfg" || fail "override not printed"
grep -q 'input = \["data/\*.csv"\];' "$TMP/a.cfg" || fail "string override not printed"
"$gen" -c "$TMP/a.cfg" --print-config >"$TMP/b.cfg"
cmp "$TMP/a.cfg" "$TMP/b.cfg" || fail "--print-config does not round-trip"
pass "print-config round trip"

# docs/config.md is generated from the schema
"$gen" --config-reference >"$TMP/config.md"
diff -u "$SRC/docs/config.md" "$TMP/config.md" ||
  fail "docs/config.md is stale: run build/bin/hpcml-gen --config-reference > docs/config.md"
pass "docs/config.md current"

# 4 ranks, only rank 2 fails while writing: all end promptly, one message, exit 3
out=$TMP/gen4
start=$(date +%s)
HPCML_FAULT=gen.write@2 expect_exit 3 timeout 60 "${MPIRUN[@]}" -np 4 "$gen" \
  -s gen.rows=20000 -s gen.shards=8 -s "gen.output_dir=$out"
elapsed=$(($(date +%s) - start))
((elapsed < 30)) || fail "took ${elapsed}s to end"
[[ $(grep -c "injected fault at gen.write on rank 2" "$TMP/err") -eq 1 ]] ||
  { cat "$TMP/err"; fail "expected the message exactly once"; }
grep -q "MPI_ABORT" "$TMP/err" && fail "ended through MPI_Abort"
[[ ! -e $out/manifest.json ]] || fail "a failed run left a manifest"
pass "rank-2 fault ends 4 ranks in ${elapsed}s with exit 3"
