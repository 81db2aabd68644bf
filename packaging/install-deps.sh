#!/usr/bin/env bash
# Installs the Debian bookworm packages Nephro3D needs to build, test and run.
# Idempotent: does nothing (and needs no network) when everything is present.
set -euo pipefail

PACKAGES=(
  # toolchain
  cmake g++ make pkg-config
  # Qt 6 (widgets, OpenGL widget, Qt Test) and QCustomPlot for Qt 6
  qt6-base-dev qt6-base-dev-tools libqt6opengl6-dev qt6-tools-dev libqcustomplot-dev
  # VTK 9.1 (its Qt module is never used), ITK 5.2, LibTorch 1.13 (CPU)
  libvtk9-dev libinsighttoolkit5-dev libtorch-dev
  # small header libraries
  nlohmann-json3-dev libcli11-dev libboost-graph-dev zlib1g-dev
  # DICOM SEG export (dcmseg)
  libdcmtk-dev
  # HTTP service (nephro3d serve): cpp-httplib with TLS through OpenSSL
  libcpp-httplib-dev libssl-dev libbrotli-dev
  # NATS JetStream workers (serve --queue, nephro3d worker): the nats.c client; server, jq, curl for its test
  libnats-dev nats-server jq curl
  # GUI tests under a virtual display (Mesa llvmpipe)
  xvfb xauth libgl1-mesa-dri
  # reference implementations, model export and demo training (Debian's python3)
  python3 python3-numpy python3-scipy python3-skimage python3-torch python3-nibabel python3-pydicom
  # cluster: a local SLURM for the array-job test (slurmctld, slurmd, munged)
  slurm-wlm munge
  # packages: Debian packages (CPack, dpkg-shlibdeps), man pages from --help, the engine container's root
  dpkg-dev help2man debootstrap
  # hostile-input tests: strace proves no file outside the input's folder is opened
  strace
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
