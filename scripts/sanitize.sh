#!/usr/bin/env bash
# The CPU test suite under AddressSanitizer + UndefinedBehaviorSanitizer, in its own build
# directory (a CPU-only build: CUTRAIN_CUDA=OFF, which also proves the no-CUDA path builds).
# Any sanitizer report fails the run. Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-asan}
JOBS=${JOBS:-2}
# float-cast-overflow is part of clang's "undefined" but not of gcc's: a float cast to an integer
# it does not fit is undefined behaviour (fuzzing found one in the metrics reader).
flags="-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow -fno-omit-frame-pointer"
# Reconfigured when the flags change (an old tree would keep the old ones).
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ] || ! grep -qF -- "CMAKE_CXX_FLAGS:STRING=$flags" "$BUILD_DIR/CMakeCache.txt"; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCUTRAIN_CUDA=OFF \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
    -DCMAKE_SHARED_LINKER_FLAGS="$flags"
fi
cmake --build "$BUILD_DIR" -j"$JOBS"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$BUILD_DIR"
# The package test builds an unsanitized consumer against this library: not meaningful here.
ctest --output-on-failure -j"$JOBS" -LE "gpu|package" "$@"
