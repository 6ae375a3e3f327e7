//! Policy files → syntax trees. Only this module sees pest.

pub mod ast;
mod errors;
mod parse;

pub use parse::parse;
