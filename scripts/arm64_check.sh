#!/usr/bin/env bash
# Checks that the integer runtime assumes nothing of x86: builds mq-run for 64-bit Arm Linux
# (preset linux-arm64: Debian's g++-aarch64-linux-gnu, static), runs it under qemu-aarch64 on
# stories260K packages exported here (W8A8, W4A8, A16), and compares it with this machine's
# mq-run (AVX-512 kernels): greedy generation must give the same token ids, and the evaluation
# NLL must agree within 1e-6 relative (only the float LM head and NLL sums may round
# differently: the integer path is the same arithmetic). The arm64 build takes the portable
# scalar path, the one a phone without our NEON kernels runs.
#
# Usage: scripts/arm64_check.sh [WORKDIR]
# Environment: BUILD (the x86 build with mq and mq-run, default build), ARM_BUILD (default
#              build-linux-arm64), MQ_SHARED_DIR (default ../shared), TOKENS (generated, default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-$(mktemp -d)}"
BUILD="${BUILD:-build}"
ARM_BUILD="${ARM_BUILD:-build-linux-arm64}"
SHARED="${MQ_SHARED_DIR:-../shared}"
TOKENS="${TOKENS:-300}"
MODEL="$SHARED/models/stories260K/stories260K.bin"
TEXT="$SHARED/data/tinystories/TinyStories-valid.sample30K.txt"
TOKENIZER="$SHARED/models/stories260K/tok512.model"

fail() { echo "arm64_check: $*" >&2; exit 1; }
for tool in aarch64-linux-gnu-g++ qemu-aarch64 spm_encode jq; do
  command -v "$tool" > /dev/null || fail "$tool is missing: scripts/setup.sh installs it (g++-aarch64-linux-gnu, qemu-user, sentencepiece, jq)"
done
for f in "$BUILD/bin/mq" "$BUILD/bin/mq-run"; do [ -x "$f" ] || fail "$f is missing: build first (BUILD=$BUILD)"; done
for f in "$MODEL" "$TEXT" "$TOKENIZER"; do [ -f "$f" ] || fail "$f is missing: set MQ_SHARED_DIR to the shared folder"; done
mkdir -p "$WORK"

echo "== cross-building mq-run for aarch64 in $ARM_BUILD" >&2
cmake -S . -B "$ARM_BUILD" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DMQ_RUNTIME_ONLY=ON -DMQ_BUILD_TESTS=OFF -DBUILD_SHARED_LIBS=OFF \
  -DCMAKE_EXE_LINKER_FLAGS=-static > "$WORK/arm-configure.log" 2>&1 || { cat "$WORK/arm-configure.log" >&2; fail "configure failed"; }
cmake --build "$ARM_BUILD" --target mq-run > "$WORK/arm-build.log" 2>&1 || { tail -40 "$WORK/arm-build.log" >&2; fail "cross build failed"; }
ARM_RUN="$ARM_BUILD/bin/mq-run"
file "$ARM_RUN" | grep -q 'ARM aarch64' || fail "$ARM_RUN is not an aarch64 executable: $(file "$ARM_RUN")"

echo "== exporting stories260K packages (RTN) into $WORK" >&2
for bits in w8a8 w4a8; do
  "$BUILD/bin/mq" calibrate "$MODEL" --method rtn --bits "$bits" --calib "$TEXT" --samples 2 --seqlen 64 \
    --out "$WORK/$bits.h5" --overwrite > "$WORK/$bits.log" 2>&1 || { cat "$WORK/$bits.log" >&2; fail "calibration failed"; }
  "$BUILD/bin/mq" export "$WORK/$bits.h5" --out "$WORK/$bits.mqpkg" --variant "$bits" >> "$WORK/$bits.log" 2>&1 \
    || { cat "$WORK/$bits.log" >&2; fail "export failed"; }
done
"$BUILD/bin/mq" export "$WORK/w8a8.h5" --out "$WORK/a16.mqpkg" --variant a16 >> "$WORK/w8a8.log" 2>&1 \
  || { cat "$WORK/w8a8.log" >&2; fail "export failed"; }

# Token ids of the evaluation text (BOS first, as mq-run eval --ids wants) and a prompt from them.
{ printf '1 '; head -c 6000 "$TEXT" | spm_encode --model "$TOKENIZER" --output_format=id | tr '\n' ' '; } > "$WORK/ids.txt"
PROMPT=$(cut -d' ' -f1-32 "$WORK/ids.txt" | tr ' ' ',')

status=0
for v in w8a8 w4a8 a16; do
  pkg="$WORK/$v.mqpkg"
  "$BUILD/bin/mq-run" generate "$pkg" --prompt-ids "$PROMPT" --tokens "$TOKENS" --print-ids > "$WORK/$v.x86.ids" 2> /dev/null
  qemu-aarch64 "$ARM_RUN" generate "$pkg" --prompt-ids "$PROMPT" --tokens "$TOKENS" --print-ids > "$WORK/$v.arm.ids" 2> /dev/null
  n=$(wc -w < "$WORK/$v.x86.ids")
  if cmp -s "$WORK/$v.x86.ids" "$WORK/$v.arm.ids" && [ "$n" -gt 0 ]; then
    gen="same $n generated token ids"
  else
    gen="DIFFERENT generated ids (x86 $n, arm64 $(wc -w < "$WORK/$v.arm.ids"))"
    status=1
  fi
  x=$("$BUILD/bin/mq-run" eval "$pkg" --data "$WORK/ids.txt" --ids --json | jq -r .nll_per_token)
  a=$(qemu-aarch64 "$ARM_RUN" eval "$pkg" --data "$WORK/ids.txt" --ids --json | jq -r '"\(.nll_per_token) \(.kernels) \(.tokens)"')
  read -r an ak at <<< "$a"
  rel=$(awk -v x="$x" -v a="$an" 'BEGIN { d = (x - a) / x; if (d < 0) d = -d; printf "%.2e", d }')
  ok=$(awk -v r="$rel" 'BEGIN { print (r <= 1e-6) ? "ok" : "TOO FAR" }')
  [ "$ok" = ok ] || status=1
  echo "$v: $gen; eval NLL/token over $at tokens x86 $x, arm64 ($ak) $an, relative difference $rel ($ok)"
done
[ "$status" -eq 0 ] || fail "the arm64 runtime differs from the x86 one (files in $WORK)"
echo "arm64_check: the aarch64 runtime (under qemu) matches this machine's"
