#!/usr/bin/env bash
# Everything a lent GPU machine should run, in stages that each fit one 10-minute call of the
# device tool, each ending with a short table (and appending it to $OUT/summary.txt):
#   build     configure + build (all cores) into $BUILD_DIR (kept between calls while warm)
#   test      ctest -L gpu, then the CPU suite
#   sanitize  compute-sanitizer memcheck + racecheck over the gpu tests
#   bench     LeNet training eager / --cuda-graph / + --data-on-device against the PyTorch peer
#             (eager, CUDA graph, torch.compile); Adam step against torch's fused Adam;
#             batch norm against cuDNN
#   models    ResNet-18 and DenseNet, $MODEL_EPOCHS epochs at 96x96 (accuracy, examples/s, memory)
#   all       every stage in order (default)
# Usage: scripts/gpu-check.sh [stage ...]. Logs go to $OUT (default ./gpu-check-out). The data
# set travels with the tree in data/fashion-mnist (git-ignored; copy it there first):
#   mkdir -p data && cp -r /usr/share/datasets/fashion-mnist data/
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-check-out}
BUILD_DIR=${BUILD_DIR:-build-gpu}
EPOCHS=${EPOCHS:-5}
MODEL_EPOCHS=${MODEL_EPOCHS:-10}
mkdir -p "$OUT"
export CUTRAIN_DATA=${CUTRAIN_DATA:-$PWD/data/fashion-mnist}
command -v nvcc >/dev/null 2>&1 || export PATH=/usr/local/cuda/bin:$PATH
CLI="$BUILD_DIR/bin/cutrain"
rows=()
row() { rows+=("$(printf '%-34s %s' "$1" "$2")"); }

# cuDNN: the toolkit's own, else the pip wheel's (nvidia.cudnn), passed as a hint.
cudnn_args=()
if [ -n "${CUDNN_ROOT:-}" ]; then
  cudnn_args=(-DCUDNN_ROOT="$CUDNN_ROOT")
elif ! ls "$(dirname "$(command -v nvcc)")"/../include/cudnn.h >/dev/null 2>&1; then
  root=$(python3 -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))' 2>/dev/null)
  [ -n "$root" ] && cudnn_args=(-DCUDNN_ROOT="$root") && export LD_LIBRARY_PATH="$root/lib:${LD_LIBRARY_PATH:-}"
fi

stage_build() {
  if cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCUTRAIN_CUDA=ON "${cudnn_args[@]}" \
       > "$OUT/configure.log" 2>&1 &&
     cmake --build "$BUILD_DIR" -j"$(nproc)" > "$OUT/build.log" 2>&1; then
    row build ok
  else
    row build FAILED; tail -40 "$OUT/build.log" "$OUT/configure.log"
  fi
}

stage_test() {
  ctest --test-dir "$BUILD_DIR" -L gpu --output-on-failure --timeout 300 > "$OUT/gpu-tests.log" 2>&1
  row "gpu tests" "$(grep -E 'tests passed|tests failed' "$OUT/gpu-tests.log" | tail -1)"
  grep -E "^\s+[0-9]+ - .*\((Failed|Timeout|Subprocess)" "$OUT/gpu-tests.log" | head -20
  ctest --test-dir "$BUILD_DIR" -LE "gpu|package" -j"$(nproc)" > "$OUT/cpu-tests.log" 2>&1
  row "cpu tests" "$(grep -E 'tests passed|tests failed' "$OUT/cpu-tests.log" | tail -1)"
}

stage_sanitize() {
  if ! command -v compute-sanitizer >/dev/null 2>&1; then row sanitizer "compute-sanitizer not found"; return; fi
  for tool in memcheck racecheck; do
    timeout 250 compute-sanitizer --tool "$tool" --error-exitcode 9 \
      "$BUILD_DIR/bin/cutrain_gpu_tests" --gtest_brief=1 > "$OUT/sanitizer-$tool.log" 2>&1
    local rc=$?
    row "$tool" "$(grep -E 'ERROR SUMMARY' "$OUT/sanitizer-$tool.log" | tail -1) (rc $rc)"
  done
}

