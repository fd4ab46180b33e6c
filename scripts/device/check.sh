#!/usr/bin/env bash
# check.sh — the GPU device check: unpack the kit (device-kit/, from
# scripts/device/pack.sh) into a private prefix, build hpcml with nvcc
# (sm_90), the kit's libraries and the image's NCCL, and run the checks of
# docs/gpu.md ("The device check"), each time-boxed, continuing after a
# failure. Writes OUT_DIR/summary.json (each step: pass/fail/skip, seconds,
# figures) and OUT_DIR/check.log.
#
#   bash scripts/device/check.sh [OUT_DIR] [--cpu] [--steps a,b,...]
#
#   OUT_DIR   where summary.json and check.log go (default: $OUT)
#   --cpu     no GPU: build with -DHPCML_CUDA=OFF; the GPU tests must skip
#             (exit 77), the GPU/CPU comparison becomes 2 CPU ranks against
#             1, preemption runs on the CPU (prove_clean_root.sh uses this)
#   --steps   run only these steps (a re-run on a warm machine: the prefix
#             and build in build-device/ are reused when unchanged)
# Environment: HPCML_CHECK_BUDGET (seconds for all steps, default 420),
# HPCML_CHECK_EPOCHS (demo-model epochs, default 3), HPCML_CHECK_ROWS
# (gen.rows of the demo data; default the demo's 284807),
# HPCML_CHECK_TIMEOUT_SCALE (multiplies each step's timeout; default 1).
# Exit status: 0 when no step failed, 1 otherwise.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SELF=$ROOT/scripts/device/check.sh
source "$ROOT/scripts/device/kit.conf"
source "$ROOT/scripts/device/kit_lib.sh"
TOOLS=$ROOT/scripts/device/check_tools.py

# ---- the steps (each runs in its own bash under timeout; exit 0 pass,
# 77 skip with a "SKIP: reason" line, anything else fail) --------------------
skip() { echo "SKIP: $*"; exit 77; }
# need_build [FILE...]: hpcml-train and these (relative to the build) were
# built; the build keeps going past a failing target (make -k), so a step
# runs when what it needs exists even if the build step failed.
need_build() {
  local f
  for f in bin/hpcml-train "$@"; do
    [[ -x $BUILD/$f ]] || skip "$f not built (see the build step)"
  done
}
gpu_mode() { [[ $MODE == gpu ]]; }
fig() { printf '%s\t%s\n' "$1" "$2" | tee -a "$FIG"; }
tools() { python3 "$TOOLS" "$@"; }
TRAIN() { "$BUILD/bin/hpcml-train" -c "$ROOT/configs/demo.cfg" -s "train.dataset=$DATA/hpcml-out/dataset.h5" \
          -s train.resume=never -s "train.epochs=$EPOCHS" "$@"; }
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)

step_env() {
  fig mode "$MODE"
  fig kernel "$(uname -r)"
  fig os "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
  fig cores "$(nproc)"
  fig gcc "$(gcc -dumpfullversion 2>/dev/null || echo none)"
  fig python3 "$(command -v python3 || echo none)"
  local c
  c=$(type -ap cmake | grep -v "^$PREFIX/" | head -1)
  fig cmake_image "${c:-none} $([[ -n $c ]] && "$c" --version | awk 'NR==1{print $3}')"
  fig nvcc "$(nvcc --version 2>/dev/null | awk -F'release ' '/release/{print $2}' || echo none)"
  fig gpu "$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
  fig torch "$(python3 -c 'import torch; print(torch.__version__, torch.cuda.is_available())' 2>/dev/null || echo none)"
  fig h5py_numpy "$(python3 -c 'import h5py, numpy; print(h5py.__version__, numpy.__version__)' 2>/dev/null || echo none)"
  command -v python3 >/dev/null || { echo "python3 is needed (summary, comparisons)"; exit 1; }
  if gpu_mode; then
    command -v nvcc >/dev/null || { echo "no nvcc on PATH or in /usr/local/cuda/bin"; exit 1; }
  fi
}

