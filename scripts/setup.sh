#!/usr/bin/env bash
# One-time set-up of a fresh Debian machine of this kind: installs what cutrain needs from
# Debian's packages (as root or with sudo), configures and builds it (Release, -j2).
# Afterwards: ./build/bin/cutrain train
#
# Environment: BUILD_DIR (default build), JOBS (default 2), CUTRAIN_CUDA (AUTO|ON|OFF),
# SKIP_APT=1 to skip the package step.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
PACKAGES=(build-essential cmake pkg-config zlib1g-dev libopenblas-dev libgtest-dev
          libcli11-dev nlohmann-json3-dev dataset-fashion-mnist python3)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${SKIP_APT:-0}" != 1 ] && [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# nvcc is optional (CPU-only build without it); the CUDA toolkit usually lives here.
if ! command -v nvcc >/dev/null 2>&1 && [ -f /etc/profile.d/cuda.sh ]; then
  # shellcheck disable=SC1091
  . /etc/profile.d/cuda.sh
fi

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCUTRAIN_CUDA="${CUTRAIN_CUDA:-AUTO}"
cmake --build "$BUILD_DIR" -j"$JOBS"
echo "setup: done. Train LeNet on Fashion-MNIST with: $BUILD_DIR/bin/cutrain train"
