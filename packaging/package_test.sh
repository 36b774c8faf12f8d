#!/usr/bin/env bash
# Packaging test: cpack -G DEB, unpack into a scratch root, run what was installed, lintian.
# Usage: package_test.sh BUILD_DIR WORK_DIR SHARED_DIR [LINTIAN]
set -euo pipefail
build="$1"
work="$2"
shared="$3"
lintian="${4:-}"

rm -rf "$work"
mkdir -p "$work"
cd "$build"
cpack -G DEB -B "$work/cpack" > "$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/cpack/mq-workbench_*.deb)
echo "package: $deb ($(du -h "$deb" | cut -f1))"

# What it depends on: the Debian runtime packages, found by dpkg-shlibdeps.
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for pkg in libqt6widgets6 libqcustomplot2.1-qt6 libhdf5 libtorch; do
  grep -q "$pkg" <<< "$depends" || { echo "FAIL: Depends lacks $pkg"; exit 1; }
done
grep -q adb <<< "$(dpkg-deb -f "$deb" Recommends)" || { echo "FAIL: adb is not recommended"; exit 1; }

root="$work/root"
dpkg-deb -x "$deb" "$root"
for f in usr/bin/mq usr/bin/mq-workbench usr/bin/mq-run usr/bin/mq-devsim \
         usr/lib/mq-workbench/plugins/libmq_method_mobilequant.so \
         usr/share/applications/org.mqworkbench.MQWorkbench.desktop \
         usr/share/metainfo/org.mqworkbench.MQWorkbench.metainfo.xml \
         usr/share/mime/packages/org.mqworkbench.MQWorkbench.xml \
         usr/share/icons/hicolor/scalable/apps/org.mqworkbench.MQWorkbench.svg \
         usr/share/icons/hicolor/48x48/apps/org.mqworkbench.MQWorkbench.png \
         usr/share/doc/mq-workbench/copyright; do
  [ -e "$root/$f" ] || { echo "FAIL: the package lacks /$f"; exit 1; }
done

# Nothing from the build tree may be needed: no RUNPATH into it.
if readelf -d "$root"/usr/bin/* "$root"/usr/lib/mq-workbench/*.so* "$root"/usr/lib/mq-workbench/plugins/*.so \
    | grep -E 'R(UN)?PATH' | grep -q "$build"; then
  echo "FAIL: an installed binary still points into the build tree"; exit 1
fi

bin="$root/usr/bin"
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share"
unset MQ_PLUGIN_PATH || true
mkdir -p "$HOME"
for exe in mq mq-run mq-devsim mq-workbench; do
  out=$(QT_QPA_PLATFORM=offscreen "$bin/$exe" --version)
  echo "$exe --version: $out" | head -3
  grep -q "0\.1\.0" <<< "$out" || { echo "FAIL: $exe --version does not name the version"; exit 1; }
done
"$bin/mq" --version | grep -qi "LibTorch" || { echo "FAIL: mq --version lacks LibTorch"; exit 1; }
"$bin/mq" --version | grep -qi "HDF5" || { echo "FAIL: mq --version lacks HDF5"; exit 1; }

model="$shared/models/stories260K/stories260K.bin"
"$bin/mq" info "$model" | tee "$work/info.txt" | head -5
grep -q "layers" "$work/info.txt" || { echo "FAIL: mq info printed no layers"; exit 1; }

# The installed plugins are found from the installed location: a short RTN calibration.
head -c 4000 "$shared/data/tinystories/TinyStories-valid.sample30K.txt" > "$work/calib.txt"
"$bin/mq" calibrate "$model" --method rtn --bits W8A8 --calib "$work/calib.txt" --samples 2 --seqlen 32 \
  --out "$work/run.h5" > "$work/calibrate.txt" 2>&1 || { cat "$work/calibrate.txt"; exit 1; }
echo "installed mq calibrate (rtn): ok"

# The window starts offscreen from the installed location and quits by itself.
QT_QPA_PLATFORM=offscreen timeout 60 "$bin/mq-workbench" --open-run "$work/run.h5" --quit-after 2000 \
  > "$work/workbench.txt" 2>&1 || { cat "$work/workbench.txt"; echo "FAIL: mq-workbench did not start and quit"; exit 1; }
echo "installed mq-workbench: started and quit"

if [ -n "$lintian" ]; then
  # Errors fail the test; warnings are printed for a person to read.
  "$lintian" --no-tag-display-limit "$deb" | tee "$work/lintian.txt" || true
  if grep -q '^E:' "$work/lintian.txt"; then echo "FAIL: lintian reports errors"; exit 1; fi
  echo "lintian: no errors ($(grep -c '^W:' "$work/lintian.txt" || true) warnings)"
else
  echo "FAIL: lintian is not installed (scripts/setup.sh installs it)"; exit 1
fi
echo "PASS"
