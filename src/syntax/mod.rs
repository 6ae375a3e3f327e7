//! Policy files → syntax trees. Only this module sees pest.

pub mod ast;
mod errors;
mod parse;

pub use parse::parse;
/// The pest parser and its rules, for the formatter, which needs the tokens (src/format).
#[allow(unused_imports, reason = "build.rs includes this module without the formatter")]
pub(crate) use parse::{PolicyParser, Rule};
