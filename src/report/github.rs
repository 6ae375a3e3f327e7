//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding, which the runner turns
//! into annotations on the pull request's diff. No upload step and no permissions needed, unlike SARIF.
//!
//! Only annotations are written: the summary line belongs to the human report, and anything else on these
//! lines would be swallowed by the runner. GitHub shows at most 10 annotations of each level per step; the
//! rest stay in the log, which is why the message carries everything needed to act on it.

use std::fmt::Write as _;
use std::io;

use super::Report;
use crate::input::LoadError;
use crate::ir::Severity;
use crate::report::Reported;
use crate::source::escape;

/// Writes the annotations, one line each, in report order: findings, then input errors.
pub fn render(report: &Report, out: &mut impl io::Write) -> io::Result<()> {
    for f in &report.findings {
        writeln!(out, "{}", finding(f))?;
    }
    for e in &report.errors {
        writeln!(out, "{}", error(e))?;
    }
    Ok(())
}

/// Critical and high fail checks in GitHub's eyes; a waived finding is only worth a notice.
fn command(f: &Reported) -> &'static str {
    if f.waived() {
        return "notice";
    }
    match f.severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium | Severity::Low => "warning",
        Severity::Info => "notice",
    }
}

fn finding(f: &Reported) -> String {
    let mut line = format!("::{} file={}", command(f), property(path(f.file())));
    if let Some(span) = f.span() {
        let (start_line, start_col) = f.source.line_col(span.start);
        let (end_line, end_col) = f.source.line_col(span.end);
        // The runner discards columns when the annotation spans lines, so they are only written for one line.
        if start_line == end_line {
            let _ = write!(line, ",line={start_line},col={start_col},endLine={end_line},endColumn={end_col}");
        } else {
            let _ = write!(line, ",line={start_line},endLine={end_line}");
        }
    }
    let _ = write!(line, ",title={}", property(&format!("{} {}", f.rule.id, f.rule.title)));
    let mut message = if f.message.trim().is_empty() { f.rule.title.clone() } else { f.message.clone() };
    if let Some(m) = f.waiver() {
        if m.expired {
            let _ = write!(message, " (waiver {} expired on {})", m.waiver.declared_at, m.waiver.expires);
        } else {
            let _ = write!(message, " (waived: {})", m.waiver.reason);
        }
    }
    let _ = write!(line, "::{}", data(&message));
    line
}

fn error(e: &LoadError) -> String {
    let mut line = format!("::error file={}", property(path(&e.file)));
    if let Some((l, c)) = e.line_col() {
        let _ = write!(line, ",line={l},col={c}");
    }
    let _ = write!(line, ",title=input error::{}", data(&e.message));
    line
}

/// The path as given, without a leading `./` (annotations are matched against repository paths).
fn path(file: &str) -> &str {
    file.strip_prefix("./").unwrap_or(file)
}

/// Escapes a command's message: `%` first, so the escapes it introduces are not escaped again. Other control
/// characters and bidirectional overrides have no runner escape: they are written as `\u{…}` (as in the human
/// report), since an ESC from an input file would otherwise reach the log viewer as a terminal sequence and a
/// U+202E would reorder what the reviewer reads.
fn data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push_str(&escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    out
}

/// Escapes a property value: as the message, plus `:` and `,`, which would end the value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::eval::Cause;
    use crate::eval::Finding;
    use crate::input::{Kind, Location};
    use crate::ir::RuleInfo;
    use crate::source::{Source, Span};

    /// A finding on `text` at `location`, built by hand to reach shapes evaluation rarely produces.
    fn finding(file: &str, text: &str, message: &str, location: Option<Location>) -> Finding {
        let rule = RuleInfo {
            id: "R-1".into(),
            title: "Rule, one".into(),
            description: String::new(),
            severity: Severity::Low,
            kinds: vec![Kind::ModelCard],
            controls: Vec::new(),
            remediation: None,
            tags: Vec::new(),
            url: None,
            package: "p".into(),
            file: "p.policy".into(),
            line: 1,
            plugins: Vec::new(),
        };
        Finding {
            rule: Arc::new(rule),
            severity: Severity::Low,
            message: message.into(),
            cause: Cause::Violation,
            source: Source::new(file, text),
            document: 0,
            kind: Kind::ModelCard,
            location,
            fingerprint: None,
        }
    }

    #[test]
    fn spans_over_lines_carry_no_columns() {
        // A key that spans lines (a YAML complex key) is what `Finding::span` points at for a multi-line value.
        let text = "? |\n  a\n  b\n: |\n  x\n  y\n";
        let location = Location { span: Span::new(14, 24), key_span: Some(Span::new(2, 11)), pointer: "/a".into() };
        let f = Reported::from(finding("./c.yaml", text, "bad", Some(location)));
        // The runner drops columns of annotations that span lines, so none are written.
        assert_eq!(super::finding(&f), "::warning file=c.yaml,line=1,endLine=3,title=R-1 Rule%2C one::bad");
    }

    #[test]
    fn an_empty_message_falls_back_to_the_title() {
        let f = Reported::from(finding("m.bin", "", " ", None));
        assert_eq!(super::finding(&f), "::warning file=m.bin,title=R-1 Rule%2C one::Rule, one");
    }

    #[test]
    fn escapes_follow_the_runner() {
        assert_eq!(data("100% a:b,c\r\nd"), "100%25 a:b,c%0D%0Ad");
        assert_eq!(property("100% a:b,c\r\nd"), "100%25 a%3Ab%2Cc%0D%0Ad");
        assert_eq!(data("%0A"), "%250A");
        assert_eq!(data("a\u{1b}[31mb\tc\u{7f}"), "a\\u{1b}[31mb\tc\\u{7f}");
        assert_eq!(property("x\u{202e}y\u{9b}2J"), "x\\u{202e}y\\u{9b}2J");
    }
}