step_unpack() {
  if [[ -f $PREFIX/.kit-manifest ]] && cmp -s "$PREFIX/.kit-manifest" "$ROOT/$KIT_DIR/MANIFEST"; then
    echo "kit already unpacked in $PREFIX (same MANIFEST)"
  else
    kit_unpack "$ROOT/$KIT_DIR" "$PREFIX" || exit 1
    cp "$ROOT/$KIT_DIR/MANIFEST" "$PREFIX/.kit-manifest"
  fi
  kit_env "$PREFIX"
  fig packages "$(wc -l <"$PREFIX/.kit-manifest")"
  fig prefix_mib "$(du -sm "$PREFIX" | cut -f1)"
  kit_check_libs "$PREFIX" || { echo "libraries of the kit that do not resolve (above)"; exit 1; }
  fig mpirun "$(command -v mpirun) $(mpirun --version | awk 'NR==1{print $NF}')"
  h5pcc -showconfig | grep -q 'Parallel HDF5: yes' || { echo "h5pcc: not a parallel HDF5"; exit 1; }
  fig pkgconfig "libconfig $(pkg-config --modversion libconfig) jansson $(pkg-config --modversion jansson)"
  timeout 60 "${MPIRUN[@]}" -np 2 true || { echo "mpirun -np 2 true failed"; exit 1; }
}

# The directories of the image's NVIDIA Python wheels (site-packages/nvidia/...).
nvidia_dirs() { python3 -c 'import nvidia; print("\n".join(nvidia.__path__))' 2>/dev/null; }

step_nccl() {
  rm -f "$WORK/nccl_include" "$WORK/nccl_library"
  gpu_mode || skip "cpu mode"
  # The wheel's nccl.h and libnccl.so.2 (nvidia/nccl/{include,lib} in the
  # wheels seen so far; searched for, in case a CUDA 13 wheel moved them),
  # else a system NCCL (libnccl-dev).
  local hdr="" lib="" d
  for d in $(nvidia_dirs); do
    hdr=$(find "$d/" -name nccl.h -path '*include*' 2>/dev/null | head -1)
    [[ -n $hdr ]] && break
  done
  [[ -n $hdr ]] || hdr=$(ls /usr/include/nccl.h /usr/local/cuda/include/nccl.h 2>/dev/null | head -1)
  [[ -n $hdr ]] || { echo "no nccl.h (nvidia wheels: $(nvidia_dirs | tr '\n' ' '))"; exit 1; }
  for d in $(nvidia_dirs) /usr/lib/x86_64-linux-gnu /usr/local/cuda/lib64; do
    lib=$(find "$d/" -maxdepth 4 -name 'libnccl.so*' 2>/dev/null | sort | head -1)
    [[ -n $lib ]] && break
  done
  [[ -n $lib ]] || { echo "no libnccl.so*"; exit 1; }
  fig nccl_include "$(dirname "$hdr")"
  fig nccl_library "$lib"
  fig nccl_version "$(awk '/define NCCL_(MAJOR|MINOR|PATCH) /{printf "%s%s", s, $3; s="."}' "$hdr")"
  dirname "$hdr" >"$WORK/nccl_include"
  echo "$lib" >"$WORK/nccl_library"
}

step_build() {
  local args=(-DBUILD_TESTING=ON)
  if gpu_mode; then
    args+=(-DHPCML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90)
    # without NCCL (step nccl failed) the build goes on, so the GPU steps can
    # run, and this step fails below
    [[ -f $WORK/nccl_library ]] &&
      args+=("-DNCCL_INCLUDE_DIR=$(cat "$WORK/nccl_include")" "-DNCCL_LIBRARY=$(cat "$WORK/nccl_library")")
    # cuBLAS from the toolkit, else from the nvidia-cublas wheel
    local cudalib
    cudalib=$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")
    if ! ls "$cudalib"/lib64/libcublas.so* "$cudalib"/targets/x86_64-linux/lib/libcublas.so* >/dev/null 2>&1; then
      local blas="" blaslt="" d
      for d in $(nvidia_dirs); do
        blas=$(find "$d/" -name 'libcublas.so*' 2>/dev/null | sort | head -1)
        blaslt=$(find "$d/" -name 'libcublasLt.so*' 2>/dev/null | sort | head -1)
        [[ -n $blas ]] && break
      done
      [[ -n $blas ]] || { echo "no cuBLAS in $cudalib nor in the nvidia wheels"; exit 1; }
      fig cublas "wheel $blas"
      args+=("-DCUDA_cublas_LIBRARY=$blas" "-DCUDA_cublasLt_LIBRARY=$blaslt")
    fi
  else
    args+=(-DHPCML_CUDA=OFF)
  fi
  kit_build "$ROOT" "$BUILD" "${args[@]}" >"$WORK/build.log" 2>&1
  local rc=$?
  grep -E '^-- hpcml:' "$WORK/build.log"
  fig cmake "$(kit_cmake)"
  fig warnings "$(grep -c 'warning:' "$WORK/build.log")"
  grep -B2 -A3 'warning:' "$WORK/build.log" | head -40
  if [[ $rc -ne 0 ]]; then tail -60 "$WORK/build.log"; exit 1; fi
  if gpu_mode; then
    grep -q 'hpcml: CUDA compiler: ON' "$WORK/build.log" || { echo "CUDA backend not configured"; exit 1; }
    grep -q 'NCCL: ON' "$WORK/build.log" || { echo "NCCL not configured"; exit 1; }
    [[ -f $BUILD/lib/libhpcml_cuda.so ]] || { echo "no libhpcml_cuda.so"; exit 1; }
    ldd "$BUILD/lib/libhpcml_cuda.so" | grep -E 'nccl|cublas|cudart'
    ! ldd "$BUILD/lib/libhpcml_cuda.so" | grep 'not found' || exit 1
  fi
}

