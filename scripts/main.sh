#!/usr/bin/env bash
# Sets up, builds and runs the main job: `mox train` (the MNIST CNN on Fashion-MNIST with
# mox::run, then the test accuracy). Extra arguments go to `mox train` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build/bin/mox train "$@"
