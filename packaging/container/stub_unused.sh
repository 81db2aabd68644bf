#!/usr/bin/env bash
# Libraries that Debian's LibTorch lists as NEEDED but never calls: libtorch_cpu
# names OpenCV (whose highgui loads Qt 5, OpenGL and X11), FFmpeg, OpenCL and a
# few others without taking one symbol from them. The dynamic loader still
# insists on finding every NEEDED file, so the image gets an empty library of
# the same soname for each such library, and everything only those libraries
# loaded drops out of the image.
#
# A library is replaced only when no library left in the engine's closure (with
# the replacements in place) takes a symbol from it; repeated until nothing
# changes. build.sh then runs the engine in the image root with LD_BIND_NOW=1,
# so a missing symbol would stop it at start, not later.
#   stub_unused.sh NEPHRO3D_ENGINE STUB_DIR
# Writes the empty libraries into STUB_DIR and prints "SONAME REAL_PATH" for each.
# Needs: binutils (nm, readelf), gcc.
set -euo pipefail
ENGINE=$(readlink -f "$1")
STUBS=$(mkdir -p "$2" && readlink -f "$2")
rm -f "$STUBS"/*.so*

defined() { nm -D --defined-only "$1" 2>/dev/null | awk '{print $3}' | sed 's/@.*//' | sort -u; }
undefined() { nm -D --undefined-only "$@" 2>/dev/null | awk '$1 == "U" || $1 == "w" {print $2}' | sed 's/@.*//' | sort -u; }
needed() { readelf -d "$1" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'; }
closure() { LD_LIBRARY_PATH=$STUBS ldd "$ENGINE" | awk '/=> \// {print $3}' | sort -u; }

all=$(ldd "$ENGINE")
torch=$(echo "$all" | awk '/=> \// && $1 ~ /^libtorch_cpu\.so/ {print $3}' | head -n 1)
[ -n "$torch" ] || exit 0 # no LibTorch: nothing to do
declare -A real
torch_undef=$(undefined "$torch")
for so in $(needed "$torch"); do
  path=$(echo "$all" | awk -v n="$so" '$1 == n {print $3}' | head -n 1)
  [ -n "$path" ] || continue
  # Candidates: NEEDED by libtorch_cpu, not one of its symbols taken from them.
  if [ -z "$(comm -12 <(defined "$path") <(echo "$torch_undef"))" ]; then real[$so]=$path; fi
done

while :; do
  for so in "${!real[@]}"; do
    [ -e "$STUBS/$so" ] || printf '' | gcc -shared -x c - -o "$STUBS/$so" -Wl,-soname,"$so"
  done
  # What every library still loaded (not a stub) asks for.
  mapfile -t kept < <(closure | grep -v "^$STUBS/")
  want=$(undefined "$ENGINE" "${kept[@]}")
  changed=0
  for so in "${!real[@]}"; do
    if [ -n "$(comm -12 <(defined "${real[$so]}") <(echo "$want"))" ]; then
      unset "real[$so]"
      rm -f "$STUBS/$so"
      changed=1
    fi
  done
  [ "$changed" = 0 ] && break
done
for so in "${!real[@]}"; do echo "$so ${real[$so]}"; done | sort
