//! Policy files → syntax trees. Only this module sees pest.

pub mod ast;
mod parse;

pub use parse::parse;
