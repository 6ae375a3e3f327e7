#!/bin/sh
# Builds words.wasm with Debian's clang and lld (apt-get install clang lld).
set -eu
cd "$(dirname "$0")"
clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export-dynamic -o "${OUT:-words.wasm}" words.c
