# lib.sh — sourced by the script tests: paths, mpirun, a temp dir, assertions.
# Usage in a test: source "$(dirname "$0")/lib.sh" "$@"
set -euo pipefail
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
BIN=$BUILD/bin
TBIN=$BUILD/tests
PY=/usr/bin/python3 # Debian's python with numpy/h5py/pandas/sklearn/torch
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
export OMPI_MCA_btl_vader_single_copy_mechanism=none # no CMA in containers
TMP=$(mktemp -d /tmp/hpcml-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# expect_exit CODE CMD... : run CMD, require its exit code, keep its stderr in $TMP/err
expect_exit() {
  local want=$1; shift
  local got=0
  "$@" >"$TMP/out" 2>"$TMP/err" || got=$?
  if [[ $got -ne $want ]]; then
    cat "$TMP/err" >&2
    fail "expected exit $want, got $got: $*"
  fi
}
