#!/usr/bin/env bash
# The ablation of the paper's Table 2 on stories260K: perplexity against the number of calibration
# samples and against the training length, block-wise vs end-to-end, from real run files.
# Usage: scripts/ablation.sh OUTDIR [BITS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:?usage: scripts/ablation.sh OUTDIR [BITS] [SEED]}"
BITS="${2:-W4A8}"
SEED="${3:-1337}"
source scripts/calib_common.sh
printf "sweep\tmethod\tsamples\tepochs\titerations\tquant_ppl\tdelta_pct\n"
one() { # sweep method samples epochs
  local run="$OUT/$2-n$3-e$4.h5"
  "$MQ" calibrate "$MODEL" --method "$2" --bits "$BITS" --calib "$OUT/calib.txt" --samples "$3" --seqlen 128 \
    --epochs "$4" --seed "$SEED" --out "$run" --overwrite --eval "$OUT/eval.txt" --json > "$run.json" 2> "$run.log"
  python3 - "$run.json" "$1" "$2" "$3" "$4" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); fp, q = r["fp_perplexity"], r["quant_perplexity"]
n, e = int(sys.argv[4]), int(sys.argv[5])
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{n}\t{e}\t{n*e}\t{q:.4f}\t{100*(q/fp-1):+.2f}")
PY
}
for method in blockwise mobilequant; do
  for n in 4 8 16 32 64; do one samples "$method" "$n" 10; done
  for e in 2 5 10 20 40; do one epochs "$method" 16 "$e"; done
done
