//! One error type for embedders: whatever went wrong, with its source spans kept for `miette`.
//!
//! The engine's own functions return the precise error ([`Diagnostics`] from compiling, [`LoadError`]
//! from loading); [`Error`] joins them so a host can use `?` across steps and still render every span.

use crate::audit::Broken;
use crate::diagnostic::Diagnostics;
use crate::input::LoadError;

/// Anything Vigil can fail with.
///
/// ```
/// fn run() -> Result<vigil::Report, vigil::Error> {
///     let policies = vigil::Engine::default().compile([("a.policy", "package a")])?;
///     let docs = vigil::Document::from_str("card.yaml", "kind: ModelCard\n")?;
///     Ok(policies.evaluate(&docs))
/// }
/// assert!(run().is_ok());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Policies, a configuration or a waiver file did not compile; every problem, each with its span.
    #[error(transparent)]
    Compile(#[from] Diagnostics),
    /// An input document could not be read or parsed.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Rule settings name rules that do not exist or are contradictory.
    #[error("{0}")]
    Settings(String),
    /// An audit log does not verify.
    #[error("audit log: {0}")]
    Audit(#[from] Broken),
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Error {
    /// The problem this error delegates to for spans and codes, if it has any.
    fn inner(&self) -> Option<&dyn miette::Diagnostic> {
        match self {
            Error::Compile(d) => Some(d),
            Error::Load(e) => Some(e),
            Error::Settings(_) | Error::Audit(_) | Error::Io(_) => None,
        }
    }
}

impl miette::Diagnostic for Error {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            Error::Settings(_) => Some(Box::new("vigil::settings")),
            Error::Audit(_) => Some(Box::new("vigil::audit")),
            Error::Io(_) => Some(Box::new("vigil::io")),
            _ => self.inner()?.code(),
        }
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner()?.help()
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.inner()?.source_code()
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.inner()?.labels()
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        self.inner()?.related()
    }
}

impl std::error::Error for Broken {}
