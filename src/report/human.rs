//! The human report: one miette diagnostic per finding, pointing at the offending value in the input file,
//! then a summary line.

use std::fmt::{self, Write as _};
use std::io;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan};

use super::Report;
use crate::ir::Severity;
use crate::report::Reported;
use crate::source::escape;

/// How to draw: colours (off for `NO_COLOR` and non-terminals) and width.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Use ANSI colours.
    pub color: bool,
    /// Wrap at this many columns.
    pub width: usize,
}

impl Style {
    pub(super) fn handler(self) -> GraphicalReportHandler {
        let theme = if self.color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
        GraphicalReportHandler::new_themed(theme)
            .with_width(self.width)
            .with_context_lines(super::snippet::CONTEXT_LINES)
            .with_links(false)
    }

    /// Renders any diagnostic (policy errors, input errors) the same way as findings. Every text that may
    /// come from an input (messages, labels, advice, file names, the snippet) is escaped on the way. Without
    /// colour the usual shape is drawn directly ([`super::snippet`]), with the same result as miette's.
    pub fn render(self, diagnostic: &dyn Diagnostic) -> String {
        let escaped = Escaped::new(diagnostic);
        if !self.color
            && let Some(text) = super::snippet::draw(&escaped, self.width)
        {
            return text;
        }
        let mut out = String::new();
        if self.handler().render_report(&mut out, &escaped).is_err() {
            out = format!("{escaped}\n");
        }
        out
    }
}

/// A diagnostic whose texts are escaped with [`escape`]: an input can put ESC, BEL, a lone carriage return or
/// a bidirectional override into a value that a message quotes, or into a file name. The snippet itself is
/// escaped by the source (`Source` shows its escaped copy to miette, and labels point into that copy).
struct Escaped<'a> {
    inner: &'a dyn Diagnostic,
    related: Vec<Escaped<'a>>,
}

impl<'a> Escaped<'a> {
    fn new(inner: &'a dyn Diagnostic) -> Escaped<'a> {
        let related = inner.related().map(|r| r.map(Escaped::new).collect()).unwrap_or_default();
        Escaped { inner, related }
    }
}

fn escaped_text(text: Option<Box<dyn fmt::Display + '_>>) -> Option<Box<dyn fmt::Display + '_>> {
    text.map(|t| Box::new(escape(&t.to_string()).into_owned()) as Box<dyn fmt::Display>)
}

impl fmt::Debug for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(&self.inner.to_string()))
    }
}

impl std::error::Error for Escaped<'_> {}

impl Diagnostic for Escaped<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        escaped_text(self.inner.code())
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.inner.severity()
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        escaped_text(self.inner.help())
    }

    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        escaped_text(self.inner.url())
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.inner.source_code()
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let labels = self.inner.labels()?.map(|l| {
            let text = l.label().map(|t| escape(t).into_owned());
            if l.primary() {
                LabeledSpan::new_primary_with_span(text, *l.inner())
            } else {
                LabeledSpan::new_with_span(text, *l.inner())
            }
        });
        Some(Box::new(labels))
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|d| d as &dyn Diagnostic)))
    }
}

/// A finding seen as a miette diagnostic.
struct FindingView<'a> {
    finding: &'a Reported,
    heading: String,
}

impl fmt::Debug for FindingView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.heading)
    }
}

impl fmt::Display for FindingView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.heading)
    }
}

impl std::error::Error for FindingView<'_> {}

