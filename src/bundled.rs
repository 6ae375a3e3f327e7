//! The policy packs compiled into Vigil, always on unless `--no-builtin`.

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
