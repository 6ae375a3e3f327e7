//! Vigil: policy-as-code for AI systems.

pub mod diagnostic;
pub mod functions;
pub mod input;
pub mod source;
pub mod syntax;
pub mod value;

pub use input::{Document, Kind, LoadError};
pub use value::Value;
