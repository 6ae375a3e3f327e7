//! The pickle side of the inspector: a symbolic stack machine that decodes
//! every opcode of a pickle stream without ever calling anything, and the
//! classification of the globals it imports.
//!
//! - [`machine`]: the opcode loop ([`scan`]) and its report;
//! - [`args`], [`opcodes`]: opcode table and argument decoding;
//! - [`state`], [`arena`]: the symbolic stack, memo and object arena;
//! - [`pystr`]: Python string and integer decoding as pickle defines it;
//! - [`nested`], [`joblib`]: pickles inside pickles, joblib's array wrapper;
//! - [`classify`]: safe / unknown / dangerous verdicts on imported globals.

pub(super) mod arena;
pub(super) mod args;
pub(super) mod classify;
pub(super) mod joblib;
pub(super) mod machine;
pub(super) mod nested;
pub(super) mod opcodes;
pub(super) mod pystr;
pub(super) mod state;

pub(super) use self::machine::{Flow, MAX_NESTING, Next, ScanOptions, scan};
