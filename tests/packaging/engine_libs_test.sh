#!/usr/bin/env bash
# The headless engine links no Qt and no VTK rendering back end, in any
# configuration (-DNEPHRO3D_BUILD_GUI=ON or OFF):
#  - its own NEEDED entries name no Qt, OpenGL, X11 or VTK rendering/interaction library;
#  - nothing it loads is Qt 6, a VTK OpenGL back end, VTK interaction or GUI support;
#  - Qt 5 is loaded only by Debian's libopencv_highgui, which Debian's libtorch_cpu lists
#    as NEEDED without taking a single symbol from it (so the container may replace it
#    by an empty library of the same soname; packaging/container/build.sh does).
# Reads the binary only (readelf, ldd, nm); builds and runs nothing.
#   engine_libs_test.sh NEPHRO3D_ENGINE
set -uo pipefail
E=$(readlink -f "$1")
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*"; exit 1; }
for c in readelf ldd nm; do command -v $c >/dev/null || skip "$c not found"; done
[ -x "$E" ] || fail "$E is not an executable"

needed=$(readelf -d "$E" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
[ -n "$needed" ] || fail "readelf found no NEEDED entries in $E"
bad=$(echo "$needed" | grep -E '^lib(Qt|vtkRendering|vtkInteraction|vtkGUISupport|vtkViews|GL|OpenGL|EGL|X11|xcb)' || true)
[ -z "$bad" ] && echo "nephro3d-engine NEEDED: $(echo "$needed" | wc -l) libraries, no Qt, GL, X11 or VTK rendering" ||
  fail "nephro3d-engine itself links $(echo $bad)"

ldd "$E" >/tmp/engine-ldd.$$ 2>&1 || { cat /tmp/engine-ldd.$$; rm -f /tmp/engine-ldd.$$; fail "ldd $E"; }
loaded=$(awk '/=> \// {print $3}' /tmp/engine-ldd.$$ | sort -u)
grep -q 'not found' /tmp/engine-ldd.$$ && { grep 'not found' /tmp/engine-ldd.$$; rm -f /tmp/engine-ldd.$$; fail "missing libraries"; }
rm -f /tmp/engine-ldd.$$
bad=$(echo "$loaded" | grep -E 'libQt6|libvtkRendering(OpenGL|UI|FreeType|Context|VolumeOpenGL)|libvtkInteraction|libvtkGUISupport|libvtkViews' || true)
[ -z "$bad" ] || fail "nephro3d-engine loads $(echo $bad)"

# Who loads Qt 5: only OpenCV's highgui may.
qt5=$(echo "$loaded" | grep -c 'libQt5' || true)
via=$(echo "$loaded" | grep -v '/libQt5' | xargs readelf -d 2>/dev/null |
  awk '/^File: / {f = $2} /Shared library: \[libQt5/ {print f}' | xargs -r -n1 basename | sort -u | tr '\n' ' ')
for l in $via; do
  case $l in libopencv_highgui.so*) ;; *) fail "$l loads Qt 5" ;; esac
done
echo "loads $(echo "$loaded" | wc -l) libraries; Qt 5: $qt5, needed only by $via"

# libtorch_cpu lists libopencv_highgui but uses none of its symbols.
torch=$(echo "$loaded" | grep '/libtorch_cpu\.so' | head -n 1)
highgui=$(echo "$loaded" | grep '/libopencv_highgui\.so' | head -n 1)
if [ -n "$highgui" ]; then
  [ -n "$torch" ] || fail "libopencv_highgui is loaded but not through libtorch_cpu"
  used=$(comm -12 <(nm -D --defined-only "$highgui" | awk '{print $3}' | sed 's/@.*//' | sort -u) \
    <(nm -D --undefined-only "$torch" | awk '{print $2}' | sed 's/@.*//' | sort -u) | wc -l)
  [ "$used" = 0 ] || fail "$(basename "$torch") uses $used symbols of $(basename "$highgui")"
  echo "$(basename "$torch") lists $(basename "$highgui") and uses none of its symbols"
fi
echo "PASSED"
