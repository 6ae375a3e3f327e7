#!/bin/sh
# The pre-commit hook's entry (.pre-commit-hooks.yaml). pre-commit's `language: rust` installs hooks with
# `cargo install --path .`, which ignores Cargo.lock and re-resolves every dependency on the day of install
# (pre-commit/pre-commit#3162), so a new release of any dependency could break or change the hook. This
# script builds `policy` from the hook's checkout with `--locked` instead, once per hook version (pre-commit
# keeps one checkout per `rev`), then runs it with the hook's arguments and the changed files.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
bin="$here/target/release/policy"
if [ ! -x "$bin" ] || [ "$here/Cargo.lock" -nt "$bin" ]; then
    echo "vigil: building policy from $here (cargo build --locked --release, first run only)" >&2
    cargo build --locked --release --quiet --manifest-path "$here/Cargo.toml" --bin policy >&2
fi
exec "$bin" "$@"
