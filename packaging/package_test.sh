#!/usr/bin/env bash
# Packaging test (ctest: packaging.deb; docs/packaging.md): cpack -G DEB from a fully built tree,
# unpack the package into a scratch root, run what was installed from there, lintian.
# Usage: package_test.sh BUILD_DIR WORK_DIR [SHARED_DIR] [LINTIAN]
#   SHARED_DIR defaults to $MQ_SHARED_DIR (models/stories260K is read from it); LINTIAN to lintian.
set -euo pipefail
build="$(cd "$1" && pwd)"
work="$2"
shared="${3:-${MQ_SHARED_DIR:-}}"
lintian="${4:-$(command -v lintian || true)}"
fail() { echo "FAIL: $*"; exit 1; }
[ -n "$shared" ] && [ -d "$shared/models/stories260K" ] \
  || fail "no models/stories260K in '$shared': pass SHARED_DIR or set MQ_SHARED_DIR"
[ -n "$lintian" ] && [ -x "$lintian" ] || fail "lintian is not installed (apt install lintian; scripts/setup.sh does)"
for tool in cpack dpkg dpkg-deb dpkg-query dpkg-shlibdeps fakeroot readelf; do
  command -v "$tool" > /dev/null || fail "$tool is not installed (scripts/setup.sh installs what the package needs)"
done
for exe in mq mq-workbench mq-run mq-devsim; do
  [ -x "$build/bin/$exe" ] || fail "$build/bin/$exe is missing: build the whole tree first (cmake --build $build)"
done

rm -rf "$work"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
t0=$(date +%s)
(cd "$build" && cpack -G DEB -B "$work/cpack") > "$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack"; }
t1=$(date +%s)
deb=$(ls "$work"/cpack/mq-workbench_*.deb)
echo "package: $deb ($(du -h "$deb" | cut -f1)), cpack took $((t1 - t0)) s"

# What it depends on: the Debian runtime packages, found by dpkg-shlibdeps.
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for pkg in libqt6widgets6 libqcustomplot2.1-qt6 libhdf5 libtorch; do
  grep -q "$pkg" <<< "$depends" || fail "Depends lacks $pkg"
done
grep -q adb <<< "$(dpkg-deb -f "$deb" Recommends)" || fail "adb is not recommended"
description=$(dpkg-deb -f "$deb" Description)
if grep -q '^ ;' <<< "$description"; then fail "the Description's lines start with ';' (a CMake list)"; fi

# Installed with dpkg itself into a scratch root with its own package database (the machine's is
# not touched): dpkg unpacks, records the files and runs the maintainer scripts (their ldconfig
# outside the root: --force-script-chrootless). The root has no other packages, so dpkg is told
# to configure despite the dependencies; that they are installed on this machine is checked
# first, by name, against the machine's database.
for dep in $(tr ',|' '\n\n' <<< "$depends" | sed 's/(.*//; s/ //g' | sort -u); do
  dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q "install ok installed" \
    || fail "the package depends on $dep, which is not installed here"
done
root="$work/root"
rm -rf "$root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends --force-script-chrootless --force-not-root -i "$deb" \
  > "$work/dpkg-install.txt" 2>&1 || { cat "$work/dpkg-install.txt"; fail "dpkg -i into $root"; }
dpkg-query --root="$root" -W -f='${Status}' mq-workbench | grep -q "install ok installed" \
  || fail "dpkg does not list mq-workbench as installed in $root"
echo "dpkg -i into $root: installed ($(wc -l < "$root/var/lib/dpkg/info/mq-workbench.list") paths recorded)"
for f in usr/bin/mq usr/bin/mq-workbench usr/bin/mq-run usr/bin/mq-devsim \
         usr/lib/mq-workbench/plugins/libmq_method_mobilequant.so \
         usr/lib/mq-workbench/plugins/libmq_method_rtn.so \
         usr/lib/mq-workbench/plugins/libmq_device_android_adb.so \
         usr/share/applications/org.mqworkbench.MQWorkbench.desktop \
         usr/share/metainfo/org.mqworkbench.MQWorkbench.metainfo.xml \
         usr/share/mime/packages/org.mqworkbench.MQWorkbench.xml \
         usr/share/icons/hicolor/scalable/apps/org.mqworkbench.MQWorkbench.svg \
         usr/share/icons/hicolor/48x48/apps/org.mqworkbench.MQWorkbench.png \
         usr/share/man/man1/mq.1.gz usr/share/man/man1/mq-workbench.1.gz \
         usr/share/man/man1/mq-run.1.gz usr/share/man/man1/mq-devsim.1.gz \
         usr/share/doc/mq-workbench/copyright usr/share/doc/mq-workbench/changelog.gz; do
  [ -e "$root/$f" ] || fail "the package lacks /$f"
done

