#!/usr/bin/env bash
# Builds the headless engine container from Debian packages only.
#  1. nephro3d-engine configured with -DNEPHRO3D_BUILD_GUI=OFF (no Qt 6, no VTK
#     rendering modules), installed with its resources and demo models;
#  2. a bookworm root file system made by debootstrap --variant=minbase;
#  3. the shared libraries the engine loads (ldd), copied from this machine's
#     Debian packages at the same paths, with their dpkg owners listed in
#     /usr/share/nephro3d/container-packages.txt; the libraries Debian's LibTorch
#     lists but never calls (OpenCV, which loads Qt 5, OpenGL and X11; FFmpeg; ...)
#     replaced by empty libraries of the same soname (stub_unused.sh), listed in
#     /usr/share/nephro3d/container-stubs.txt; then the engine is run in the root
#     (chroot, LD_BIND_NOW=1): --version, models, phantom, mesh of a mask, and a
#     demo model on the CPU;
#  4. rootfs.tar, then `buildah bud` (or `podman build`) of packaging/container/Containerfile
#     when one of them is installed and works here; the image size is printed.
# Needs root (debootstrap, chroot, mount of /proc), gcc and binutils, and the build
# dependencies of packaging/install-deps.sh. The image itself needs buildah or podman
# (Debian: apt-get install buildah); without them the script stops at rootfs.tar.
# buildah runs with the vfs storage driver and chroot isolation (works as root inside
# a container too; BUILDAH_STORAGE_DRIVER / BUILDAH_ISOLATION override).
#   bash packaging/container/build.sh [OUT_DIR (default build-container)]
#   NEPHRO3D_ENGINE_BUILD=build bash packaging/container/build.sh   # reuse an existing build
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$(readlink -f "${1:-$SRC/build-container}")
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$OUT"
for c in debootstrap cmake ldd dpkg-query tar gcc nm readelf; do
  command -v $c >/dev/null || { echo "build.sh: $c not found (apt-get install debootstrap)" >&2; exit 3; }
done
[ "$(id -u)" = 0 ] || { echo "build.sh: debootstrap needs root" >&2; exit 3; }

