//! Vigil: policy-as-code for AI systems.
//!
//! An [`Engine`] compiles policies once into a [`PolicySet`]; the set evaluates parsed [`Document`]s
//! (model cards, ML-BOMs, pipelines, deployments, model files) and returns a [`Report`] of [`Finding`]s, each
//! held as a [`Reported`] beside the waiver that covers it. [`PolicySet::check`] finds and loads files and
//! folders as `policy check` does; its [`CheckOptions`], like the other option structs, are built with
//! `with_*` setters.
//!
//! ```
//! use vigil::{Document, Engine, Severity, Value};
//!
//! # fn main() -> miette::Result<()> {
//! let policy = r#"
//! package acme.serving
//!
//! param allowed_registries = ["hf://acme/"]
//!
//! rule "ACME-001" {
//!   title = "Models are served from an approved registry"
//!   severity = high
//!   applies_to = InferenceService
//!   let uri = input.spec.predictor.model.storageUri
//!   require any(r in allowed_registries: starts_with(uri, r)) else "model location `{uri}` is not approved"
//! }
//! "#;
//! let deployment = "\
//! apiVersion: serving.kserve.io/v1beta1
//! kind: InferenceService
//! spec:
//!   predictor:
//!     model:
//!       storageUri: gs://someone-elses-bucket/model
//! ";
//! // Host programs set parameters, pin the clock and register functions on the builder.
//! let engine = Engine::builder().param("allowed_registries", Value::from(vec![Value::from("s3://acme/")])).build();
//! let policies = engine.compile([("acme.policy", policy)])?;         // compile once; every error has a span
//! let docs = Document::from_str("deploy/isvc.yaml", deployment)?;   // one file may hold several documents
//! let report = policies.evaluate(&docs);                            // evaluate many times, from any thread
//! for finding in &report.findings {
//!     println!("{}:{:?}: [{}] {}", finding.file(), finding.line_col(), finding.severity, finding.message);
//! }
//! assert_eq!(report.failing(Severity::High), 1);
//! # Ok(())
//! # }
//! ```
//!
//! [`PolicySet`] is `Send + Sync`; a [`Session`] evaluates one document at a time against a fixed set of
//! documents. Host functions are [`Function`]s registered with [`EngineBuilder::function`]. Errors are
//! [`Error`]s, [`Diagnostics`] and [`LoadError`]s, all `miette::Diagnostic`s: `?` into `miette::Result`
//! keeps every source span.
//!
//! Everything else is internal. The command line, benchmarks and tests reach the tool layer through
//! [`unstable`], which is hidden from the documentation and not covered by semver.
//! `docs/architecture.md` draws the layers.

// Engine core. The front end (sources, diagnostics, the grammar and syntax trees) is the `vigil-syntax`
// crate, which the build script shares.
use vigil_syntax::{diagnostic, source, syntax};
#[macro_use]
mod setters;
mod check;
mod engine;
mod error;
mod eval;
mod explain;
mod functions;
mod hex;
mod ir;
mod optimise;
mod pattern;
mod rule_info;
mod schema;
mod value;

// Inputs and the model-file inspector.
mod artifact;
mod confine;
mod input;

// WASM plugins (their runtime is behind the `plugins` feature).
mod plugins;

// Tool layer.
mod audit;
mod bundled;
mod config;
mod evidence;
mod format;
mod params;
mod pipeline;
mod report;
#[cfg(feature = "serve")]
mod serve;
mod settings;
mod shard;
mod testing;
mod waiver;

// Editor support: what `policy lsp` knows about a policy file.
mod lsp;

pub use artifact::{ArtifactLimits, InspectOptions};
pub use audit::Broken as AuditError;
pub use diagnostic::{Code, Diagnostic, Diagnostics};
pub use engine::{Engine, EngineBuilder, PolicySet, Session};
pub use error::Error;
pub use eval::{Cause, Finding};
pub use functions::{CallContext, Function, Registry, Ty};
pub use input::{Document, Format, Kind, Limits as LoadLimits, LoadError, LoadOptions, Location};
pub use pipeline::CheckOptions;
pub use plugins::{Limits as PluginLimits, PluginError, PluginOptions, PluginSource};
pub use report::{Report, Reported};
pub use rule_info::{RuleInfo, Severity};
pub use settings::RuleSettings;
pub use source::{Source, Span};
pub use value::{KeyHasher, Map, Value, ValueType};

/// The tool layer the `policy` command line is built from: configuration, the check pipeline, report
/// writers, waivers, the audit log and the bundled packs.
///
/// Public only so the binary, benchmarks, fuzz targets and tests can reach it; it changes without notice
/// and is not part of the semver-covered API.
#[doc(hidden)]
pub mod unstable {
    pub use crate::diagnostic::suggestion;

    /// `policy explain`: why a rule passed, failed or did not apply, as a tree.
    pub mod explain {
        pub use crate::explain::{Explanation, Verdict, render};

        /// Why `rule_id` came out as it did on each of `docs` (evaluated in a session over `docs`).
        pub fn explain(
            policies: &crate::PolicySet,
            rule_id: &str,
            docs: &[crate::Document],
        ) -> Result<Vec<Explanation>, String> {
            policies.session(docs).explain(rule_id, docs)
        }
    }

    /// The language server's analysis of a policy file (`policy lsp`).
    pub mod lsp {
        pub use crate::lsp::*;
    }

    /// The tamper-evident audit log.
    pub mod audit {
        pub use crate::audit::*;
    }

    /// The bundled policy packs.
    pub mod bundled {
        pub use crate::bundled::*;
    }

    /// `vigil.toml`.
    pub mod config {
        pub use crate::config::*;
    }

    /// Signed evidence: keys, DSSE envelopes, attestations of a check, policy bundles.
    pub mod evidence {
        pub use crate::evidence::*;
    }

    /// Opening files without following links.
    pub mod confine {
        pub use crate::confine::*;
    }

    /// Loading inputs: files, folders, limits.
    pub mod input {
        pub use crate::input::*;
    }

    /// WASM plugins: loading, limits, the module cache.
    pub mod plugins {
        pub use crate::plugins::*;
    }

    /// `policy fmt`: the canonical layout of policy files.
    pub mod format {
        pub use crate::format::*;
    }

    /// The parameters policies declare.
    pub mod params {
        pub use crate::params::*;
    }

    /// The check pipeline: walk, load, evaluate, waive.
    pub mod pipeline {
        pub use crate::pipeline::*;
    }

    /// Reports and their writers.
    pub mod report {
        pub use crate::report::*;
    }

    /// `policy serve`: the HTTP decision API.
    #[cfg(feature = "serve")]
    pub mod serve {
        pub use crate::serve::*;
    }

    /// `policy check --shard`: which files a shard checks; progress counters.
    pub mod shard {
        pub use crate::shard::*;
    }

    /// Rule settings.
    pub mod settings {
        pub use crate::settings::*;
    }

    /// `policy test`: test blocks, their results and coverage.
    pub mod testing {
        pub use crate::testing::*;
    }

    /// Waivers.
    pub mod waiver {
        pub use crate::waiver::*;
    }
}
