#!/usr/bin/env bash
# Coverage-guided fuzzing of cutrain's parsers (tests/fuzz/): a clang build with libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer (CPU only), then each target for SECONDS
# seconds (default 60) from its seeds and whatever corpus earlier runs left in build-fuzz/.
#   scripts/fuzz.sh                      every target
#   SECONDS_EACH=600 scripts/fuzz.sh checkpoint safetensors
# A failure leaves libFuzzer's crash-* / timeout-* / oom-* file in build-fuzz/findings/<target>/;
# once fixed, copy it into tests/fuzz/regressions/<target>/, where ctest replays it forever.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-2}
SECONDS_EACH=${SECONDS_EACH:-60}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors idx checkpoint scheduler_spec metrics_plot airfoil stored_config)

# libFuzzer ships with clang's runtime libraries: check by linking, whatever their layout.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
  > "$probe/probe.cpp"
if ! clang++ -fsanitize=fuzzer "$probe/probe.cpp" -o "$probe/probe" 2>/dev/null; then
  echo "fuzz.sh needs clang with libFuzzer: apt-get install -y clang libclang-rt-dev libomp-dev" >&2
  exit 2
fi
# Debug (-g, assertions on) with our own -O1: RelWithDebInfo would append -O2 -DNDEBUG.
flags="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
# Reconfigured when the flags change (an old tree would keep the old ones).
cache="$BUILD_DIR/CMakeCache.txt"
if [ ! -f "$cache" ] || ! grep -qF -- "CMAKE_CXX_FLAGS:STRING=$flags" "$cache" ||
   ! grep -qx "CMAKE_BUILD_TYPE:STRING=Debug" "$cache"; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Debug -DCUTRAIN_CUDA=OFF \
    -DCUTRAIN_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t" "replay_$t"); done
cmake --build "$BUILD_DIR" -j"$JOBS" --target "${build_targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
summary=()
status=0
for t in "${targets[@]}"; do
  corpus="$BUILD_DIR/corpus/$t" findings="$BUILD_DIR/findings/$t"
  mkdir -p "$corpus" "$findings"
  "$BUILD_DIR/bin/replay_$t" --write-seeds "$corpus"
  dirs=("$corpus")
  [ -d "tests/fuzz/regressions/$t" ] && dirs+=("tests/fuzz/regressions/$t")
  echo "== fuzz_$t: $SECONDS_EACH s"
  # One process, bounded memory and time per input: a parser that allocates what a header
  # claims, or loops on it, is a finding (oom-* / timeout-*), not a slow run.
  if "$BUILD_DIR/bin/fuzz_$t" "${dirs[@]}" -artifact_prefix="$findings/" \
      -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
      -max_len=65536 -print_final_stats=1 2>"$findings/log.txt"; then
    runs=$(grep -o 'number_of_executed_units: *[0-9]*' "$findings/log.txt" | grep -o '[0-9]*$' || true)
    summary+=("$t: ok, ${runs:-?} inputs run, $(ls "$corpus" | wc -l) in the corpus")
  else
    status=1
    found=$(ls "$findings" | grep -v '^log.txt$' | tr '\n' ' ' || true)
    summary+=("$t: FAILED, see $findings/ (${found:-log.txt only})")
    grep -m1 -A12 -E "ERROR|fuzz contract|runtime error|Timeout|out-of-memory" "$findings/log.txt" >&2 || true
  fi
done
printf '%s\n' "${summary[@]}"
exit $status
