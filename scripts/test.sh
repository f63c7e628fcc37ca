#!/usr/bin/env bash
# Sets up the machine, builds the jiu binary the cluster tests drive, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build -p jiu
cargo test --workspace