step_gpu_step_equiv() {
  need_build tests/gpu_step_equiv
  "$BUILD/tests/gpu_step_equiv"
}

step_test_train_gpu() {
  need_build tests/gpu_step_equiv
  HPCML_PYTHON=$(command -v python3) bash "$ROOT/tests/scripts/test_train_gpu.sh" "$BUILD" "$ROOT"
}

step_gpu_bench() {
  need_build tests/gpu_bench
  local rc=0
  "$BUILD/tests/gpu_bench" | tee "$WORK/bench.log" || rc=$?
  [[ $rc -eq 77 ]] && exit 77
  [[ $rc -eq 0 ]] || exit 1
  # the demo model's shapes: 30 -> 256 -> 128 -> 2, batch 512
  "$BUILD/tests/gpu_bench" --batch 512 --features 30 --hidden 256,128 | tee -a "$WORK/bench.log" || exit 1
  tools bench "$WORK/bench.log" >/dev/null
}

step_demo_data() {
  need_build bin/hpcml-gen bin/hpcml-etl
  rm -rf "$DATA"
  mkdir -p "$DATA"
  cd "$DATA" || exit 1
  local rows=()
  [[ -n ${HPCML_CHECK_ROWS:-} ]] && rows=(-s "gen.rows=$HPCML_CHECK_ROWS")
  "${MPIRUN[@]}" -np 4 "$BUILD/bin/hpcml-gen" -q -c "$ROOT/configs/demo.cfg" "${rows[@]}" || exit 1
  "${MPIRUN[@]}" -np 4 "$BUILD/bin/hpcml-etl" -q -c "$ROOT/configs/demo.cfg" || exit 1
  fig dataset_mib "$(du -m "$DATA/hpcml-out/dataset.h5" | cut -f1)"
  rm -rf "$DATA/hpcml-out/raw"
}

# Tolerances (docs/gpu.md, "The device check"): per-epoch training loss
# within 1e-2 relative, val_auc / val_pr_auc within 0.01.
LOSS_RTOL=1e-2
AUC_ATOL=0.01
step_demo() {
  need_build
  [[ -f $DATA/hpcml-out/dataset.h5 ]] || skip "no demo data"
  TRAIN -q -s train.device=cpu -s "train.output_dir=$WORK/demo/cpu" || exit 1
  if gpu_mode; then
    TRAIN -q -s train.device=cuda -s "train.output_dir=$WORK/demo/gpu" || exit 1
    fig run "cuda fp32 against cpu, 1 rank each"
    tools compare "$WORK/demo/cpu/metrics.jsonl" "$WORK/demo/gpu/metrics.jsonl" "$LOSS_RTOL" "$AUC_ATOL"
  else
    "${MPIRUN[@]}" -np 2 "$BUILD/bin/hpcml-train" -c "$ROOT/configs/demo.cfg" \
      -s "train.dataset=$DATA/hpcml-out/dataset.h5" -s train.resume=never -s "train.epochs=$EPOCHS" \
      -q -s train.device=cpu -s "train.output_dir=$WORK/demo/cpu2" || exit 1
    fig run "cpu 2 ranks against cpu 1 rank (cpu mode)"
    tools compare "$WORK/demo/cpu/metrics.jsonl" "$WORK/demo/cpu2/metrics.jsonl" "$LOSS_RTOL" "$AUC_ATOL"
  fi
}

step_precision() {
  need_build
  gpu_mode || skip "cpu mode"
  [[ -f $WORK/demo/gpu/metrics.jsonl ]] || skip "no fp32 GPU run (step demo)"
  local math rc=0
  for math in tf32 bf16; do
    TRAIN -q -s train.device=cuda -s train.cuda_math=$math -s "train.output_dir=$WORK/demo/$math" || exit 1
    FIG=$WORK/prec.$math tools trains "$WORK/demo/gpu/metrics.jsonl" "$WORK/demo/$math/metrics.jsonl" 0.02 || rc=1
    sed "s/^/${math}_/" "$WORK/prec.$math" >>"$FIG"
  done
  exit $rc
}

