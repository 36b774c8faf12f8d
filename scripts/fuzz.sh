#!/usr/bin/env bash
# Fuzzes the package reader for SECONDS (default 120) under ASan + UBSan (tests/fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN="${1:-120}"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
mkdir -p build-fuzz/corpus
build-fuzz/bin/make_package_seed build-fuzz/corpus/seed.mqpkg
build-fuzz/bin/package_fuzz -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=2048 build-fuzz/corpus
