#!/usr/bin/env bash
# test.sh — the full test suite: installs what is missing, builds (unit tests
# with ASan+UBSan), runs every test under ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" --test
export HPCML_BUILD_DIR=${HPCML_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" -DHPCML_SANITIZE=ON
cd "$HPCML_BUILD_DIR"
ctest --output-on-failure --timeout 900 "$@"
