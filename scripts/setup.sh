#!/usr/bin/env bash
# Installs what building and testing jiu needs on a fresh Debian/Ubuntu machine: rocksdb's
# bindings are generated with clang (librocksdb-sys uses bindgen), and the browser test of
# the verification page drives headless Chromium (the Debian `chromium` package), and the
# independent check of the lottery seed's BLS signature uses py_ecc from PyPI.
set -euo pipefail
need=()
command -v clang >/dev/null 2>&1 || need+=(clang)
dpkg -s libclang-dev >/dev/null 2>&1 || need+=(libclang-dev)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v python3 >/dev/null 2>&1 || need+=(python3 python3-pip)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
# Debian's own python3 refuses a system-wide pip install (PEP 668) unless told to.
python3 -c 'import py_ecc' 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check 'py_ecc==8.0.0' 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages 'py_ecc==8.0.0'
command -v cargo >/dev/null 2>&1 || { echo "cargo (Rust toolchain) is required: https://rustup.rs" >&2; exit 1; }