step_preempt() {
  need_build
  [[ -f $DATA/hpcml-out/dataset.h5 ]] || skip "no demo data"
  local dev=cpu
  gpu_mode && dev=cuda
  local out=$WORK/demo/preempt big=(-s train.epochs=100000 -s train.checkpoint_every=200
    -s train.preempt_signal=USR2 -s train.early_stopping_patience=0 -s "train.device=$dev")
  rm -rf "$out"
  "$BUILD/bin/hpcml-train" -c "$ROOT/configs/demo.cfg" -s "train.dataset=$DATA/hpcml-out/dataset.h5" \
    -s train.resume=never -s "train.output_dir=$out" "${big[@]}" 2>"$WORK/preempt.err" &
  local pid=$! i
  for i in $(seq 1 120); do # until the first epoch is recorded
    [[ -s $out/metrics.jsonl ]] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.5
  done
  sleep 1
  kill -USR2 $pid
  local got=0
  wait $pid || got=$?
  fig device "$dev"
  fig preempted_exit "$got"
  [[ $got -eq 75 ]] || { cat "$WORK/preempt.err"; echo "preempted run: exit $got, want 75"; exit 1; }
  "$BUILD/bin/hpcml-train" -c "$ROOT/configs/demo.cfg" -s "train.dataset=$DATA/hpcml-out/dataset.h5" \
    -s train.resume=auto -s "train.output_dir=$out" "${big[@]}" -s train.epochs=$(( $(grep -c train_loss "$out/metrics.jsonl") + 1 )) \
    -v 2>"$WORK/resume.err" || { cat "$WORK/resume.err"; echo "resumed run failed"; exit 1; }
  grep -m1 "resuming from" "$WORK/resume.err" || { cat "$WORK/resume.err"; echo "did not resume"; exit 1; }
  fig resumed yes
}

step_torch_speed() {
  need_build
  gpu_mode || skip "cpu mode"
  [[ -f $DATA/hpcml-out/dataset.h5 ]] || skip "no demo data"
  # PyTorch runs with the image's libraries only (none of the kit's, e.g. its libibverbs)
  torch_py() { LD_LIBRARY_PATH=$KIT_IMAGE_LD_LIBRARY_PATH python3 "$@"; }
  torch_py -c 'import torch, sklearn, h5py; assert torch.cuda.is_available()' || skip "no torch with CUDA"
  local speed=(-s train.evaluate=false -s monitoring.profile=false -s train.checkpoint_every=0
               -s train.early_stopping_patience=0 -s train.device=cuda)
  local math rc=0 line h t
  for math in fp32 tf32; do
    TRAIN -q "${speed[@]}" -s train.cuda_math=$math -s "train.output_dir=$WORK/speed/$math" || exit 1
    h=$(tools rate "$WORK/speed/$math/metrics.jsonl")
    local flag=()
    [[ $math == tf32 ]] && flag=(--tf32)
    line=$(torch_py "$ROOT/benchmarks/torch_mlp.py" "$DATA/hpcml-out/dataset.h5" --device cuda \
           --epochs "$EPOCHS" "${flag[@]}" | tail -1) || exit 1
    tools torch "$line" >/dev/null
    t=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["samples_per_s"]))' "$line")
    fig "hpcml_${math}_samples_per_s" "$h"
    fig "hpcml_over_torch_${math}" "$(python3 -c "print(round($h / $t, 2))")"
  done
  exit $rc
}

step_cpu_tests() {
  need_build
  cd "$BUILD" || exit 1
  ctest -L unit -j "$(nproc)" --output-on-failure --timeout 120 >"$WORK/ctest_unit.log" 2>&1
  local rc=$?
  tail -5 "$WORK/ctest_unit.log"
  fig unit "$(grep -E 'tests passed' "$WORK/ctest_unit.log")"
  [[ $rc -eq 0 ]] || { grep -E 'Failed|\*\*\*' "$WORK/ctest_unit.log"; exit 1; }
  ctest -R '^script\.test_cli_errors$' --output-on-failure >"$WORK/ctest_cli.log" 2>&1 ||
    { tail -40 "$WORK/ctest_cli.log"; exit 1; }
  fig cli_errors pass
}

STEPS=(env unpack nccl build gpu_step_equiv test_train_gpu gpu_bench demo_data demo precision
       preempt torch_speed cpu_tests)
