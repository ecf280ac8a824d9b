#!/usr/bin/env bash
# Installs every Debian package Mox needs to build, test and run its main job.
# Idempotent and non-interactive: packages already present are not fetched again.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ ccache pkg-config
  doctest-dev nlohmann-json3-dev libcli11-dev zlib1g-dev
  python3-torch python3-torchvision python3-numpy libopenblas-dev libdnnl-dev
  openmpi-bin libopenmpi-dev
  libcurl4-openssl-dev libssl-dev libpugixml-dev libstb-dev
  awscli python3-botocore nodejs
  dataset-fashion-mnist
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all packages present"

# The S3 tests' server: s3rver from the npm registry, at the versions that
# tests/s3/node/package-lock.json pins (node_modules is not committed).
S3_NODE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/s3/node"
if [ ! -f "$S3_NODE_DIR/node_modules/s3rver/bin/s3rver.js" ]; then
  echo "setup: installing s3rver (npm ci in tests/s3/node)"
  (cd "$S3_NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: s3rver present"
