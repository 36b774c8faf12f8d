#!/usr/bin/env bash
# Builds what changed and runs the whole test suite. Tests read ../shared (override with
# MQ_SHARED_DIR=/path at configure time: cmake --preset default -DMQ_SHARED_DIR=/path).
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-default}"
if [ ! -f "build/build.ninja" ] && [ "$PRESET" = default ]; then cmake --preset default; fi
cmake --build --preset "$PRESET"
ctest --preset "$PRESET" "${@:2}"