declare -A TIMEOUT=([env]=30 [unpack]=240 [nccl]=30 [build]=300 [gpu_step_equiv]=90
  [test_train_gpu]=240 [gpu_bench]=150 [demo_data]=150 [demo]=180 [precision]=120 [preempt]=120
  [torch_speed]=180 [cpu_tests]=240)

# ---- one step, in a child (check.sh --step NAME) ----------------------------
if [[ ${1:-} == --step ]]; then
  [[ -f $PREFIX/.kit-manifest ]] && kit_env "$PREFIX"
  [[ -d /usr/local/cuda/bin ]] && export PATH=$PATH:/usr/local/cuda/bin
  # the wheel's NCCL for the plugin (also in its RUNPATH from the build tree)
  if [[ -f $WORK/nccl_library ]]; then
    LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}:$(dirname "$(cat "$WORK/nccl_library")")
    export LD_LIBRARY_PATH
  fi
  "step_$2"
  exit $?
fi

# ---- the driver -------------------------------------------------------------
MODE=gpu
out=${OUT:-}
only=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --cpu) MODE=cpu; shift ;;
    --steps) only=,$2,; shift 2 ;;
    -h|--help) sed -n '2,21p' "$SELF"; exit 0 ;;
    -*) echo "check.sh: unknown option $1" >&2; exit 1 ;;
    *) out=$1; shift ;;
  esac
done
[[ -n $out ]] || { echo "usage: check.sh OUT_DIR [--cpu] [--steps a,b] (or set OUT)" >&2; exit 1; }
mkdir -p "$out" && out=$(cd "$out" && pwd)
[[ -f $ROOT/$KIT_DIR/MANIFEST ]] ||
  { echo "check.sh: $ROOT/$KIT_DIR is missing: run scripts/device/pack.sh and carry it" >&2; exit 1; }
export MODE ROOT
export WORK=$ROOT/build-device        # ignored (/build*/): kept on a warm machine
export PREFIX=$WORK/prefix BUILD=$WORK/build DATA=$WORK/data
export EPOCHS=${HPCML_CHECK_EPOCHS:-3}
BUDGET=${HPCML_CHECK_BUDGET:-420}
SCALE=${HPCML_CHECK_TIMEOUT_SCALE:-1} # the step timeouts are sized for the GPU machine's 16 cores
STEPDIR=$WORK/steps
mkdir -p "$WORK"
rm -rf "$STEPDIR"
mkdir -p "$STEPDIR"
exec > >(tee "$out/check.log") 2>&1
echo "check.sh: mode $MODE, budget ${BUDGET}s, work $WORK, started $(date -u +%FT%TZ)"

t_start=$SECONDS
i=0
for name in "${STEPS[@]}"; do
  i=$((i + 1))
  base=$STEPDIR/$(printf '%02d' $i)_$name
  [[ -n $only && $only != *",$name,"* ]] && continue
  left=$((BUDGET - (SECONDS - t_start)))
  if ((left < 20)); then
    echo skip >"$base.status"
    echo "out of time (budget ${BUDGET}s)" >"$base.reason"
    echo "== $name: skip (out of time)"
    continue
  fi
  t=$((TIMEOUT[$name] * SCALE))
  ((t > left - 10)) && t=$((left - 10))
  echo "== $name (timeout ${t}s)"
  : >"$base.fig"
  t0=$(date +%s.%N)
  FIG=$base.fig timeout -k 10 "$t" bash "$SELF" --step "$name" >"$base.out" 2>&1
  rc=$?
  awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f\n", b - a}' >"$base.seconds"
  cat "$base.out"
  case $rc in
    0) echo pass >"$base.status" ;;
    77) echo skip >"$base.status"; grep -m1 '^SKIP:' "$base.out" | sed 's/^SKIP: *//' >"$base.reason" ;;
    124|137) echo fail >"$base.status"; echo "timed out after ${t}s" >"$base.reason" ;;
    *) echo fail >"$base.status"; { echo "exit $rc: "; tail -3 "$base.out"; } | tr '\n' ' ' >"$base.reason" ;;
  esac
  echo "== $name: $(cat "$base.status") ($(cat "$base.seconds")s)"
  # the summary so far, in case the run is cut off before the end
  python3 "$TOOLS" summary "$STEPDIR" "$out/summary.json" "$MODE" $((SECONDS - t_start)) >/dev/null 2>&1
done
python3 "$TOOLS" summary "$STEPDIR" "$out/summary.json" "$MODE" $((SECONDS - t_start)) ||
  echo "check.sh: could not write $out/summary.json" >&2
! grep -qx fail "$STEPDIR"/*.status