# Nothing from the build tree may be needed: no RUNPATH into it. (Captured first: with pipefail,
# grep -q ending a pipe early would turn a match into a failed pipeline.)
paths=$(readelf -d "$root"/usr/bin/* "$root"/usr/lib/mq-workbench/*.so* "$root"/usr/lib/mq-workbench/plugins/*.so \
  | grep -E 'R(UN)?PATH' || true)
if grep -q "$build" <<< "$paths"; then fail "an installed binary still points into the build tree: $paths"; fi

# The installed MIME file as the desktop reads it: update-mime-database (shared-mime-info, which
# Qt depends on) must accept it without a message and register both types.
mime_messages=$(XDG_DATA_DIRS="$root/usr/share" update-mime-database "$root/usr/share/mime" 2>&1) || fail "update-mime-database: $mime_messages"
[ -z "$mime_messages" ] || fail "update-mime-database complains about the MIME file: $mime_messages"
for t in x-mq-run x-mq-package; do
  [ -e "$root/usr/share/mime/application/$t.xml" ] || fail "update-mime-database did not register application/$t"
done

bin="$root/usr/bin"
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share"
unset MQ_PLUGIN_PATH LD_LIBRARY_PATH || true
mkdir -p "$HOME"
version=$(sed -n 's/^ *project(MQWorkbench VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../CMakeLists.txt")
[ -n "$version" ] || fail "cannot read the project version from CMakeLists.txt"
# --version without a display: every executable names the version, the linked ones Qt, LibTorch, HDF5.
for exe in mq mq-workbench mq-run mq-devsim; do
  out=$(env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM "$bin/$exe" --version) || fail "$exe --version"
  echo "$exe --version: $(tr '\n' ' ' <<< "$out")"
  grep -q "$exe $version" <<< "$out" || fail "$exe --version does not say '$exe $version'"
  case $exe in
    mq|mq-workbench)
      for lib in Qt LibTorch HDF5; do grep -Eq "$lib [0-9]+\.[0-9]+" <<< "$out" || fail "$exe --version lacks $lib"; done ;;
    mq-run)
      grep -q "no Qt/LibTorch/HDF5 (runtime only)" <<< "$out" || fail "mq-run --version does not say it is runtime only" ;;
  esac
done

model="$shared/models/stories260K/stories260K.bin"
"$bin/mq" info "$model" > "$work/info.txt" || { cat "$work/info.txt"; fail "installed mq info"; }
head -3 "$work/info.txt"
grep -q "^layers *5$" "$work/info.txt" || fail "installed mq info did not report stories260K's 5 layers"

# The installed method plugins are found from the installed location: a short RTN calibration.
head -c 4000 "$shared/data/tinystories/TinyStories-valid.sample30K.txt" > "$work/calib.txt"
"$bin/mq" calibrate "$model" --method rtn --bits W8A8 --calib "$work/calib.txt" --samples 2 --seqlen 32 \
  --out "$work/run.h5" > "$work/calibrate.txt" 2>&1 || { cat "$work/calibrate.txt"; fail "installed mq calibrate"; }
echo "installed mq calibrate (rtn plugin): ok"

# The window starts offscreen from the installed location with the run file given as the desktop
# file gives it (%F), and quits by itself; exit code 1 would mean the run could not be opened.
QT_QPA_PLATFORM=offscreen timeout 120 "$bin/mq-workbench" "$work/run.h5" --quit-after 3 \
  > "$work/workbench.txt" 2>&1 || { cat "$work/workbench.txt"; fail "installed mq-workbench did not open the run and quit"; }
if grep -q "no method plugins" "$work/workbench.txt"; then cat "$work/workbench.txt"; fail "mq-workbench found no plugins"; fi
echo "installed mq-workbench: opened the run offscreen and quit"

# Errors fail the test; warnings are printed for a person to read (docs/packaging.md lists them).
t2=$(date +%s)
"$lintian" --tag-display-limit 0 "$deb" > "$work/lintian.txt" 2>&1 || true
t3=$(date +%s)
cat "$work/lintian.txt"
if grep -q '^E:' "$work/lintian.txt"; then fail "lintian reports errors"; fi
echo "lintian: no errors, $(grep -c '^W:' "$work/lintian.txt" || true) warnings ($((t3 - t2)) s)"

# Removal leaves none of the package's files behind (caches the checks above generated in the
# root, such as the MIME database, are not the package's).
cp "$root/var/lib/dpkg/info/mq-workbench.list" "$work/installed.list"
dpkg --root="$root" --force-depends --force-script-chrootless --force-not-root --purge mq-workbench \
  > "$work/dpkg-purge.txt" 2>&1 || { cat "$work/dpkg-purge.txt"; fail "dpkg --purge"; }
left=$(while read -r f; do if [ -f "$root$f" ]; then echo "$f"; fi; done < "$work/installed.list" | head -5)
[ -z "$left" ] || fail "dpkg --purge left the package's files behind: $left"
echo "dpkg --purge: none of the $(wc -l < "$work/installed.list") installed paths is left"
echo "PASS"
