# Sourced by the experiment scripts: paths and the TinyStories calibration/evaluation split
# (first 10 lines calibrate, the other 9 evaluate) written into $OUT.
SHARED="${MQ_SHARED_DIR:-../shared}"
MQ=build/bin/mq
MODEL="$SHARED/models/stories260K/stories260K.bin"
mkdir -p "$OUT"
head -n 10 "$SHARED/data/tinystories/TinyStories-valid.sample30K.txt" > "$OUT/calib.txt"
tail -n +11 "$SHARED/data/tinystories/TinyStories-valid.sample30K.txt" > "$OUT/eval.txt"
