#!/usr/bin/env bash
# Sets up the machine, builds jiu (release) and runs a local 4-validator devnet, with one
# follower (a store's node outside the genesis), until Ctrl-C.
# Extra arguments go to `jiu testnet` (e.g. --reset to start again from genesis).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -p jiu
schema=../shared/testdata/epcis/gs1/schema/EPCIS-JSON-Schema.json
if [ -f "$schema" ]; then
  set -- --epcis-schema "$schema" "$@"
fi
exec target/release/jiu testnet --nodes 4 --followers 1 --dir devnet "$@"
