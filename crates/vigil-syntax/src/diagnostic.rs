//! Problems found in policy files: each points at its file and span, and all of a run are reported together.
//!
//! Messages are lowercase, quote the user's text in backticks and keep advice for `help`.

use std::fmt;
use std::sync::Arc;

use crate::source::{Source, Span};

/// What kind of problem a [`Diagnostic`] is. Its string (`vigil::syntax`) is stable: it is printed, written
/// to JSON and SARIF, and appears as `code` in the JSON report (`docs/output.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// The text does not parse.
    Syntax,
    /// A name is not defined.
    UnknownName,
    /// A function is not defined.
    UnknownFunction,
    /// A document kind is not known.
    UnknownKind,
    /// A function is called with the wrong number of arguments.
    Arity,
    /// A value has the wrong type.
    Type,
    /// A constant cannot be computed at compile time.
    Const,
    /// A definition is malformed or cyclic.
    Definition,
    /// Something is defined twice.
    Duplicate,
    /// A rule checks nothing.
    EmptyRule,
    /// Rule metadata (title, severity, `applies_to`, ...) is missing or invalid.
    Metadata,
    /// A parameter value is invalid.
    Param,
    /// A regular expression is invalid.
    Regex,
    /// A glob pattern is invalid.
    Glob,
    /// A WASM plugin cannot be imported (missing, unpinned, digest mismatch, refused import, bad manifest).
    Plugin,
    /// Arguments look swapped (a pattern where the text goes).
    ArgumentOrder,
    /// A name shadows another.
    Shadowing,
    /// A configuration file (`vigil.toml`) is invalid.
    Config,
    /// A repository configuration loosens a trusted `[lock]`.
    Lock,
    /// A waiver is invalid.
    Waiver,
    /// An input could not be loaded.
    Input,
}

impl Code {
    /// The stable string, e.g. `vigil::unknown-name`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "vigil::syntax",
            Code::UnknownName => "vigil::unknown-name",
            Code::UnknownFunction => "vigil::unknown-function",
            Code::UnknownKind => "vigil::unknown-kind",
            Code::Arity => "vigil::arity",
            Code::Type => "vigil::type",
            Code::Const => "vigil::const",
            Code::Definition => "vigil::definition",
            Code::Duplicate => "vigil::duplicate",
            Code::EmptyRule => "vigil::empty-rule",
            Code::Metadata => "vigil::metadata",
            Code::Param => "vigil::param",
            Code::Regex => "vigil::regex",
            Code::Glob => "vigil::glob",
            Code::Plugin => "vigil::plugin",
            Code::ArgumentOrder => "vigil::argument-order",
            Code::Shadowing => "vigil::shadowing",
            Code::Config => "vigil::config",
            Code::Lock => "vigil::lock",
            Code::Waiver => "vigil::waiver",
            Code::Input => "vigil::input",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in a policy file (or a parameter), with the snippet to show.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Diagnostic {
    /// What kind of problem, e.g. [`Code::Syntax`].
    pub code: Code,
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
    pub fn new(code: Code, source: &Arc<Source>, span: Span, message: impl Into<String>) -> Diagnostic {
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
        Some(Box::new(self.code.as_str()))
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

/// Every problem found while compiling policies (or reading a configuration); never empty.
///
/// As a `miette::Diagnostic` the first problem is the main one and the others are its `related()`, so
/// `?` into `miette::Result` renders every span.
#[derive(Clone, Debug)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// A list of one problem.
    pub fn new(first: Diagnostic) -> Diagnostics {
        Diagnostics(vec![first])
    }

    /// The problems, or `None` if there are none.
    pub fn from_vec(problems: Vec<Diagnostic>) -> Option<Diagnostics> {
        (!problems.is_empty()).then_some(Diagnostics(problems))
    }

    /// The first problem.
    pub fn first(&self) -> &Diagnostic {
        &self.0[0]
    }

    /// The problems, in source order per file.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// How many; at least one.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: an empty list is not an error.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The problems as a vector (never empty).
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.0
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl std::error::Error for Diagnostics {}

impl miette::Diagnostic for Diagnostics {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.first().code()
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.first().help()
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.first().source_code()
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.first().labels()
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        // The first problem's own related places, then every other problem.
        let own = self.first().related.iter();
        let rest = self.0[1..].iter();
        Some(Box::new(own.chain(rest).map(|d| d as &dyn miette::Diagnostic)))
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
