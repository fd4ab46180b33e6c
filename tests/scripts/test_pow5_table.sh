#!/usr/bin/env bash
# The 128-bit powers of five in src/etl/pow5_table.inc must be exactly what
# src/etl/gen_pow5_table.py generates (the generator also checks each
# entry's binary exponent against the shortcut parse_number.c uses).
# labels: unit etl
# timeout: 60
# ranks: none (python generator)
# options: none
# skips (exit 77): never
# Usage: test_pow5_table.sh BUILD_DIR SRC_DIR
set -euo pipefail
build=${1:?usage: test_pow5_table.sh BUILD_DIR SRC_DIR}
src=${2:?usage: test_pow5_table.sh BUILD_DIR SRC_DIR}
if ! command -v python3 >/dev/null 2>&1; then
  echo "test_pow5_table: FAIL: python3 is needed to regenerate the table" >&2
  exit 1
fi
mkdir -p "$build"
python3 "$src/src/etl/gen_pow5_table.py" > "$build/pow5_table.inc.regenerated"
if ! cmp -s "$build/pow5_table.inc.regenerated" "$src/src/etl/pow5_table.inc"; then
  echo "test_pow5_table: FAIL: src/etl/pow5_table.inc differs from the generator's output:" >&2
  diff "$src/src/etl/pow5_table.inc" "$build/pow5_table.inc.regenerated" | head -20 >&2
  exit 1
fi
echo "test_pow5_table: OK ($(grep -c '/\* 5^' "$src/src/etl/pow5_table.inc") entries)"
