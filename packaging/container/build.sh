#!/usr/bin/env bash
# Builds the headless engine container from Debian packages only.
#  1. nephro3d-engine configured with -DNEPHRO3D_BUILD_GUI=OFF (no Qt 6, no VTK
#     rendering modules), installed with its resources and demo models;
#  2. a bookworm root file system made by debootstrap --variant=minbase;
#  3. the shared libraries the engine loads (ldd), copied from this machine's
#     Debian packages at the same paths, with their dpkg owners listed in
#     /usr/share/nephro3d/container-packages.txt;
#  4. rootfs.tar, then `buildah bud` (or `podman build`) of packaging/container/Containerfile
#     when one of them is installed and works here; the image size is printed.
# Needs root (debootstrap) and the build dependencies of packaging/install-deps.sh.
#   bash packaging/container/build.sh [OUT_DIR (default build-container)]
#   NEPHRO3D_ENGINE_BUILD=build bash packaging/container/build.sh   # reuse an existing build
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$(readlink -f "${1:-$SRC/build-container}")
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$OUT"
for c in debootstrap cmake ldd dpkg-query tar; do
  command -v $c >/dev/null || { echo "build.sh: $c not found (apt-get install debootstrap)" >&2; exit 3; }
done
[ "$(id -u)" = 0 ] || { echo "build.sh: debootstrap needs root" >&2; exit 3; }

echo "== 1. headless engine"
# NEPHRO3D_ENGINE_BUILD: an existing build folder to take nephro3d-engine from (its libraries are the
# same with or without the workstation: the engine never links Qt or VTK's rendering back ends).
BUILD=${NEPHRO3D_ENGINE_BUILD:-$OUT/engine-build}
if [ -z "${NEPHRO3D_ENGINE_BUILD:-}" ]; then
  cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DNEPHRO3D_BUILD_GUI=OFF \
    ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$CMAKE_CXX_COMPILER_LAUNCHER} >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)" --target nephro3d-engine
STAGE=$OUT/stage
rm -rf "$STAGE"
for comp in engine models; do
  cmake --install "$BUILD" --component "$comp" --prefix "$STAGE/usr" >/dev/null
done

echo "== 2. debootstrap --variant=minbase bookworm"
ROOT=$OUT/rootfs
if [ ! -f "$ROOT/.debootstrap-done" ]; then
  rm -rf "$ROOT"
  debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >"$OUT/debootstrap.log" 2>&1 ||
    { tail -n 20 "$OUT/debootstrap.log"; exit 1; }
  touch "$ROOT/.debootstrap-done"
fi
# A minimal image: no apt lists, documentation or locales.
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* \
  "$ROOT"/usr/share/locale/*

echo "== 3. the engine and the libraries it loads"
cp -a "$STAGE/usr/." "$ROOT/usr/"
rm -rf "$ROOT/usr/lib/systemd" "$ROOT/usr/share/man"
: >"$OUT/libs.txt"
ldd "$STAGE/usr/bin/nephro3d-engine" | awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}' | sort -u >"$OUT/libs.txt"
: >"$OUT/owners.txt"
while read -r lib; do
  real=$(readlink -f "$lib")
  # The file itself at the path the loader asked for (links through /etc/alternatives resolved);
  # /lib is /usr/lib on bookworm (merged /usr): copy under usr/.
  dest=$ROOT/usr${lib#/usr}
  mkdir -p "$(dirname "$dest")"
  [ -e "$dest" ] || cp -L "$lib" "$dest"
  echo "$real" >>"$OUT/owners.txt"
done <"$OUT/libs.txt"
# Owners in one dpkg query (files are listed under /lib or /usr/lib: ask for both spellings).
mapfile -t paths < <(sed 's|^/usr/lib/|/lib/|' "$OUT/owners.txt"; sed 's|^/lib/|/usr/lib/|' "$OUT/owners.txt")
dpkg-query -S "${paths[@]}" 2>/dev/null | cut -d: -f1 | tr ',' '\n' | sed 's/^ *//' | sort -u \
  >"$ROOT/usr/share/nephro3d/container-packages.txt" || true
chroot "$ROOT" /sbin/ldconfig
# The image must hold no OpenGL VTK back end, no VTK interaction or Qt module and no Qt 6. (Debian's
# libvtkIOGeometry, which writes the mesh files, needs libvtkRenderingCore: the abstract scene
# classes, without OpenGL or X11.)
if grep -E 'libvtkRendering(OpenGL|UI|FreeType|Context)|libvtkInteraction|libvtkGUISupport|libQt6' "$OUT/libs.txt"; then
  echo "build.sh: the engine links rendering back ends or Qt 6 libraries" >&2
  exit 1
fi
qt5=$(grep -c 'libQt5' "$OUT/libs.txt" || true)
chroot "$ROOT" /usr/bin/nephro3d-engine --version
chroot "$ROOT" /usr/bin/nephro3d-engine models | head -n 3

echo "== 4. rootfs.tar and the image"
rm -f "$ROOT/.debootstrap-done.tar"
tar --numeric-owner -C "$ROOT" --exclude=./.debootstrap-done -cf "$OUT/rootfs.tar" .
cp "$SRC/packaging/container/Containerfile" "$OUT/Containerfile"
echo "libraries loaded by nephro3d-engine: $(wc -l <"$OUT/libs.txt") from $(wc -l <"$ROOT/usr/share/nephro3d/container-packages.txt") Debian packages"
echo "of which Qt 5 (pulled by Debian's LibTorch through OpenCV): $qt5"
echo "root file system: $(du -sh --apparent-size "$ROOT" | cut -f1); rootfs.tar $(( $(stat -c %s "$OUT/rootfs.tar") / 1048576 )) MiB;" \
  "gzip -1: $(( $(gzip -1c "$OUT/rootfs.tar" | wc -c) / 1048576 )) MiB"
built=0
for tool in buildah podman; do
  command -v $tool >/dev/null || continue
  if [ $tool = buildah ]; then cmd=(buildah bud); else cmd=(podman build); fi
  if "${cmd[@]}" -f "$OUT/Containerfile" -t nephro3d-engine:latest "$OUT" >"$OUT/image.log" 2>&1; then
    $tool images nephro3d-engine:latest
    built=1
    break
  fi
  echo "$tool could not build here (see $OUT/image.log)"
done
[ "$built" = 1 ] || echo "image not built here; import the root file system with: podman import $OUT/rootfs.tar nephro3d-engine" \
  "(or buildah bud -f $OUT/Containerfile $OUT)"
