#!/usr/bin/env bash
# setup.sh — install the Debian 12 packages hpcml needs, only those missing.
#   scripts/setup.sh          what the programs and the demo need
#   scripts/setup.sh --slurm  plus a one-node Slurm (scripts/demo.sh --slurm)
#   scripts/setup.sh --test   plus what the test suite needs (Python peers, clang, Slurm,
#                             matplotlib for the scaling plot, Lmod, man-db and tclsh for
#                             the installed module's test, optuna for the TPE parity test,
#                             headless Chromium and a font for the report's browser test,
#                             python3-onnx, Node.js and ONNX Runtime (npm onnxruntime-node,
#                             into .cache/npm) for the ONNX export's test)
set -euo pipefail

core=(build-essential cmake pkg-config openmpi-bin libopenmpi-dev libhdf5-openmpi-dev
      hdf5-tools libopenblas-dev libconfig-dev libjansson-dev zlib1g-dev python3)
slurm=(munge slurmctld slurmd slurm-client)
test_extra=(python3-numpy python3-scipy python3-h5py python3-pandas python3-sklearn python3-torch
            python3-matplotlib python3-optuna clang libclang-rt-14-dev gzip chromium
            fonts-dejavu-core "${slurm[@]}" lmod man-db tcl git python3-onnx nodejs)
# ONNX Runtime for tests/scripts/test_export.sh and benchmarks/forward_vs_ort.sh: the npm
# package's CPU runtime ships inside it; --ignore-scripts skips its install script, which
# only fetches GPU parts (and fails without network). Pinned: the tests' reference.
ort_version=1.20.1
root=$(cd "$(dirname "$0")/.." && pwd)
ort_dir=$root/.cache/npm

want=("${core[@]}")
case "${1:-}" in
  --test)
    want+=("${test_extra[@]}")
    # Debian's npm, unless an npm came with another Node.js build (NodeSource's has its own)
    command -v npm >/dev/null || want+=(npm)
    ;;
  --slurm) want+=("${slurm[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ ${1:-} == --test ]] &&
   ! grep -qs "\"version\": \"$ort_version\"" "$ort_dir/node_modules/onnxruntime-node/package.json"; then
  echo "setup: installing onnxruntime-node@$ort_version into $ort_dir" >&2
  mkdir -p "$ort_dir"
  npm install --ignore-scripts --no-audit --no-fund --prefix "$ort_dir" \
    "onnxruntime-node@$ort_version" >&2
fi
