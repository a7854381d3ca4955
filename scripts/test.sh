#!/usr/bin/env bash
# Builds cutrain if needed and runs the whole test suite with CTest. GPU tests (label gpu) skip
# with a reason when no CUDA device is usable. Extra arguments go to ctest (e.g. -L gpu).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}

if ! command -v nvcc >/dev/null 2>&1 && [ -f /etc/profile.d/cuda.sh ]; then
  # shellcheck disable=SC1091
  . /etc/profile.d/cuda.sh
fi
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCUTRAIN_CUDA="${CUTRAIN_CUDA:-AUTO}"
fi
cmake --build "$BUILD_DIR" -j"$JOBS"
cd "$BUILD_DIR"
ctest --output-on-failure -j"$JOBS" "$@"
