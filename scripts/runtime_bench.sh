#!/usr/bin/env bash
# End-to-end runtime benchmark of docs/runtime-performance.md: a random-weight TinyLlama-1.1B-shaped
# checkpoint (2 decoder layers, the real widths), calibrated cheaply with RTN, exported as W8A8, W4A8,
# A16 and FP32 packages, each timed by `mq-run bench --profile` (prompt encoding of 256 and 1024
# tokens, 32 decoded tokens), then a table of the speedups (from wall-clock and from process CPU
# time, which leaves out the time other processes held the cores) and the per-operation breakdown.
# Builds nothing: it uses the binaries of an existing build (BUILD, default ./build;
# `cmake --preset default && cmake --build --preset default`). Steps whose output exists are skipped.
#
# Usage: scripts/runtime_bench.sh [OUTDIR]
# Environment: BUILD=build-dir  THREADS="1 2"  PROMPTS="256 1024"  DECODE=32  REPEATS=5  LAYERS=2
#              MQ_SHARED_DIR (calibration text and tokenizer; default ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-/tmp/mq-runtime-bench}"
BUILD="${BUILD:-build}"
THREADS="${THREADS:-1 2}"
PROMPTS="${PROMPTS:-256 1024}"
DECODE="${DECODE:-32}"
REPEATS="${REPEATS:-5}"
LAYERS="${LAYERS:-2}"
SHARED="${MQ_SHARED_DIR:-../shared}"
MQ="$BUILD/bin/mq"
MQRUN="$BUILD/bin/mq-run"
CALIB="$SHARED/data/tinystories/TinyStories-valid.sample30K.txt"
# The random checkpoint has no tokenizer; any SentencePiece model whose ids fit the 32000-entry
# vocabulary will do for calibrating ranges of random weights.
TOKENIZER="$SHARED/models/stories260K/tok512.model"

for f in "$MQ" "$MQRUN"; do
  [ -x "$f" ] || { echo "runtime_bench: $f is missing; build first (BUILD=$BUILD)" >&2; exit 1; }
done
for f in "$CALIB" "$TOKENIZER"; do
  [ -f "$f" ] || { echo "runtime_bench: $f is missing; set MQ_SHARED_DIR to the shared folder" >&2; exit 1; }
done
command -v jq > /dev/null || { echo "runtime_bench: needs jq (apt-get install jq)" >&2; exit 1; }
mkdir -p "$OUT"

MODEL="$OUT/tinyllama-${LAYERS}l"
if [ ! -f "$MODEL/model.safetensors" ]; then
  echo "== mq synth: random TinyLlama-1.1B shapes, $LAYERS layers -> $MODEL" >&2
  "$MQ" synth --shape tinyllama-1.1b --layers "$LAYERS" --out "$MODEL" >&2
fi

# RTN: no training, only the activation ranges of a few calibration windows.
for bits in w8a8 w4a8; do
  run="$OUT/run-$bits.h5"
  if [ ! -f "$run" ]; then
    echo "== mq calibrate --method rtn --bits $bits -> $run" >&2
    "$MQ" calibrate "$MODEL" --method rtn --bits "$bits" --calib "$CALIB" --samples 4 --seqlen 128 --epochs 1 \
      --tokenizer "$TOKENIZER" --out "$run" --overwrite > "$run.log" 2>&1
  fi
done

declare -A FROM=([w8a8]=w8a8 [w4a8]=w4a8 [a16]=w8a8 [fp32]=w8a8)
for variant in w8a8 w4a8 a16 fp32; do
  pkg="$OUT/$variant.mqpkg"
  if [ ! -f "$pkg" ]; then
    echo "== mq export --variant $variant -> $pkg" >&2
    "$MQ" export "$OUT/run-${FROM[$variant]}.h5" --out "$pkg" --variant "$variant" > "$pkg.log" 2>&1
  fi
