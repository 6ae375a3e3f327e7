#!/bin/sh
# Builds upper.wasm with Debian's Rust compiler and wasm32 standard library
# (apt-get install rustc libstd-rust-dev-wasm32): rustc 1.63, separate from any rustup toolchain.
set -eu
cd "$(dirname "$0")"
/usr/bin/rustc --edition 2021 --target wasm32-unknown-unknown --crate-type cdylib -O -C panic=abort -C strip=symbols \
  -o "${OUT:-upper.wasm}" upper.rs
