#!/usr/bin/env bash
# train.device on a machine without a usable GPU (every machine of this
# project): "cuda" exits 1 with a message saying why and writes nothing, on
# 1 and 2 ranks; "auto" warns and trains on the CPU with bit-identical
# results to "cpu"; bad train.cuda_math values are refused. On a node where
# a GPU is usable (the "cuda" run succeeds) it checks instead that a GPU
# checkpoint resumes in a CPU run (same /model layout, float32).
# labels: mpi train
# timeout: 300
# ranks: 1, 2
# options: configs written by the script; -s monitoring.profile, train.batch_size,
#   train.cuda_math, train.dataset, train.device, train.epochs, train.hidden,
#   train.output_dir, train.resume
# skips (exit 77): never
source "$(dirname "$0")/lib.sh" "$@"
train=$BIN/hpcml-train
ds=$TMP/ds.h5
$PY "$SRC/tests/scripts/make_train_dataset.py" "$ds" --train 1200 --val 300 --test 300 \
  --features 7 --seed 11
common=(-s "train.dataset=$ds" -s 'train.hidden=[16, 8]' -s train.batch_size=64
        -s train.epochs=2 -s train.resume=never -s monitoring.profile=false)

gpu=0
"$train" -q "${common[@]}" -s train.device=cuda -s "train.output_dir=$TMP/cuda1" \
  >"$TMP/out" 2>"$TMP/err" || got=$?
if [[ ${got:-0} -eq 0 ]]; then
  gpu=1
  echo "a usable GPU is present: checking GPU checkpoints in a CPU run instead"
fi

if [[ $gpu -eq 0 ]]; then
  # --- "cuda" without a device: exit 1, why, nothing written -----------------------
  [[ $got -eq 1 ]] || { cat "$TMP/err"; fail "train.device=cuda without a GPU: exit $got, want 1"; }
  grep -q 'train.device = "cuda" but no CUDA device is usable (.\+)' "$TMP/err" ||
    { cat "$TMP/err"; fail "no reason given"; }
  [[ ! -e $TMP/cuda1 ]] || fail "a refused run left $TMP/cuda1 behind"
  pass "train.device=cuda, 1 rank: exit 1 ($(sed 's/.*usable (//; s/);.*//' "$TMP/err" | head -c 90))"

  # --- the CUDA plugin: found and opened only when asked for -------------------------
  if [[ -e $BUILD/lib/libhpcml_cuda.so ]]; then
    # found beside the program: the reason is the CUDA runtime's, not a missing plugin
    grep -q 'cannot load the CUDA backend plugin' "$TMP/err" &&
      { cat "$TMP/err"; fail "the plugin in $BUILD/lib was not loaded"; }
    HPCML_CUDA_PLUGIN=$TMP/missing.so expect_exit 1 "$train" -q "${common[@]}" \
      -s train.device=cuda -s "train.output_dir=$TMP/cuda0"
    grep -q 'cannot load the CUDA backend plugin.*missing.so' "$TMP/err" ||
      { cat "$TMP/err"; fail "a missing plugin is not named"; }
    # a CPU run never maps the CUDA libraries
    "$train" -q "${common[@]}" -s train.device=cpu -s "train.output_dir=$TMP/cpumaps" \
      -s train.epochs=1 >"$TMP/out" 2>&1 &
    pid=$!
    maps=""
    while kill -0 $pid 2>/dev/null; do
      maps+=$(grep -o 'lib\(cudart\|cublas\|nccl\|hpcml_cuda\)[^ ]*' /proc/$pid/maps 2>/dev/null || true)
      sleep 0.05
    done
    wait $pid || { cat "$TMP/out"; fail "the cpu run failed"; }
    [[ -z $maps ]] || fail "a CPU run mapped CUDA libraries: $maps"
    pass "CUDA plugin: loaded only for a GPU run, a missing one named, CPU runs map no CUDA library"
  fi

  expect_exit 1 "${MPIRUN[@]}" -np 2 "$train" -q "${common[@]}" -s train.device=cuda \
    -s "train.output_dir=$TMP/cuda2"
  grep -q 'no CUDA device is usable' "$TMP/err" || { cat "$TMP/err"; fail "2 ranks: no message"; }
  [[ ! -e $TMP/cuda2 ]] || fail "a refused 2-rank run left output behind"
  pass "train.device=cuda, 2 ranks: exit 1 on every rank, no hang, nothing written"

  # --- "auto": a warning, then the CPU's exact results ----------------------------
  expect_exit 0 "${MPIRUN[@]}" -np 2 "$train" "${common[@]}" -s train.device=auto \
    -s "train.output_dir=$TMP/auto"
  grep -q 'WARN.*train.device = "auto": no usable CUDA device.*training on the CPU' "$TMP/err" ||
    { cat "$TMP/err"; fail "auto: no fallback warning"; }
  expect_exit 0 "${MPIRUN[@]}" -np 2 "$train" -q "${common[@]}" -s train.device=cpu \
    -s "train.output_dir=$TMP/cpu"
  last=$(cat "$TMP/cpu/checkpoints/latest")
  [[ $(cat "$TMP/auto/checkpoints/latest") == "$last" ]] || fail "auto and cpu checkpoints differ"
  h5diff "$TMP/cpu/checkpoints/$last" "$TMP/auto/checkpoints/$last" /model /model ||
    fail "auto (CPU fallback) /model differs from the cpu run"
  cmp -s "$TMP/cpu/evaluation.json" "$TMP/auto/evaluation.json" ||
    fail "auto and cpu evaluations differ"
  pass "train.device=auto: warning, CPU fallback, bit-identical /model and evaluation"
else
  # --- a GPU run's checkpoint resumes on the CPU ------------------------------------
  last=$(cat "$TMP/cuda1/checkpoints/latest")
  expect_exit 0 "$train" "${common[@]}" -s train.device=cpu -s train.epochs=3 \
    -s train.resume=auto -s "train.output_dir=$TMP/cuda1" -v
  grep -q "resuming from .*$last" "$TMP/err" || { cat "$TMP/err"; fail "CPU did not resume"; }
  pass "a GPU checkpoint resumes in a CPU run"
fi

# --- bad GEMM math mode ---------------------------------------------------------------
expect_exit 1 "$train" -q "${common[@]}" -s train.device=auto -s train.cuda_math=fp16 \
  -s "train.output_dir=$TMP/bad"
grep -q 'cuda_math' "$TMP/err" || { cat "$TMP/err"; fail "bad cuda_math: no message"; }
pass "train.cuda_math=fp16 refused (exit 1)"
