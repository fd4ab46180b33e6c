#!/usr/bin/env bash
# Fuzzes the ETL's CSV tokenizer and number parsers (tests/fuzz/fuzz_csv.c)
# with libFuzzer + ASan + UBSan for a bounded time; fails on any crash.
# labels: fuzz
# timeout: 300
# ranks: none (libFuzzer binary, no MPI)
# options: none
# skips (exit 77): never
# Usage: test_fuzz_csv.sh BUILD_DIR SRC_DIR
#   HPCML_FUZZ_SECONDS (default 60) bounds the run; CC_FUZZ picks the clang.
# The fuzz directory is configured on its own (no MPI/HDF5 needed) under
# BUILD_DIR/fuzz-csv; crashing inputs are written there as crash-*.
set -euo pipefail
build=${1:?usage: test_fuzz_csv.sh BUILD_DIR SRC_DIR}
src=${2:?usage: test_fuzz_csv.sh BUILD_DIR SRC_DIR}
seconds=${HPCML_FUZZ_SECONDS:-60}

cc=${CC_FUZZ:-}
if [[ -z $cc ]]; then
  for c in clang clang-14 clang-15 clang-16 clang-17 clang-18; do
    if command -v "$c" >/dev/null 2>&1; then cc=$c; break; fi
  done
fi
if [[ -z $cc ]]; then
  echo "test_fuzz_csv: FAIL: no clang found (libFuzzer needs clang; apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 1
fi
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
  > "$probe_dir/probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe_dir/probe.c" -o "$probe_dir/probe" \
     > "$probe_dir/probe.log" 2>&1; then
  echo "test_fuzz_csv: FAIL: $cc cannot link a libFuzzer program (is libclang-rt-NN-dev installed?):" >&2
  cat "$probe_dir/probe.log" >&2
  exit 1
fi

out="$build/fuzz-csv"
mkdir -p "$out/corpus"
CC=$cc cmake -S "$src/tests/fuzz" -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$out/configure.log" 2>&1 \
  || { cat "$out/configure.log" >&2; echo "test_fuzz_csv: FAIL: configure" >&2; exit 1; }
cmake --build "$out" --target fuzz_csv > "$out/build.log" 2>&1 \
  || { cat "$out/build.log" >&2; echo "test_fuzz_csv: FAIL: build" >&2; exit 1; }

# New inputs go to the work corpus; the seeds in the source tree stay read-only.
echo "test_fuzz_csv: fuzzing for ${seconds}s with $cc"
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if ! "$out/fuzz_csv" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
       -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$src/tests/fuzz/corpus" \
       > "$out/fuzz.log" 2>&1; then
  tail -n 60 "$out/fuzz.log" >&2
  echo "test_fuzz_csv: FAIL: the fuzzer found a crash; input saved as $out/crash-* (replay: $out/fuzz_csv FILE)" >&2
  exit 1
fi
grep -E "^stat::number_of_executed_units|^Done|INFO: seed corpus" "$out/fuzz.log" || true
echo "test_fuzz_csv: OK"
