#!/usr/bin/env bash
# Builds the Debian packages (cpack -G DEB), unpacks them into a scratch root
# with dpkg -x (no installation on this machine), and runs phantom, models and a
# run with a demo model from there, with no environment pointing back at the
# source or build tree.   deb_test.sh BUILD_DIR
set -uo pipefail
BUILD=$(readlink -f "$1")
SKIP=77
skip() { echo "SKIPPED: $*"; exit $SKIP; }
fail() { echo "FAILED: $*"; exit 1; }
for c in cpack dpkg dpkg-deb; do command -v $c >/dev/null || skip "$c not found"; done
[ -f "$BUILD/CPackConfig.cmake" ] || fail "$BUILD has no CPackConfig.cmake"

WORK=$(mktemp -d /tmp/nephro3d-deb.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
t0=$(date +%s.%N)
( cd "$BUILD" && cpack -G DEB -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1 ) || { tail -n 30 "$WORK/cpack.log"; fail "cpack -G DEB"; }
t1=$(date +%s.%N)
ls "$WORK"/pkg/*.deb >/dev/null 2>&1 || fail "cpack wrote no .deb"
for p in nephro3d nephro3d-engine nephro3d-models; do
  deb=$(ls "$WORK"/pkg/${p}_*.deb 2>/dev/null | head -n 1)
  [ -n "$deb" ] || fail "no package $p"
  [ "$(dpkg-deb -f "$deb" Package)" = "$p" ] || fail "$deb is not $p"
  printf '%-16s %7s KiB  Depends: %.100s\n' "$p" $(( $(stat -c %s "$deb") / 1024 )) "$(dpkg-deb -f "$deb" Depends)"
  dpkg -x "$deb" "$WORK/root" || fail "dpkg -x $deb"
done
dpkg-deb -f "$WORK"/pkg/nephro3d_*.deb Depends | grep -q 'nephro3d-engine (= ' || fail "nephro3d does not depend on nephro3d-engine"
dpkg-deb -f "$WORK"/pkg/nephro3d-engine_*.deb Depends | grep -q 'libtorch' || fail "nephro3d-engine lacks its library dependencies"

R=$WORK/root/usr
for f in bin/nephro3d bin/nephro3d-engine share/applications/nephro3d.desktop share/icons/hicolor/scalable/apps/nephro3d.svg \
  share/man/man1/nephro3d.1.gz share/man/man1/nephro3d-engine.1.gz lib/systemd/system/nephro3d-worker.service \
  lib/systemd/system/nephro3d-serve.service share/nephro3d/resources/labels/case_schema.json share/nephro3d/models/tumor.json \
  share/nephro3d/models/demo/ureter share/nephro3d/slurm/nephro3d-array.sbatch; do
  [ -e "$R/$f" ] || fail "package lacks /usr/$f"
done
zcat "$R/share/man/man1/nephro3d-engine.1.gz" | grep -qF '\-\-shard' || fail "man page lacks --shard"
if command -v desktop-file-validate >/dev/null; then desktop-file-validate "$R/share/applications/nephro3d.desktop" || fail "desktop entry"; fi

# Run from the unpacked root only.
unset NEPHRO3D_MODELS_DIR NEPHRO3D_RESOURCE_DIR
cd "$WORK"
"$R/bin/nephro3d" phantom --out "$WORK/ph" --size small --seed 3 --quiet || fail "phantom"
mkdir -p "$WORK/case" && mv "$WORK/ph/phantom_D.nii.gz" "$WORK/case/c1_D.nii.gz"
"$R/bin/nephro3d-engine" models >"$WORK/models.txt" 2>&1 || { cat "$WORK/models.txt"; fail "models"; }
cat "$WORK/models.txt"
grep -q "$WORK/root/usr/share/nephro3d/models" "$WORK/models.txt" || fail "models are not read from the unpacked package"
grep -E '^ *ureter' "$WORK/models.txt" | grep -q present || fail "demo model ureter not present"
t2=$(date +%s.%N)
"$R/bin/nephro3d-engine" run --case "$WORK/case" --models ureter --device cpu --quiet --out "$WORK/run" || fail "run"
t3=$(date +%s.%N)
[ -f "$WORK/run/provenance.json" ] && [ -f "$WORK/run/ureter.nii.gz" ] || fail "run outputs"
grep -q "$WORK/root/usr/share/nephro3d/models/demo/ureter" "$WORK/run/provenance.json" || fail "provenance does not name the packaged model"
"$R/bin/nephro3d-engine" info "$WORK/run/ureter.nii.gz" | head -n 3
printf 'PASSED: cpack %.1f s, run from the unpacked root %.1f s\n' "$(echo "$t1 - $t0" | bc)" "$(echo "$t3 - $t2" | bc)"
