#!/usr/bin/env bash
# The method × bit-width table of docs/quantization-results.md on stories260K: calibrate on the
# first 10 lines of the TinyStories sample, evaluate on the rest (and optionally WikiText-2 test).
# Usage: scripts/quant_table.sh OUTDIR [EPOCHS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:?usage: scripts/quant_table.sh OUTDIR [EPOCHS] [SEED]}"
EPOCHS="${2:-10}"
SEED="${3:-1337}"
source scripts/calib_common.sh
printf "method\tbits\tseed\tfp_ppl\tquant_ppl\tdelta_pct\tseconds\n"
for bits in W8A8 W4A8 W4A8-sym; do
  for method in rtn smoothquant blockwise mobilequant; do
    run="$OUT/${method}-${bits}-s${SEED}.h5"
    start=$(date +%s.%N)
    "$MQ" calibrate "$MODEL" --method "$method" --bits "$bits" --calib "$OUT/calib.txt" \
      --samples 16 --seqlen 128 --epochs "$EPOCHS" --seed "$SEED" --out "$run" --overwrite \
      --eval "$OUT/eval.txt" --eval-seqlen 128 --json > "$run.json" 2> "$run.log"
    end=$(date +%s.%N)
    python3 - "$run.json" "$method" "$bits" "$SEED" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
fp, q = r["fp_perplexity"], r["quant_perplexity"]
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{sys.argv[4]}\t{fp:.4f}\t{q:.4f}\t{100*(q/fp-1):+.2f}\t{float(sys.argv[6])-float(sys.argv[5]):.1f}")
PY
  done
done