stage_bench() {
  local mode
  for mode in "" "--cuda-graph" "--cuda-graph --data-on-device"; do
    "$CLI" bench train --device cuda --model lenet --epochs "$EPOCHS" $mode \
      > "$OUT/bench-train${mode// /_}.log" 2>&1
    row "cutrain lenet ${mode:-eager}" "$(grep median "$OUT/bench-train${mode// /_}.log" || tail -1 "$OUT/bench-train${mode// /_}.log")"
  done
  for mode in "" "--cuda-graph" "--compile"; do
    python3 bench/peers/lenet_torch.py --device cuda --model lenet --epochs "$EPOCHS" $mode \
      > "$OUT/torch-lenet${mode// /_}.log" 2>&1
    row "torch lenet ${mode:-eager}" "$(grep -o '"median_examples_per_sec": [0-9.]*' "$OUT/torch-lenet${mode// /_}.log" || tail -1 "$OUT/torch-lenet${mode// /_}.log")"
  done
  "$CLI" train --device cuda --model lenet --epochs "$EPOCHS" --cuda-graph --no-progress \
    > "$OUT/train-lenet-graph.log" 2>&1
  row "cutrain lenet accuracy" "$(grep -E '^epoch' "$OUT/train-lenet-graph.log" | tail -1)"
  "$CLI" bench optimizer --device cuda --optimizer adam --params 100000000 > "$OUT/bench-adam.log" 2>&1
  row "cutrain adam 100M" "$(grep -E 'bandwidth' "$OUT/bench-adam.log")"
  "$CLI" bench optimizer --device cuda --optimizer adam --lenet --iterations 2000 > "$OUT/bench-adam-lenet.log" 2>&1
  row "cutrain adam lenet" "$(grep -E '^step' "$OUT/bench-adam-lenet.log")"
  python3 bench/peers/adam_torch.py --params 100000000 > "$OUT/torch-adam.log" 2>&1
  row "torch adam 100M" "$(grep -E 'fused' "$OUT/torch-adam.log" | head -1)"
  python3 bench/peers/adam_torch.py --lenet --iterations 2000 > "$OUT/torch-adam-lenet.log" 2>&1
  row "torch adam lenet" "$(grep -E 'fused' "$OUT/torch-adam-lenet.log" | head -1)"
  for relu in "" "--relu"; do
    "$CLI" bench batchnorm --device cuda --shape 256,64,56,56 $relu > "$OUT/bench-bn$relu.log" 2>&1
    row "batchnorm 256,64,56,56 $relu" "see $OUT/bench-bn$relu.log"
  done
}

stage_models() {
  local m
  for m in resnet18 densenet; do
    timeout 280 "$CLI" train --device cuda --model "$m" --resize 96 --epochs "$MODEL_EPOCHS" \
      --cuda-graph --no-progress --metrics "$OUT/$m.jsonl" > "$OUT/train-$m.log" 2>&1
    row "$m 96x96" "$(grep -E '^epoch' "$OUT/train-$m.log" | tail -1)"
    row "$m memory" "$(grep -iE 'peak' "$OUT/train-$m.log" | tail -1)"
  done
}

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(all)
[ "${stages[0]}" = all ] && stages=(build test sanitize bench models)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$OUT/gpu.txt" 2>&1
for s in "${stages[@]}"; do
  case "$s" in
    build|test|sanitize|bench|models) "stage_$s" ;;
    *) echo "gpu-check: unknown stage '$s' (build test sanitize bench models all)" >&2; exit 2 ;;
  esac
done

{
  echo
  echo "== gpu-check ${stages[*]} $(date -u +%Y-%m-%dT%H:%MZ) on $(head -1 "$OUT/gpu.txt") =="
  printf '%s\n' "${rows[@]}"
} | tee -a "$OUT/summary.txt"
