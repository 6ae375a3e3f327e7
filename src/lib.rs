//! Vigil: policy-as-code for AI systems.

pub mod audit;
pub mod bundled;
pub mod config;
pub mod confine;
pub mod diagnostic;
pub mod evidence;
pub mod functions;
pub mod input;
pub mod ir;
pub mod params;
pub mod pipeline;
pub mod plugins;
pub mod report;
pub mod settings;
pub mod source;
pub mod syntax;
pub mod value;
pub mod waiver;

mod artifact;
pub(crate) mod check;
mod engine;
mod eval;
mod hex;
mod optimise;
mod pattern;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use engine::{Engine, EngineBuilder, PolicySet, Session};
pub use eval::{Cause, Finding};
pub use input::{Document, Kind, LoadError, Location};
pub use ir::{RuleInfo, Severity};
pub use report::Report;
pub use settings::RuleSettings;
pub use value::Value;
