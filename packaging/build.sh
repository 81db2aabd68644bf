#!/usr/bin/env bash
# Configures and builds Nephro3D into build/ (Release). Extra arguments go to CMake,
# e.g. -DTorch_DIR=/opt/libtorch/share/cmake/Torch for an official CUDA LibTorch.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${NEPHRO3D_BUILD_DIR:-$root/build}"
jobs="${NEPHRO3D_JOBS:-$(nproc)}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
# NEPHRO3D_TARGET limits the build (the demo needs only the executables).
cmake --build "$build" -j"$jobs" ${NEPHRO3D_TARGET:+--target "$NEPHRO3D_TARGET"}
