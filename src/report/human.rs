//! The human report: one miette diagnostic per finding, pointing at the offending value in the input file,
//! then a summary line.

use std::fmt::{self, Write as _};

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan};

use super::Report;
use crate::eval::Finding;
use crate::ir::Severity;

/// How to draw: colours (off for `NO_COLOR` and non-terminals) and width.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Use ANSI colours.
    pub color: bool,
    /// Wrap at this many columns.
    pub width: usize,
}

impl Style {
    fn handler(self) -> GraphicalReportHandler {
        let theme = if self.color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
        GraphicalReportHandler::new_themed(theme).with_width(self.width).with_context_lines(1).with_links(false)
    }

    /// Renders any diagnostic (policy errors, input errors) the same way as findings.
    pub fn render(self, diagnostic: &dyn Diagnostic) -> String {
        let mut out = String::new();
        if self.handler().render_report(&mut out, diagnostic).is_err() {
            out = format!("{diagnostic}\n");
        }
        out
    }
}

/// A finding seen as a miette diagnostic.
struct FindingView<'a> {
    finding: &'a Finding,
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
        if let Some(m) = &self.finding.waiver {
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
        let span = self.finding.span()?;
        let label = LabeledSpan::new_with_span(Some(self.finding.message.clone()), span);
        Some(Box::new(std::iter::once(label)))
    }
}

/// Renders every finding, then unused waivers and the summary.
pub fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        out.push_str(&render_finding(finding, style));
        out.push('\n');
    }
    for w in &report.unused_waivers {
        let _ = writeln!(
            out,
            "warning: the waiver for {} on `{}` ({}) matches no finding; remove it?",
            w.rule, w.path, w.declared_at
        );
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

/// One finding.
pub fn render_finding(finding: &Finding, style: Style) -> String {
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
