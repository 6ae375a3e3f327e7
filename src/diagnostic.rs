//! Problems found in policy files: each points at its file and span, and all of a run are reported together.
//!
//! Messages are lowercase, quote the user's text in backticks and keep advice for `help`.

use std::fmt;
use std::sync::Arc;

use crate::source::{Source, Span};

/// One problem in a policy file (or a parameter), with the snippet to show.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Stable code, e.g. `vigil::syntax`, `vigil::unknown-name`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// The file it is in.
    pub source: Arc<Source>,
    /// Where.
    pub span: Span,
    /// A short note under the underlined text.
    pub label: Option<String>,
    /// Advice.
    pub help: Option<String>,
    /// Other places that explain this one (the first definition of a duplicate, say).
    pub related: Vec<Diagnostic>,
}

impl Diagnostic {
    /// A problem at `span` of `source`.
    pub fn new(code: &'static str, source: &Arc<Source>, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            source: source.clone(),
            span,
            label: None,
            help: None,
            related: Vec::new(),
        }
    }

    /// Adds a label.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Adds advice.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds advice if there is any.
    pub fn with_help_opt(mut self, help: Option<String>) -> Diagnostic {
        self.help = help;
        self
    }

    /// Adds a related location.
    pub fn with_related(mut self, related: Diagnostic) -> Diagnostic {
        self.related.push(related);
        self
    }

    /// `file:line:col`.
    pub fn location(&self) -> String {
        let (line, col) = self.source.line_col(self.span.start);
        format!("{}:{line}:{col}", self.source.name())
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&*self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let label = miette::LabeledSpan::new_with_span(self.label.clone(), self.source.display_span(self.span));
        Some(Box::new(std::iter::once(label)))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|d| d as &dyn miette::Diagnostic)))
    }
}

/// Every problem found while compiling policies; never empty.
#[derive(Clone, Debug)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// The problems, in source order per file.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: an empty list is not an error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {}", d.location(), d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The closest of `candidates` to `name`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .filter_map(|c| {
            // Typos (transpositions count once), or a misspelt extension of a short name (`lenght` → `len`).
            // Case differences alone (`MLBOM` for `MLBom`) count as the closest match.
            let distance = if name.eq_ignore_ascii_case(c) { 0 } else { strsim::osa_distance(name, c) };
            let extends = c.len() >= 3 && name.starts_with(c) && name.len() <= c.len() * 2;
            (distance <= limit || extends).then_some((distance, c))
        })
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// `did you mean `x`?`, for `help`.
pub fn suggestion<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    did_you_mean(name, candidates).map(|c| format!("did you mean `{c}`?"))
}
