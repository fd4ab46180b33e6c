#!/usr/bin/env bash
# build.sh — configure and build hpcml into build/ (or $HPCML_BUILD_DIR).
#   extra arguments go to cmake's configure step, e.g. -DHPCML_SANITIZE=ON
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${HPCML_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log" >&2; exit 1; }
cmake --build "$build" -j "$(nproc)" >"$build.build.log" 2>&1 ||
  { tail -50 "$build.build.log" >&2; exit 1; }
if grep -q "warning:" "$build.build.log"; then
  grep "warning:" "$build.build.log" >&2
  echo "build: compiler warnings (the build must be warning-free)" >&2
  exit 1
fi
