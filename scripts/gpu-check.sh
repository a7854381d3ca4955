#!/usr/bin/env bash
# Everything a lent GPU machine should run, in ONE call of the device tool. A task that draws a
# machine gets 15 minutes of device time in all (start-up and idle time included), so the whole
# check runs against one deadline (DEADLINE_S, default 540 s), stages in order of value, every
# command under its own timeout, and a stage that no longer fits is skipped, not started:
#   build     unpack the carried build dependencies, configure (sm_90 only) and build
#   test      ctest -L gpu (every kernel against its CPU twin, training steps GPU vs CPU, eager vs
#             graph vs device-resident data)
#   bench     LeNet training eager / --cuda-graph, each with and without --data-on-device,
#             against the PyTorch peer (data on the device, eager and graph); Adam step against
#             torch's fused Adam; batch norm against cuDNN
#   models    ResNet-18 and DenseNet at 96x96 (accuracy, examples/s, peak memory), with --tf32
#             unless the TF32 tests failed (MODEL_MATH=full|tf32 decides instead)
#   ab        LeNet A/B rows: Linear's bias outside cuBLASLt, --tf32, unabsorbed activations
#   sanitize  compute-sanitizer memcheck + racecheck over the kernel-level gpu tests
#   profile   ncu: the kernels of two eager LeNet steps, their count and GPU time
#   compile   the PyTorch peer under torch.compile (slow to start, so last)
#   all       every stage in that order (default)
# The last lines printed are the summary table; $OUT gets summary.txt and gpu-check-logs.tgz
# (every log, test XML and metrics file). GPU_CHECK_CMAKE_ARGS adds configure options.
# Prepare on the networked machine first, then call the device tool:
#   ./scripts/gpu-bundle.sh      # here: data/fashion-mnist + data/debs (GoogleTest, CLI11, ...)
#   run(carry=["data"], timeout_s=600, command="bash scripts/gpu-check.sh")
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
START=$SECONDS
OUT=${OUT:-gpu-check-out}
BUILD_DIR=${BUILD_DIR:-build-gpu}
DEADLINE_S=${DEADLINE_S:-540}
EPOCHS=${EPOCHS:-5}
MODEL_EPOCHS=${MODEL_EPOCHS:-10}
CUDA_ARCHS=${CUDA_ARCHS:-90}
# The device tool brings back at most 8 files from $OUT, and only what is there when the call
# ends: progress.txt grows row by row, logs go to $LOGS and are packed into $OUT after every
# stage, summary.txt comes last.
LOGS=${LOGS:-$BUILD_DIR/gpu-check-logs}
rm -rf "$LOGS"
mkdir -p "$OUT" "$LOGS"
OUT=$(cd "$OUT" && pwd)
LOGS=$(cd "$LOGS" && pwd)
export CUTRAIN_DATA=${CUTRAIN_DATA:-$PWD/data/fashion-mnist}
command -v nvcc >/dev/null 2>&1 || export PATH=/usr/local/cuda/bin:$PATH
# The CPU twins that the GPU tests compare against use OpenBLAS as CI does (the carried Debian
# 0.3.21 misdetects some newer CPUs); python's output reaches its log even when timed out.
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-512}
export PYTHONUNBUFFERED=1
CLI="$BUILD_DIR/bin/cutrain"
rows=()
row() {
  rows+=("$(printf '%-30s %s' "$1" "$2")")
  echo "gpu-check [$((SECONDS - START))s] $1: $2" | tee -a "$OUT/progress.txt"
}
pack_logs() { tar czf "$OUT/gpu-check-logs.tgz" -C "$LOGS" . 2>/dev/null; }
prepend_ld_path() { export LD_LIBRARY_PATH="$1${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; }

# Runs "$@" under `timeout`, for at most $1 seconds and never past the deadline (10 s kept for the
# table). Says so on stdout (the command's log, whose last line the table shows) when it skips
# the command for lack of time or the command runs out of it.
timed() {
  local want=$1 rc; shift
  local left=$((DEADLINE_S - (SECONDS - START) - 10))
  [ "$left" -lt "$want" ] && want=$left
  if [ "$want" -lt 15 ]; then echo "skipped: the ${DEADLINE_S} s deadline is near"; return 124; fi
  timeout --kill-after=5 "$want" "$@"
  rc=$?
  [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && echo "TIMEOUT after ${want} s"
  return "$rc"
}
# First (pick) or last (pick_last) matching line of a log, else its last line (the error), for
# the table; at most 300 characters (an nvcc error or a progress line can be far longer).
pick() { { grep -m1 -E "$1" "$2" 2>/dev/null || tail -1 "$2" 2>/dev/null; } | tr '\r' '\n' | tail -1 | cut -c1-300; }
pick_last() {
  local l; l=$(grep -E "$1" "$2" 2>/dev/null | tail -1)
  { [ -n "$l" ] && echo "$l" || tail -1 "$2" 2>/dev/null; } | tr '\r' '\n' | tail -1 | cut -c1-300
}
# Whether the dynamic loader knows a library (awk reads all of ldconfig's output: grep -q would
# stop early, and under pipefail ldconfig's SIGPIPE would read as "absent").
have_lib() { ldconfig -p | awk -v lib="$1" '$1 == lib {found = 1} END {exit !found}'; }

# --- build dependencies and run-time paths ----------------------------------------------------
# The machine reaches no registry: data/debs (scripts/gpu-bundle.sh) holds Debian packages of
# what its image lacks; unpacked (not installed) into a prefix that CMake searches first.
DEPS=$(mkdir -p "$BUILD_DIR" && cd "$BUILD_DIR" && pwd)/deps
cmake_args=()
unpack_deps() {
  local debs=data/debs d
  ls $debs/*.deb >/dev/null 2>&1 || { row deps "no data/debs: using the image's packages"; return; }
  rm -rf "$DEPS" && mkdir -p "$DEPS"
  for d in $debs/*.deb; do
    if command -v dpkg-deb >/dev/null 2>&1; then dpkg-deb -x "$d" "$DEPS"
    else (cd "$DEPS" && ar p "$OLDPWD/$d" "$(ar t "$OLDPWD/$d" | grep '^data.tar')" | tar -xJ); fi
  done
  local lib=$DEPS/usr/lib/x86_64-linux-gnu sys_z
  # The SONAME too: binaries find it through their RUNPATH (this folder), not openblas-pthread/.
  ln -sf openblas-pthread/libopenblas.so.0 "$lib/libopenblas.so"
  ln -sf openblas-pthread/libopenblas.so.0 "$lib/libopenblas.so.0"
  # zlib1g-dev's libz.so points at Debian's runtime file; link against this image's libz.so.1.
  sys_z=$(ldconfig -p | awk '$1 == "libz.so.1" && /x86-64/ {print $NF}' | head -1)
  [ -n "$sys_z" ] && ln -sf "$sys_z" "$lib/libz.so"
  # OpenBLAS needs libgfortran.so.5: the carried one goes on the path only where the image has none.
  mkdir -p "$DEPS/runtime" && cp -a "$lib"/libgfortran.so.5* "$lib"/libquadmath.so.0* "$DEPS/runtime/"
  row deps "unpacked $(ls $debs/*.deb | wc -l) packages"
}
# Every stage needs these (a stage run on its own too): the prefix, the Fortran runtime where the
# image lacks one, and cuDNN: the toolkit's own, else the pip wheel's (nvidia.cudnn).
setup_paths() {
  [ -d "$DEPS/usr" ] && cmake_args+=(-DCMAKE_PREFIX_PATH="$DEPS/usr")
  [ -d "$DEPS/runtime" ] && ! have_lib libgfortran.so.5 && prepend_ld_path "$DEPS/runtime"
  if [ -n "${CUDNN_ROOT:-}" ]; then
    cmake_args+=(-DCUDNN_ROOT="$CUDNN_ROOT")
  elif ! ls "$(dirname "$(command -v nvcc)")"/../include/cudnn.h >/dev/null 2>&1; then
    local root
    root=$(python3 -c 'import nvidia.cudnn; print(list(nvidia.cudnn.__path__)[0])' 2>/dev/null)
    if [ -n "$root" ]; then
      cmake_args+=(-DCUDNN_ROOT="$root")
      prepend_ld_path "$root/lib"
    fi
  fi
}

# cuDNN's library loads its sub-libraries (libcudnn_cnn, _ops, _graph ...) by name, and they
# must be the ones beside the cuDNN CMake linked: links to those (and only those: a toolkit
# folder would also hold cuBLAS and cudart, ahead of the pip wheels torch was built against) go
# into a folder of their own, first on the loader path.
cudnn_runtime_path() {
  local lib dir=$BUILD_DIR/cudnn-lib f
  lib=$(sed -n 's/^CUDNN_LIBRARY:FILEPATH=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null)
  [ -n "$lib" ] && [ -e "$lib" ] || return 0
  rm -rf "$dir" && mkdir -p "$dir"
  for f in "$(dirname "$(readlink -f "$lib")")"/libcudnn*.so*; do
    [ -e "$f" ] && ln -sf "$f" "$dir/"
  done
  prepend_ld_path "$(cd "$dir" && pwd)"
}

stage_build() {
  unpack_deps
  setup_paths
  local gen=()
  command -v ninja >/dev/null 2>&1 && [ ! -f "$BUILD_DIR/CMakeCache.txt" ] && gen=(-G Ninja)
  CLI_OK=0 TESTS_OK=0
  # Only what the stages run: the CLI and the GPU tests (the CPU suite is CI's). Tests are
  # listed when ctest runs (PRE_TEST), so a test binary that cannot start fails tests, not the build.
  if ! timed 60 cmake -S . -B "$BUILD_DIR" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCUTRAIN_CUDA=ON \
       -DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCHS" -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
       -DCUTRAIN_GPU_TEST_TIMEOUT=120 -DCMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE=PRE_TEST \
       "${cmake_args[@]}" ${GPU_CHECK_CMAKE_ARGS:-} > "$LOGS/configure.log" 2>&1; then
    row build "FAILED (configure): $(grep -m1 -E 'CMake Error|error' "$LOGS/configure.log" | cut -c1-200)"
    tail -30 "$LOGS/configure.log"
    return
  fi
  cudnn_runtime_path
  # The CLI first and on its own: a test that does not compile must not cost the benchmarks.
  if timed 240 cmake --build "$BUILD_DIR" -j"$(nproc)" --target cutrain_cli > "$LOGS/build.log" 2>&1; then
    CLI_OK=1
  else
    grep -m20 -E 'error|Error' "$LOGS/build.log"; tail -10 "$LOGS/build.log"
  fi
  if [ "$CLI_OK" = 1 ] && timed 200 cmake --build "$BUILD_DIR" -j"$(nproc)" --target cutrain_gpu_tests \
       > "$LOGS/build-tests.log" 2>&1; then
    TESTS_OK=1
  elif [ "$CLI_OK" = 1 ]; then
    grep -m20 -E 'error|Error' "$LOGS/build-tests.log"; tail -10 "$LOGS/build-tests.log"
  fi
  row build "$([ "$CLI_OK" = 1 ] && echo "cli ok" || echo "cli FAILED"), $([ "$TESTS_OK" = 1 ] && echo "gpu tests ok" || echo "gpu tests FAILED") ($(grep -m1 'CUDA backend' "$LOGS/configure.log" | sed 's/.*cutrain: //'))"
  [ "$CLI_OK" = 1 ] && timed 30 "$CLI" info > "$LOGS/info.txt" 2>&1
  [ "$CLI_OK" = 1 ] && row info "$(grep -m1 '^device 0' "$LOGS/info.txt" || grep -m1 '^auto' "$LOGS/info.txt"); $(grep -m1 '^loaded' "$LOGS/info.txt")$(grep -E '^(problem|note)' "$LOGS/info.txt" | tr '\n' ' ')"
}

stage_test() {
  # One process per test (ctest) so that a crash names its test; 8 at a time share the GPU, and
  # the CPU twins they run share the 16 cores (OpenMP would start 16 threads in each).
  OMP_NUM_THREADS=2 timed 150 ctest --test-dir "$BUILD_DIR" -L gpu -j8 --timeout 120 --output-on-failure \
    --output-junit "$LOGS/gpu-tests.xml" > "$LOGS/gpu-tests.log" 2>&1
  # ctest counts a skipped test as passed: the skips are counted apart (all skipped = the tests
  # found no usable device), and a run cut short still says how far it got.
  local log=$LOGS/gpu-tests.log skipped passed failed
  skipped=$(grep -c '\*\*\*Skipped' "$log")
  passed=$(grep -cE 'Test +#[0-9]+: .* Passed' "$log")
  failed=$(grep -cE 'Test +#[0-9]+: .*\*\*\*(Failed|Timeout|Exception)|Test +#[0-9]+: .*(SEGFAULT|Subprocess)' "$log")
  row "gpu tests" "$(pick 'tests passed|tests failed|TIMEOUT' "$log"); $passed passed, $skipped skipped, $failed failed"
  # Kept beside the build (logs are cleared per call): `models` run on its own reads it too.
  rm -f "$BUILD_DIR/tf32-tests-failed"
  grep -qE 'Tf32.*(Failed|Timeout|Exception|SEGFAULT)' "$LOGS/gpu-tests.log" &&
    touch "$BUILD_DIR/tf32-tests-failed"
  grep -E '^\s+[0-9]+ - .*\((Failed|Timeout|Subprocess|SEGFAULT|Exception)' "$LOGS/gpu-tests.log" | head -25
  grep -m3 -E '\(Skipped\)' "$LOGS/gpu-tests.log"
  # What ctest does not show for a passing test: how much of a 3x3 convolution TF32 changed
  # (0% would mean cuDNN's heuristic kept FMA algorithms under --tf32).
  timed 30 "$BUILD_DIR/bin/cutrain_gpu_tests" --gtest_filter='GpuLayers.Tf32ChangesGemmResults' \
    > "$LOGS/tf32-share.log" 2>&1
  row "tf32 conv outputs changed" "$(pick 'TF32 changed' "$LOGS/tf32-share.log")"
}

stage_bench() {
  local mode log
  # Each with the data staged from pinned host memory and with it on the device: the PyTorch peer
  # keeps it on the device, so its rows compare with the --data-on-device ones.
  for mode in "" "--data-on-device" "--cuda-graph" "--cuda-graph --data-on-device"; do
    log="$LOGS/bench-train${mode// /_}.log"
    timed 40 "$CLI" bench train --device cuda --model lenet --epochs "$EPOCHS" $mode > "$log" 2>&1
    row "cutrain lenet ${mode:-eager}" "$(pick '^median' "$log")"
    case "$mode" in *graph*) row "cutrain lenet ${mode} graphs" "$(pick '^graphs' "$log")" ;; esac
  done
  row "cutrain lenet linear bias" "$(pick '^linear layers' "$LOGS/bench-train--cuda-graph.log")"
  timed 60 "$CLI" train --device cuda --model lenet --epochs "$EPOCHS" --cuda-graph --no-progress \
    > "$LOGS/train-lenet-graph.log" 2>&1
  row "cutrain lenet test acc" "$(pick_last '^epoch' "$LOGS/train-lenet-graph.log")"
  # Per-layer forward/backward ms (CUDA events around each layer, eager): where a step goes.
  timed 30 "$CLI" time --device cuda --model lenet --iterations 200 > "$LOGS/time-lenet.log" 2>&1
  row "cutrain time lenet (ms)" "$(pick '^total' "$LOGS/time-lenet.log")"
  timed 40 "$CLI" bench optimizer --device cuda --optimizer adam --params 100000000 > "$LOGS/bench-adam.log" 2>&1
  row "cutrain adam 100M" "$(pick 'GB/s' "$LOGS/bench-adam.log")"
  timed 30 "$CLI" bench optimizer --device cuda --optimizer adam --lenet --iterations 2000 > "$LOGS/bench-adam-lenet.log" 2>&1
  row "cutrain adam lenet" "$(pick '^step' "$LOGS/bench-adam-lenet.log")"
  local bn
  # Both schedules of the training ops (issue 4's design question), then fused BN+ReLU with the
  # schedule auto picks at this size.
  for bn in "--schedule two-pass" "--schedule streamed" "--relu"; do
    log="$LOGS/bench-bn${bn// /_}.log"
    timed 40 "$CLI" bench batchnorm --device cuda --shape 256,64,56,56 $bn > "$log" 2>&1
    # Row: op B/value med min GB/s /copy [| cuDNN-med cuDNN-min cuDNN-GB/s ours/cuDNN]
    if grep -qE '^(forward|backward)' "$log"; then
      row "batchnorm 256,64,56,56 $bn" "$(grep -E '^(forward|backward)' "$log" |
        awk '{ k = 0; for (i = 1; i <= NF; i++) if ($i == "|") k = i
               op = ($1 == "backward" ? "bwd" : $1 " " $2)
               if (k) printf "%s %s GB/s (%s of copy, cuDNN %s GB/s, ours/cuDNN %s); ", op, $(k-2), $(k-1), $(NF-1), $NF
               else printf "%s %s GB/s (%s of copy); ", op, $(NF-1), $NF }')"
    else
      row "batchnorm 256,64,56,56 $bn" "$(tail -1 "$log")"
    fi
  done
  # The peers last among the benchmarks: python and torch start slowly, torch.compile slower.
  timed 40 python3 bench/peers/adam_torch.py --params 100000000 > "$LOGS/torch-adam.log" 2>&1
  row "torch adam 100M" "$(pick 'fused' "$LOGS/torch-adam.log")"
  timed 30 python3 bench/peers/adam_torch.py --lenet --iterations 2000 > "$LOGS/torch-adam-lenet.log" 2>&1
  row "torch adam lenet" "$(pick 'fused' "$LOGS/torch-adam-lenet.log")"
  for mode in "" "--cuda-graph"; do torch_lenet "$mode" 60; done
}
# One A/B variant of LeNet's graph step: ab_row LABEL [NAME=VALUE ...] -- [FLAGS ...]
ab_row() {
  local label=$1 log envs=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  log="$LOGS/bench-train-ab-${label//[^A-Za-z0-9=-]/_}.log"
  timed 40 env ${envs[@]+"${envs[@]}"} "$CLI" bench train --device cuda --model lenet \
    --epochs "$EPOCHS" --cuda-graph "$@" > "$log" 2>&1
  row "cutrain lenet graph $label" "$(pick '^median' "$log"); $(pick '^graphs' "$log" | grep -o 'has [0-9]* nodes')"
}
# A/B rows of LeNet's graph step, after the models: what each design choice is worth.
stage_ab() {
  ab_row CUBLASLT=0 CUTRAIN_CUBLASLT=0 --  # Linear's bias in separate cuBLAS calls
  ab_row --tf32 -- --tf32                  # TF32 for LeNet's small convolutions and GEMMs
  ab_row unfused -- --unfused              # activations as layers of their own
}
torch_lenet() {
  local mode=$1 limit=$2 log="$LOGS/torch-lenet${1// /_}.log"
  # One warm-up epoch left out of the median, as cutrain's bench train does (torch.compile's
  # recompile for the last partial batch lands there too).
  timed "$limit" python3 bench/peers/lenet_torch.py --device cuda --model lenet --epochs "$EPOCHS" \
    --warmup-epochs 1 $mode > "$log" 2>&1
  row "torch lenet ${mode:-eager}" "$(grep -o '"median_examples_per_sec": [0-9.]*' "$log" || pick_last . "$log")"
}
# torch.compile spends up to a minute compiling: after everything of ours.
stage_compile() { torch_lenet --compile 90; }

stage_models() {
  local m math=${MODEL_MATH:-auto} flags=() left=2 each
  # TF32 convolutions (PyTorch's default for cuDNN) unless a TF32 test failed in `test`.
  if [ "$math" = auto ]; then
    math=tf32
    [ -e "$BUILD_DIR/tf32-tests-failed" ] && math=full
  fi
  [ "$math" = tf32 ] && flags=(--tf32)
  for m in resnet18 densenet; do
    # At most 150 s each, and a fair share of what the deadline leaves.
    each=$(( (DEADLINE_S - (SECONDS - START) - 10) / left ))
    [ "$each" -gt 150 ] && each=150
    left=$((left - 1))
    timed "$each" "$CLI" train --device cuda --model "$m" --resize 96 --epochs "$MODEL_EPOCHS" \
      --cuda-graph "${flags[@]}" --no-progress --metrics "$LOGS/$m.jsonl" > "$LOGS/train-$m.log" 2>&1
    row "$m 96x96 ($math)" "$(pick_last '^epoch' "$LOGS/train-$m.log")"
    row "$m memory" "$(pick 'tensors at the peak of training' "$LOGS/train-$m.log")"
  done
}

stage_sanitize() {
  local sanitizer
  sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer \
              /opt/nvidia/*/compute-sanitizer 2>/dev/null | head -1)
  if [ -z "$sanitizer" ]; then row sanitizer "compute-sanitizer not found"; return; fi
  # Our kernels, not layers or training steps: cuDNN/cuBLAS under memcheck take minutes per step.
  # The streamed batch-norm kernel runs in a process of its own: its blocks spin-wait on each
  # other and trap after ~2^25 polls, and a trap is sticky: it would fail every later test in
  # the same process and bury the sanitizer's own findings.
  # KernelsMatchCpu and BothSchedulesMatchCpu go with it: at 256x2x9216 auto picks it too.
  local streamed='GpuBatchNorm.StreamedSchedule*:GpuBatchNorm.SchedulesGiveTheSameBits'
  streamed+=':GpuBatchNorm.KernelsMatchCpu:GpuBatchNorm.BothSchedulesMatchCpu'
  local filter='GpuOps.*:GpuOptimizers.*:AllRules/GpuOptimizerRules.*'
  filter+=':GpuNewOps.AddKernelsMatchCpu:GpuNewOps.GlobalAvgPoolMatchesCpu:GpuNewOps.ChannelBiasActivation*'
  filter+=':GpuNewOps.BilinearResizeMatchesCpu:GpuPipeline.DeviceShuffle*:GpuPipeline.GatherKernel*'
  # Host-side ordering over 200 steps of 64 GB: minutes under the tool, and nothing a sanitizer sees.
  filter+='-GpuOptimizers.LoadStateWaitsForQueuedSteps'
  local tool part log rc
  for tool in memcheck racecheck; do
    if grep -q 'Device not supported' "$LOGS/sanitizer-memcheck-kernels.log" 2>/dev/null; then
      row "$tool" "skipped: compute-sanitizer does not support this device (gVisor machines)"
      continue
    fi
    for part in kernels streamed-bn; do
      log="$LOGS/sanitizer-$tool-$part.log"
      timed 60 "$sanitizer" --tool "$tool" --error-exitcode 9 \
        "$BUILD_DIR/bin/cutrain_gpu_tests" --gtest_brief=1 \
        --gtest_filter="$([ "$part" = kernels ] && echo "$filter" || echo "$streamed")" > "$log" 2>&1
      rc=$?
      row "$tool $part" "$(pick 'ERROR SUMMARY|RACECHECK SUMMARY' "$log") (rc $rc)"
    done
  done
}

stage_profile() {
  # The kernels of about two eager LeNet training steps in the steady state (ncu, duration only,
  # clocks left alone): their count and summed GPU time against bench train's step time say
  # whether a step is bound by launches or by its kernels, and which kernels lead.
  local ncu
  ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
  if [ -z "$ncu" ]; then row "ncu lenet kernels" "ncu not found"; return; fi
  timed 120 "$ncu" --metrics gpu__time_duration.sum --clock-control none --launch-skip 4000 \
    --launch-count 100 --csv --print-units base "$CLI" bench train --device cuda --model lenet \
    --epochs 1 > "$LOGS/ncu-lenet.csv" 2> "$LOGS/ncu-lenet.log"
  row "ncu lenet kernels" "$(python3 - "$LOGS/ncu-lenet.csv" "$LOGS/ncu-lenet.log" <<'PY' 2>&1 | tail -1
import csv, sys, collections
rows = [r for r in csv.reader(l for l in open(sys.argv[1]) if l.startswith('"'))]
if len(rows) < 2:
    log = [l.strip() for l in open(sys.argv[2], errors="replace") if l.strip()] if len(sys.argv) > 2 else []
    print("no kernels profiled" + (": " + log[-1][:200] if log else "")); sys.exit()
h = rows[0]; name, value = h.index("Kernel Name"), h.index("Metric Value")
total = collections.Counter(); count = collections.Counter()
for r in rows[1:]:
    # The function's own name, and its first template argument where it has one: cuBLAS's and
    # cuDNN's kernels are templates whose arguments say what they are (cutlass::Kernel2<...>).
    full = r[name].replace("(anonymous namespace)::", "").split("(")[0]
    base, _, args = full.partition("<")
    k = base.split(" ")[-1].split("::")[-1]
    if args:
        k += "<" + args.split(",")[0].rstrip(">")[:40] + ">"
    k = k[:60]
    total[k] += float(r[value].replace(",", "")) / 1000; count[k] += 1
n = sum(count.values()); t = sum(total.values())
top = ", ".join(f"{k} {v:.0f}us/{count[k]}" for k, v in total.most_common(4))
print(f"{n} kernels, {t:.0f} us of GPU time ({t / n:.1f} us each); top: {top}")
PY
)"
}

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(all)
[ "${stages[0]}" = all ] && stages=(build test bench models ab sanitize profile compile)
timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  > "$LOGS/gpu.txt" 2>&1
# The tool versions, so that a failed build can be read without a second run.
{ cmake --version | head -1; nvcc --version | tail -1; g++ --version | head -1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
  # What the toolkit holds (a missing cuBLAS or NVTX fails the configure) and what may change
  # the arithmetic or the libraries behind our backs.
  ls -d "$(dirname "$(command -v nvcc)")"/../include/{cublas_v2.h,cudnn.h,nvtx3} 2>&1
  env | grep -E '^(LD_LIBRARY_PATH|CUDA|NVIDIA|TORCH_ALLOW_TF32|CUBLAS|CUDNN)' | sort
} >> "$LOGS/gpu.txt" 2>&1
case " ${stages[*]} " in *" build "*) ;; *) setup_paths; cudnn_runtime_path ;; esac  # else stage_build
# Without `build` in this call, what an earlier call built is used as it is.
CLI_OK=1 TESTS_OK=1
for s in "${stages[@]}"; do
  case "$s" in
    build|test|bench|models|ab|sanitize|profile|compile)
      case "$s" in
        test|sanitize) ok=$TESTS_OK ;;
        build) ok=1 ;;
        *) ok=$CLI_OK ;;
      esac
      if [ "$ok" != 1 ]; then row "$s" "skipped (its build failed)"; continue; fi
      if [ $((DEADLINE_S - (SECONDS - START))) -lt 30 ]; then row "$s" "skipped (deadline)"; continue; fi
      "stage_$s"
      pack_logs ;;
    *) echo "gpu-check: unknown stage '$s' (build test bench models ab sanitize profile compile all)" >&2; exit 2 ;;
  esac
done

summary() {
  echo
  echo "== gpu-check ${stages[*]} $(date -u +%Y-%m-%dT%H:%MZ), $((SECONDS - START)) s, on $(head -1 "$LOGS/gpu.txt") =="
  printf '%s\n' "${rows[@]}"
}
summary > "$LOGS/summary.txt"
cp "$LOGS/summary.txt" "$OUT/summary.txt"
pack_logs && echo "logs: $OUT/gpu-check-logs.tgz (summary.txt, progress.txt beside it)"
summary