echo "== 1. headless engine"
# NEPHRO3D_ENGINE_BUILD: an existing build folder to take nephro3d-engine from (its libraries are the
# same with or without the workstation: the engine never links Qt or VTK's rendering back ends).
BUILD=${NEPHRO3D_ENGINE_BUILD:-$OUT/engine-build}
if [ -z "${NEPHRO3D_ENGINE_BUILD:-}" ]; then
  cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DNEPHRO3D_BUILD_GUI=OFF -DNEPHRO3D_BUILD_TESTS=OFF \
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
# Libraries LibTorch lists and never calls: empty stand-ins (SONAME REAL_PATH lines).
bash "$SRC/packaging/container/stub_unused.sh" "$STAGE/usr/bin/nephro3d-engine" "$OUT/stubs" >"$OUT/stubs.txt"
LD_LIBRARY_PATH=$OUT/stubs ldd "$STAGE/usr/bin/nephro3d-engine" |
  awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}' | grep -v "^$OUT/stubs/" | sort -u >"$OUT/libs.txt"
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
while read -r so real; do
  dest=$ROOT/usr${real#/usr}
  mkdir -p "$(dirname "$dest")"
  rm -f "$dest"
  cp "$OUT/stubs/$so" "$dest"
done <"$OUT/stubs.txt"
{
  echo "# Empty libraries standing in for these, which Debian's libtorch_cpu lists as NEEDED but never calls:"
  cat "$OUT/stubs.txt"
} >"$ROOT/usr/share/nephro3d/container-stubs.txt"
# Owners in one dpkg query (files are listed under /lib or /usr/lib: ask for both spellings).
mapfile -t paths < <(sed 's|^/usr/lib/|/lib/|' "$OUT/owners.txt"; sed 's|^/lib/|/usr/lib/|' "$OUT/owners.txt")
dpkg-query -S "${paths[@]}" 2>/dev/null | cut -d: -f1 | tr ',' '\n' | sed 's/^ *//' | sort -u \
  >"$ROOT/usr/share/nephro3d/container-packages.txt" || true
chroot "$ROOT" /sbin/ldconfig
# The image must hold no OpenGL VTK back end, no VTK interaction or Qt module and no Qt 6. (Debian's
# libvtkIOGeometry, which writes the mesh files, needs libvtkRenderingCore: the abstract scene
# classes, without OpenGL or X11.)
if grep -E 'libvtkRendering(OpenGL|UI|FreeType|Context)|libvtkInteraction|libvtkGUISupport|libQt|libX11|libGL' "$OUT/libs.txt"; then
  echo "build.sh: the image would hold rendering back ends, Qt, X11 or OpenGL libraries" >&2
  exit 1
fi
# The engine in the root: every symbol bound at start (LD_BIND_NOW), so a stand-in that
# something does call stops it here.
mount -t proc proc "$ROOT/proc" || echo "(could not mount /proc in the root; checking without it)"
trap 'umount "$ROOT/proc" 2>/dev/null || true' EXIT
# The environment of the Containerfile.
in_root() {
  chroot "$ROOT" env -i PATH=/usr/bin:/bin HOME=/tmp LD_BIND_NOW=1 NEPHRO3D_MODELS_DIR=/usr/share/nephro3d/models \
    NEPHRO3D_RESOURCE_DIR=/usr/share/nephro3d/resources "$@"
}
rm -rf "$ROOT/tmp/check"
in_root /usr/bin/nephro3d-engine --version
in_root /usr/bin/nephro3d-engine models | head -n 3
in_root /usr/bin/nephro3d-engine phantom --out /tmp/check/ph --size small --seed 3 --quiet
in_root /usr/bin/nephro3d-engine mesh --mask /tmp/check/ph/phantom_labels.nii.gz --out /tmp/check/mesh --quiet
mkdir -p "$ROOT/tmp/check/case"
cp "$ROOT/tmp/check/ph/phantom_D.nii.gz" "$ROOT/tmp/check/case/c1_D.nii.gz"
in_root /usr/bin/nephro3d-engine run --case /tmp/check/case --models ureter --device cpu --quiet --out /tmp/check/run
echo "in the root: phantom, mesh ($(ls "$ROOT/tmp/check/mesh" | grep -c '\.obj$') labels) and run --models ureter" \
  "($(find "$ROOT/tmp/check/run" -name 'ureter.nii.gz' | wc -l) mask) passed"
rm -rf "$ROOT/tmp/check"
umount "$ROOT/proc" 2>/dev/null || true
trap - EXIT

echo "== 4. rootfs.tar and the image"
rm -f "$ROOT/.debootstrap-done.tar"
tar --numeric-owner -C "$ROOT" --exclude=./.debootstrap-done -cf "$OUT/rootfs.tar" .
cp "$SRC/packaging/container/Containerfile" "$OUT/Containerfile"
echo "libraries loaded by nephro3d-engine: $(wc -l <"$OUT/libs.txt") from $(wc -l <"$ROOT/usr/share/nephro3d/container-packages.txt") Debian packages"
echo "empty stand-ins for libraries LibTorch lists and never calls: $(wc -l <"$OUT/stubs.txt") ($(cut -d' ' -f1 "$OUT/stubs.txt" | tr '\n' ' '))"
echo "root file system: $(du -sh --apparent-size "$ROOT" | cut -f1); rootfs.tar $(( $(stat -c %s "$OUT/rootfs.tar") / 1048576 )) MiB;" \
  "gzip -1: $(( $(gzip -1c "$OUT/rootfs.tar" | wc -c) / 1048576 )) MiB"
built=0
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
for tool in buildah podman; do
  command -v $tool >/dev/null || continue
  if [ $tool = buildah ]; then
    cmd=(buildah --storage-driver "${BUILDAH_STORAGE_DRIVER:-vfs}")
    "${cmd[@]}" rmi -f nephro3d-engine:latest >/dev/null 2>&1 || true
    build=("${cmd[@]}" bud --layers=false)
  else
    cmd=(podman); build=(podman build)
  fi
  if "${build[@]}" -f "$OUT/Containerfile" -t nephro3d-engine:latest "$OUT" >"$OUT/image.log" 2>&1; then
    echo "image (ID, name, size): $("${cmd[@]}" images --format '{{.ID}} {{.Name}}:{{.Tag}} {{.Size}}' nephro3d-engine:latest)"
    built=1
    break
  fi
  echo "$tool could not build here (see $OUT/image.log)"
done
[ "$built" = 1 ] || echo "image not built here; import the root file system with: podman import $OUT/rootfs.tar nephro3d-engine" \
  "(or buildah bud -f $OUT/Containerfile $OUT)"
