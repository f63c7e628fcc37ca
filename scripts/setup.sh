#!/usr/bin/env bash
# Installs what building and testing jiu needs on a fresh Debian/Ubuntu machine: rocksdb's
# bindings are generated with clang (librocksdb-sys uses bindgen), and the browser test of
# the verification page drives headless Chromium (the Debian `chromium` package).
set -euo pipefail
need=()
command -v clang >/dev/null 2>&1 || need+=(clang)
dpkg -s libclang-dev >/dev/null 2>&1 || need+=(libclang-dev)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
command -v cargo >/dev/null 2>&1 || { echo "cargo (Rust toolchain) is required: https://rustup.rs" >&2; exit 1; }
