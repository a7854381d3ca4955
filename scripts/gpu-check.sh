#!/usr/bin/env bash
# Everything a lent GPU machine should run, in one command, ending with a short table:
#   build (all cores) -> ctest -L gpu -> compute-sanitizer memcheck + racecheck over the gpu
#   tests -> LeNet training on CUDA (cutrain) and the PyTorch peer on the same GPU.
# Logs go to $OUT (default ./gpu-check-out). The data set travels with the tree in
# data/fashion-mnist (git-ignored; copy it there before sending the tree to the GPU machine):
#   mkdir -p data && cp -r /usr/share/datasets/fashion-mnist data/
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-check-out}
BUILD_DIR=${BUILD_DIR:-build-gpu}
EPOCHS=${EPOCHS:-3}
mkdir -p "$OUT"
export CUTRAIN_DATA=${CUTRAIN_DATA:-$PWD/data/fashion-mnist}
command -v nvcc >/dev/null 2>&1 || export PATH=/usr/local/cuda/bin:$PATH
declare -A result

# cuDNN: the toolkit's own, else the pip wheel's (nvidia.cudnn), passed as a hint.
cudnn_args=()
if [ -n "${CUDNN_ROOT:-}" ]; then
  cudnn_args=(-DCUDNN_ROOT="$CUDNN_ROOT")
elif ! ls "$(dirname "$(command -v nvcc)")"/../include/cudnn.h >/dev/null 2>&1; then
  root=$(python3 -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))' 2>/dev/null)
  [ -n "$root" ] && cudnn_args=(-DCUDNN_ROOT="$root") && export LD_LIBRARY_PATH="$root/lib:${LD_LIBRARY_PATH:-}"
fi

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
if cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCUTRAIN_CUDA=ON "${cudnn_args[@]}" \
     > "$OUT/configure.log" 2>&1 &&
   cmake --build "$BUILD_DIR" -j"$(nproc)" > "$OUT/build.log" 2>&1; then
  result[build]=ok
else
  result[build]=FAILED; tail -30 "$OUT/build.log" "$OUT/configure.log"
fi

ctest --test-dir "$BUILD_DIR" -L gpu --output-on-failure > "$OUT/gpu-tests.log" 2>&1
result[gpu tests]=$(grep -E "tests passed|tests failed" "$OUT/gpu-tests.log" | tail -1)
ctest --test-dir "$BUILD_DIR" -LE gpu -j"$(nproc)" > "$OUT/cpu-tests.log" 2>&1
result[cpu tests]=$(grep -E "tests passed|tests failed" "$OUT/cpu-tests.log" | tail -1)

for tool in memcheck racecheck; do
  if command -v compute-sanitizer >/dev/null 2>&1; then
    compute-sanitizer --tool "$tool" --error-exitcode 9 "$BUILD_DIR/bin/cutrain_gpu_tests" \
      > "$OUT/sanitizer-$tool.log" 2>&1
    result[$tool]=$(grep -E "ERROR SUMMARY" "$OUT/sanitizer-$tool.log" | tail -1)
  else
    result[$tool]="compute-sanitizer not found"
  fi
done

"$BUILD_DIR/bin/cutrain" train --device cuda --model lenet --epochs "$EPOCHS" \
  --metrics "$OUT/cutrain-lenet-cuda.jsonl" > "$OUT/cutrain-lenet-cuda.log" 2>&1
result[cutrain lenet cuda]=$(tail -1 "$OUT/cutrain-lenet-cuda.log")
python3 bench/peers/lenet_torch.py --device cuda --model lenet --epochs "$EPOCHS" \
  > "$OUT/torch-lenet-cuda.log" 2>&1
result[torch lenet cuda]=$(grep -E '^epoch' "$OUT/torch-lenet-cuda.log" | tail -1)

echo
echo "== gpu-check $(date -u +%Y-%m-%dT%H:%MZ) on $(head -1 "$OUT/gpu.txt") =="
for k in build "cpu tests" "gpu tests" memcheck racecheck "cutrain lenet cuda" "torch lenet cuda"; do
  printf '%-20s %s\n' "$k" "${result[$k]:-}"
done
