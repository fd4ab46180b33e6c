#!/usr/bin/env bash
# test_sweep_tpe_parity.sh — TPE's Parzen log densities equal Optuna 3.1's
# _ParzenEstimator.log_pdf within 1e-9 (tests/scripts/sweep_tpe_parity.py).
# labels: script sweep
# timeout: 120
# ranks: 1 (mpi_tpe_logpdf, no launcher)
# options: the helper program's arguments in the script (no config keys)
# skips (exit 77): the parity script cannot run (it exits 77)
source "$(dirname "$0")/lib.sh" "$@"
need_exe "$TBIN/mpi_tpe_logpdf"
need_py_module optuna
rc=0
"$PY" "$SRC/tests/scripts/sweep_tpe_parity.py" "$TBIN/mpi_tpe_logpdf" || rc=$?
[[ $rc -eq 77 ]] && exit 77
[[ $rc -eq 0 ]] || fail "TPE log densities differ from Optuna's"
pass "TPE log densities equal Optuna's"
