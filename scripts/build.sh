#!/usr/bin/env bash
# build.sh — configure and build hpcml into build/ (or $HPCML_BUILD_DIR).
#   extra arguments go to cmake's configure step, e.g. -DHPCML_SANITIZE=ON
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${HPCML_BUILD_DIR:-$root/build}
mkdir -p "$build"
log=$build/hpcml-build.log
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >"$log" 2>&1 ||
  { cat "$log" >&2; exit 1; }
grep "^-- hpcml:" "$log" >&2 || true
cmake --build "$build" -j "$(nproc)" >>"$log" 2>&1 ||
  { tail -50 "$log" >&2; exit 1; }
if grep -q "warning:" "$log"; then
  grep -B3 "warning:" "$log" >&2
  echo "build: compiler warnings (the build must be warning-free)" >&2
  exit 1
fi
