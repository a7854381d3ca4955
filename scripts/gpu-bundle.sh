#!/usr/bin/env bash
# Prepares, on this (networked) machine, what a lent GPU machine needs but cannot download: the
# device tool's machines reach no package registry, and their image has CUDA, cuDNN (as a pip
# wheel), CMake and PyTorch but not GoogleTest, CLI11, nlohmann-json, OpenBLAS or zlib headers.
#
#   data/fashion-mnist/  the four IDX files (from /usr/share/datasets/fashion-mnist)
#   data/debs/           Debian .deb files of the build dependencies; scripts/gpu-check.sh unpacks
#                        them there with dpkg-deb (no install) and points CMake at them
#
# data/ is git-ignored; pass it to the device tool as carry: ["data"] (about 40 MB in all).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}

mkdir -p data/fashion-mnist data/debs
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [ -f "$SRC/$f.gz" ]; then cp -u "$SRC/$f.gz" data/fashion-mnist/
  elif [ -f "$SRC/$f" ]; then gzip -c "$SRC/$f" > "data/fashion-mnist/$f.gz"  # 55 MB raw: too big to carry
  else echo "gpu-bundle: $SRC/$f(.gz) not found: install dataset-fashion-mnist or set FASHION_MNIST_DIR" >&2; exit 1
  fi
done

# Headers, CMake package files and static libraries; OpenBLAS's shared library and the Fortran
# runtime it needs. Not the 58 MB static OpenBLAS (libopenblas-pthread-dev): cutrain links the
# shared one. Not zlib's runtime: every image has libz.so.1, gpu-check.sh links against that.
PACKAGES=(libgtest-dev libcli11-dev nlohmann-json3-dev zlib1g-dev
          libopenblas0-pthread libgfortran5 libquadmath0)
rm -f data/debs/*.deb
(cd data/debs && apt-get download "${PACKAGES[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
for p in "${PACKAGES[@]}"; do
  ls data/debs/"${p}"_*.deb >/dev/null 2>&1 || { echo "gpu-bundle: could not download $p" >&2; exit 1; }
done
du -sh data/fashion-mnist data/debs
echo "gpu-bundle: ready; run the device check with carry [\"data\"]: bash scripts/gpu-check.sh"
