//! The front end of Vigil's policy language, shared by the `vigil` library and its build script (which
//! parses the bundled policies at build time): [`source`] files and spans, [`diagnostic`]s that point into
//! them, and [`syntax`]: the pest grammar (`grammar/policy.pest` at the repository root) and the syntax
//! trees it produces.
//!
//! Not a public interface of its own: `vigil` re-exports what embedders need (`vigil::Source`,
//! `vigil::Span`, `vigil::Diagnostic`, `vigil::Diagnostics`, `vigil::Code`).

pub mod diagnostic;
pub mod source;
pub mod syntax;
