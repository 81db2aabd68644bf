#!/usr/bin/env bash
# Command A: set up, build, and run the main job on built-in data: the
# synthetic phantom, the demo models on it, post-processing and meshes.
# Usage: bash packaging/demo.sh [OUTPUT_FOLDER]   (default: out/demo)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/packaging/install-deps.sh"
NEPHRO3D_TARGET=nephro3d "$root/packaging/build.sh"
bin="$root/build/bin/nephro3d"
out="${1:-$root/out/demo}"
mkdir -p "$out"
step() { printf '\n== %s\n' "$*"; }

step "phantom: three phases and ground truth"
"$bin" phantom --out "$out/case" --size small --seed 1
"$bin" info "$out/case/phantom_labels.nii.gz"

step "models, post-processing and meshes in one run: each phase read once"
"$bin" models
"$bin" run --case "$out/case" --post fat,sample,vessel,ureter --mesh --out "$out/run"

step "single post-processing steps on the ground truth"
"$bin" post fat --mask "$out/case/phantom_labels.nii.gz" --image "$out/case/phantom_P.nii.gz" --out "$out/post/fat.nii.gz"
"$bin" post sample --mask "$out/case/phantom_labels.nii.gz" --out "$out/post/sample.nii.gz"

step "meshes of the ground truth (LPS, OBJ + STL + GLB)"
"$bin" mesh --mask "$out/case/phantom_labels.nii.gz" --format obj,stl,glb --out "$out/meshes"

printf '\nDemo outputs in %s\n' "$out"