done

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(uptime | sed 's/.*load average/load average/')" >&2
echo "== mq-run bench --profile (prompt ${PROMPTS// //} tokens, $DECODE decoded, 1 warm-up, $REPEATS repeats, threads ${THREADS// //})" >&2
for threads in $THREADS; do
  for prompt in $PROMPTS; do
    for variant in w8a8 w4a8 a16 fp32; do
      json="$OUT/bench-$variant-p$prompt-t$threads.json"
      "$MQRUN" bench "$OUT/$variant.mqpkg" --prompt-tokens "$prompt" --decode-tokens "$DECODE" --warmup 1 \
        --repeats "$REPEATS" --threads "$threads" --json --profile > "$json" 2> "${json%.json}.profile.txt"
      echo "   $variant, $prompt tokens, $threads thread(s): $(jq -r '.prompt_tokens_per_second|round' "$json") prompt tokens/s;" \
        "$(uptime | sed 's/.*load average/load average/')" >&2
    done
  done
done

# The table: medians, and the speedups of prompt encoding over A16 and FP32, from the wall-clock
# medians and from the process-CPU-time medians.
row() { printf "%-7s %6s %7s %10s %12s %12s %10s %12s %8s %8s %8s %8s %8s\n" "$@"; }
row variant prompt threads "prompt s" "prompt CPU s" "prompt tok/s" "decode ms" "decode tok/s" "vs A16" "vs FP32" \
  "CPU A16" "CPU FP32" "RSS MiB"
for threads in $THREADS; do
  for prompt in $PROMPTS; do
    a16=$(jq '.prompt_seconds.median' "$OUT/bench-a16-p$prompt-t$threads.json")
    fp32=$(jq '.prompt_seconds.median' "$OUT/bench-fp32-p$prompt-t$threads.json")
    a16cpu=$(jq '.prompt_cpu_seconds.median' "$OUT/bench-a16-p$prompt-t$threads.json")
    fp32cpu=$(jq '.prompt_cpu_seconds.median' "$OUT/bench-fp32-p$prompt-t$threads.json")
    for variant in w8a8 w4a8 a16 fp32; do
      # shellcheck disable=SC2046 # the fields are single words
      row $(jq -r --arg v "$variant" --arg t "$threads" --argjson a16 "$a16" --argjson fp32 "$fp32" \
        --argjson a16cpu "$a16cpu" --argjson fp32cpu "$fp32cpu" '
        [$v, (.prompt_tokens|tostring), $t,
         (.prompt_seconds.median*1000|round/1000|tostring),
         (.prompt_cpu_seconds.median*1000|round/1000|tostring),
         (.prompt_tokens_per_second|round|tostring),
         (.decode_seconds_per_token.median*1e4|round/10|tostring),
         (.decode_tokens_per_second*10|round/10|tostring),
         (($a16/.prompt_seconds.median)*100|round/100|tostring) + "x",
         (($fp32/.prompt_seconds.median)*100|round/100|tostring) + "x",
         (($a16cpu/.prompt_cpu_seconds.median)*100|round/100|tostring) + "x",
         (($fp32cpu/.prompt_cpu_seconds.median)*100|round/100|tostring) + "x",
         (.peak_rss_bytes/1048576|round|tostring)] | @tsv' "$OUT/bench-$variant-p$prompt-t$threads.json")
    done
  done
done

# Where the prompt time goes: ms per prompt pass by operation (mq-run bench --profile), per thread count.
for threads in $THREADS; do
  echo
  echo "prompt ms per pass by operation, $threads thread(s):"
  header="operation"
  files=()
  for prompt in $PROMPTS; do
    for variant in w8a8 w4a8 a16 fp32; do
      header="$header $variant/$prompt"
      files+=("$OUT/bench-$variant-p$prompt-t$threads.json")
    done
  done
  echo "$header" | awk '{ printf "%-22s", $1; for (i = 2; i <= NF; ++i) printf " %11s", $i; printf "\n" }'
  for key in $(jq -r '.profile.prompt | keys_unsorted[]' "${files[0]}"); do
    line="$key"
    for f in "${files[@]}"; do
      line="$line $(jq -r --arg k "$key" '.profile.prompt[$k]*1e4|round/10' "$f")"
    done
    echo "$line" | awk '{ printf "%-22s", $1; for (i = 2; i <= NF; ++i) printf " %11s", $i; printf "\n" }'
  done
done
