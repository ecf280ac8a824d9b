#!/usr/bin/env bash
# Sets up, builds and runs every test (labels s3, mpi, gpu, emu, slow included; gpu tests
# skip themselves when no GPU is present).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
