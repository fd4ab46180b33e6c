# lib.sh — sourced by the script tests: paths, mpirun, a temp dir, assertions.
# Usage in a test: source "$(dirname "$0")/lib.sh" "$@"
set -euo pipefail
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
BIN=$BUILD/bin
TBIN=$BUILD/tests
# Debian's python with numpy/h5py/pandas/sklearn/torch; HPCML_PYTHON names
# another (scripts/device/check.sh: the GPU image's python3 with the same).
PY=${HPCML_PYTHON:-/usr/bin/python3}
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
export OMPI_MCA_btl_vader_single_copy_mechanism=none # no CMA in containers
# When a rank exits with an error, mpirun otherwise waits 1 s before killing
# the rest (measured: ~0.5 s less per failing 4-rank run).
export OMPI_MCA_odls_base_sigkill_timeout=0
TMP=$(mktemp -d /tmp/hpcml-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
skip() { echo "SKIP: $*" >&2; exit 77; }

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

# need_exe PATH: a program the test needs (a test helper from the build).
need_exe() {
  [[ -x $1 ]] || fail "missing $1 (build the tests)"
}

# need_py_module MODULE: Debian's python module (python3-sklearn, -torch, ...)
# may still be installing on a fresh machine: wait up to a minute for it.
need_py_module() {
  local i
  for i in 1 2 3 4 5 6; do
    "$PY" -c "import $1" 2>/dev/null && return 0
    sleep 10
  done
  "$PY" -c "import $1" || fail "$1 is not importable by $PY"
}
