#!/usr/bin/env bash
# Command A: set up, build, and run the main job on built-in data.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/packaging/install-deps.sh"
"$root/packaging/build.sh"
bin="$root/build/bin/nephro3d"
out="${1:-$root/out/demo}"
mkdir -p "$out"
"$bin" phantom --out "$out/phantom" --size small --seed 1
"$bin" info "$out/phantom/phantom_labels.nii.gz"
echo "demo outputs in $out"
