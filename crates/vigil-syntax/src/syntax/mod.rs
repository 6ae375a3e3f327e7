//! Policy files → syntax trees. Only this module sees pest.

pub mod ast;
mod errors;
mod parse;

pub use parse::parse;
/// The pest parser and its rules, for the formatter, which needs every token (src/format in `vigil`).
#[doc(hidden)]
pub use parse::{PolicyParser, Rule};
