#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for MQ Workbench and builds it. Idempotent: run it again after
# a pull. Installs only Debian packages (apt-get), then configures and builds the default preset.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config clang-format clang-tidy
  # libraries
  qt6-base-dev libqcustomplot-dev libtorch-dev libhdf5-dev hdf5-tools libsentencepiece-dev sentencepiece
  nlohmann-json3-dev libpcre2-dev libgtest-dev libgmock-dev libbenchmark-dev libgl1-mesa-dev
  # LibTorch on Debian links the reference BLAS (~5 GFLOP/s); OpenBLAS takes over the
  # libblas.so.3 alternative (~95 GFLOP/s per core).
  libopenblas0-openmp
  # the runtime benchmark's measured alternatives (tests/bench/runtime_bench.cpp, optional there):
  # oneDNN's int8 matmul and OpenBLAS's sgemm; jq reads mq-run's JSON in scripts/runtime_bench.sh
  libdnnl-dev libopenblas-openmp-dev jq
  # the runtime cross-built for 64-bit Arm and run under qemu (scripts/arm64_check.sh, a test)
  g++-aarch64-linux-gnu qemu-user
  # GUI tests and screenshots, device benchmarking
  xvfb xauth imagemagick adb
  # the .deb and its checks (tests/packaging): cpack's dpkg-shlibdeps, lintian, desktop/AppStream validators
  dpkg-dev fakeroot file xz-utils lintian desktop-file-utils appstream
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${PACKAGES[@]}"
else
  echo "setup: all ${#PACKAGES[@]} Debian packages are installed"
fi

cmake --preset default
cmake --build --preset default
echo "setup: built into build/ (run scripts/test.sh for the tests)"