impl Diagnostic for FindingView<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let waived = if self.finding.waived() { " · waived" } else { "" };
        Some(Box::new(format!("{} · {}{waived}", self.finding.rule.id, self.finding.severity)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        if self.finding.waived() {
            return Some(miette::Severity::Advice);
        }
        Some(match self.finding.severity {
            Severity::Critical | Severity::High => miette::Severity::Error,
            Severity::Medium | Severity::Low => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let mut help = self.finding.rule.remediation.clone().unwrap_or_default();
        if let Some(m) = self.finding.waiver() {
            let w = &m.waiver;
            let state = if m.expired {
                format!("the waiver expired on {}", w.expires)
            } else {
                format!("waived until {}", w.expires)
            };
            let line =
                format!("{state}: {} (owner {}, approved by {}; {})", w.reason, w.owner, w.approver, w.declared_at);
            help = if help.is_empty() { line } else { format!("{help}\n{line}") };
        }
        (!help.is_empty()).then(|| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        (!self.finding.source.text().is_empty()).then_some(&*self.finding.source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.finding.source.display_span(self.finding.span()?);
        let label = LabeledSpan::new_with_span(Some(self.finding.message.clone()), span);
        Some(Box::new(std::iter::once(label)))
    }
}

/// Findings rendered at once, in parallel, before they are written in order.
const BATCH: usize = 512;

/// Writes every finding, then unused waivers and the summary. Findings are rendered in parallel a batch at a
/// time (drawing a snippet costs far more than writing it) and written in order: a report of a million
/// findings is never held in memory as text.
pub fn render(report: &Report, style: Style, out: &mut impl io::Write) -> io::Result<()> {
    use rayon::prelude::*;
    for batch in report.findings.chunks(BATCH) {
        let rendered: Vec<String> = batch.par_iter().map(|finding| render_finding(finding, style)).collect();
        for text in rendered {
            out.write_all(text.as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    for w in &report.unused_waivers {
        writeln!(
            out,
            "warning: the waiver for {} on `{}` ({}) matches no finding; remove it?",
            escape(&w.rule),
            escape(&w.path),
            escape(&w.declared_at)
        )?;
    }
    writeln!(out, "{}", summary(report))
}

/// One finding.
pub fn render_finding(finding: &Reported, style: Style) -> String {
    let mut heading = finding.rule.title.clone();
    // Without a snippet the message would be lost: say it in the heading.
    if finding.location.is_none() || finding.source.text().is_empty() {
        let _ = write!(heading, ": {} ({})", finding.message, finding.file());
    }
    style.render(&FindingView { finding, heading })
}

/// "✖ 7 findings (1 critical, 6 high) in 3 of 12 documents (9 files); 1 input error; 4 files skipped".
pub fn summary(report: &Report) -> String {
    let documents = report.documents();
    let plural = |n: usize, word: &str| if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") };
    // A tick only for a run that checked something and read every input: an unread file may hold anything.
    let mut line = if report.findings.is_empty() && (documents == 0 || !report.errors.is_empty()) {
        format!("✖ no findings in {} ({})", plural(documents, "document"), plural(report.files, "file"))
    } else if report.findings.is_empty() {
        format!("✔ no findings in {} ({})", plural(documents, "document"), plural(report.files, "file"))
    } else {
        let mut by_doc: Vec<(&str, usize)> = report.findings.iter().map(|f| (f.file(), f.document)).collect();
        by_doc.sort();
        by_doc.dedup();
        let counts: Vec<String> = Severity::ALL
            .iter()
            .rev()
            .filter_map(|s| {
                let n = report.findings.iter().filter(|f| f.severity == *s).count();
                (n > 0).then(|| format!("{n} {s}"))
            })
            .collect();
        format!(
            "✖ {} ({}) in {} of {} ({})",
            plural(report.findings.len(), "finding"),
            counts.join(", "),
            by_doc.len(),
            plural(documents, "document"),
            plural(report.files, "file"),
        )
    };
    let waived = report.waived();
    if waived > 0 {
        let _ = write!(line, "; {waived} waived");
    }
    if !report.unused_waivers.is_empty() {
        let _ = write!(line, "; {}", plural(report.unused_waivers.len(), "unused waiver"));
    }
    if !report.errors.is_empty() {
        let _ = write!(line, "; {}", plural(report.errors.len(), "input error"));
    }
    if documents == 0 {
        let _ = write!(line, "; nothing was checked");
    }
    if !report.skipped.is_empty() {
        let _ = write!(line, "; {} skipped", plural(report.skipped.len(), "file"));
    }
    line
}
