#!/usr/bin/env bash
# Renders the workbench's views from real runs into docs/images/ (README "Workbench",
# docs/workbench.md, docs/user-guide.md): the welcome page as a first run shows it; a MobileQuant
# W8A8 run with watched sites and an evaluation text, a block-wise run for the comparison, and a
# few shorter ones so the Table 2 ablation plots have more than one point per method. The window runs under Xvfb (or offscreen without xvfb-run).
# Usage: scripts/screenshots.sh [OUTDIR]   (default docs/images; needs build/bin/mq and mq-workbench)
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES="${1:-docs/images}"
BUILD="${BUILD_DIR:-build}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
source scripts/calib_common.sh
MQ="$BUILD/bin/mq"
export OMP_WAIT_POLICY=passive
# A fresh settings profile: the window starts as on a first run and leaves the user's settings alone.
export XDG_CONFIG_HOME="$OUT/config"
WATCH=layers.0.attn_norm.out,layers.0.mlp.down.in,layers.2.mlp.down.in,layers.4.mlp.down.in,lm_head.in
# RUNS_DIR=DIR keeps the run files there and reuses them on the next call (to iterate on the layout).
RUNS="${RUNS_DIR:-$OUT/runs}"
mkdir -p "$RUNS" "$IMAGES"

run() { # method samples epochs name
  if [ -n "${RUNS_DIR:-}" ] && [ -f "$RUNS/$4.h5" ]; then return; fi
  echo "calibrating: $1, $2 samples, $3 epochs" >&2
  "$MQ" calibrate "$MODEL" --method "$1" --bits w8a8 --calib "$OUT/calib.txt" --samples "$2" --seqlen 128 \
    --epochs "$3" --snapshot-every 4 --watch "$WATCH" --eval "$OUT/eval.txt" --out "$RUNS/$4.h5" \
    --overwrite > "$OUT/$4.log" 2>&1
}
run mobilequant 16 6 mobilequant-W8A8-n16-e6
run blockwise 16 2 blockwise-W8A8-n16-e2
run mobilequant 4 6 mobilequant-W8A8-n4-e6
run blockwise 4 2 blockwise-W8A8-n4-e2
run mobilequant 16 2 mobilequant-W8A8-n16-e2

ARGS=(--no-restore --model "$MODEL" --calib "$OUT/calib.txt" --eval "$OUT/eval.txt" --run-file "$OUT/runs/next.h5" --open-folder "$RUNS" --open-run "$RUNS/mobilequant-W8A8-n16-e6.h5"
      --site layers.0.mlp.down.in --site layers.2.mlp.down.in --site layers.4.mlp.down.in --screenshot-dir "$OUT/shots")
if command -v xvfb-run > /dev/null; then
  xvfb-run -a -s "-screen 0 1920x1200x24" "$BUILD/bin/mq-workbench" "${ARGS[@]}"
else
  QT_QPA_PLATFORM=offscreen "$BUILD/bin/mq-workbench" "${ARGS[@]}"
fi

# Commit-sized images: palette PNGs when ImageMagick is there, else as Qt wrote them.
for f in "$OUT"/shots/*.png; do
  if convert -version 2> /dev/null | grep -q ImageMagick; then
    convert "$f" -strip -colors 128 PNG8:"$IMAGES/$(basename "$f")"
  else
    cp "$f" "$IMAGES/"
  fi
done
ls -l "$IMAGES"/*.png
