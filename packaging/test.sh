#!/usr/bin/env bash
# Command B: set up, build, and run the whole test suite.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/packaging/install-deps.sh"
"$root/packaging/build.sh"
cd "${NEPHRO3D_BUILD_DIR:-$root/build}"
# Everything, the demo-model quality test (label "demo", about 3 minutes) included.
ctest --output-on-failure -j"${NEPHRO3D_TEST_JOBS:-2}"
