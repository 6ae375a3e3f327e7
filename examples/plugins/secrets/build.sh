#!/bin/sh
# Builds secrets.wasm with Debian's Rust compiler and wasm32 standard library:
#   apt-get install rustc libstd-rust-dev-wasm32
# then records its digest (secrets.wasm.sha256, the pin in secrets.policy) and the compiler version
# (BUILT_WITH): tests/it/plugins_secrets.rs rebuilds with the same compiler and compares byte for byte.
set -eu
cd "$(dirname "$0")"
RUSTC=${RUSTC:-/usr/bin/rustc}
# Paths are remapped so the module does not depend on where the repository is checked out.
"$RUSTC" --edition 2021 --target wasm32-unknown-unknown --crate-type cdylib -O \
  -C panic=abort -C strip=symbols -C codegen-units=1 \
  --remap-path-prefix "$(pwd)=secrets" --remap-path-prefix "$HOME=~" \
  -o "${OUT:-secrets.wasm}" src/lib.rs
if [ -z "${OUT:-}" ]; then
  sha256sum secrets.wasm | cut -d' ' -f1 > secrets.wasm.sha256
  "$RUSTC" --version > BUILT_WITH
  echo "secrets.wasm: sha256 $(cat secrets.wasm.sha256)"
fi
