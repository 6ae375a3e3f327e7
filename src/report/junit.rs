//! JUnit XML in the Jenkins/Surefire dialect that GitLab, Jenkins and Azure DevOps all read: one `<testsuite>`
//! per input file, one `<testcase>` per (document, rule) that produced findings.
//!
//! A report holds findings, not the (document, rule) pairs that passed, so a passing rule cannot be shown as
//! its own testcase. Instead every file gets one testcase named `policy check` that passes (or errors, when
//! the file could not be loaded): clean files still show up, and a file's test keeps its identity from run to
//! run, which is what CI test-history views key on. Timings are not measured, so every `time` is 0.
//!
//! The XML is written by hand: the dialect is small, and the one hard part, escaping, is below and tested.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io;

use super::Report;
use crate::input::LoadError;
use crate::ir::{RuleInfo, Severity};
use crate::report::Reported;

/// The passing (or erroring) testcase every file gets.
const FILE_CASE: &str = "policy check";

/// What became of one testcase.
enum Outcome {
    Passed,
    Failure { message: String, severity: Severity, body: String },
    Skipped { message: String },
    Error { message: String, body: String },
}

struct Case {
    name: String,
    outcome: Outcome,
}

/// The JUnit report. `rules` are the loaded rules: testcases of a file follow their order (then rule id).
pub fn render(report: &Report, rules: &[&RuleInfo], out: &mut impl io::Write) -> io::Result<()> {
    // Files sorted by path: the report's order depends on how folders were walked, CI history should not.
    // Named from the repository root (`Report::paths`), so CI history does not depend on the folder the
    // check ran in.
    let shown = |file: &str| report.paths.shown(file);
    let mut files: BTreeMap<String, (Vec<&LoadError>, Groups<'_>)> = BTreeMap::new();
    for input in &report.inputs {
        files.entry(shown(&input.path)).or_default();
    }
    for error in &report.errors {
        files.entry(shown(&error.file)).or_default().0.push(error);
    }
    let positions: HashMap<&str, usize> = rules.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
    for f in &report.findings {
        let order = positions.get(f.rule.id.as_str()).copied().unwrap_or(rules.len());
        let key = (f.document, order, f.rule.id.as_str());
        files.entry(shown(f.file())).or_default().1.entry(key).or_default().push(f);
    }

    let suites: Vec<(String, Vec<Case>)> = files
        .into_iter()
        .map(|(file, (errors, groups))| {
            let mut cases = vec![file_case(&errors)];
            cases.extend(
                groups.into_iter().filter_map(|((document, _, _), findings)| finding_case(document, &findings, &file)),
            );
            (file, cases)
        })
        .collect();

    let all = suites.iter().flat_map(|(_, cases)| cases);
    let totals = Counts::of(all);
    out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")?;
    writeln!(out, "<testsuites name=\"vigil\" {}>", totals.attributes())?;
    for (file, cases) in &suites {
        let file = escape(file, true);
        writeln!(out, "  <testsuite name=\"{file}\" {}>", Counts::of(cases.iter()).attributes())?;
        for case in cases {
            write!(out, "    <testcase classname=\"{file}\" name=\"{}\" time=\"0\"", escape(&case.name, true))?;
            match &case.outcome {
                Outcome::Passed => out.write_all(b"/>\n")?,
                Outcome::Failure { message, severity, body } => {
                    writeln!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"{severity}\">{}</failure>\n    </testcase>",
                        escape(message, true),
                        escape(body, false)
                    )?;
                }
                Outcome::Skipped { message } => {
                    writeln!(out, ">\n      <skipped message=\"{}\"/>\n    </testcase>", escape(message, true))?;
                }
                Outcome::Error { message, body } => {
                    writeln!(
                        out,
                        ">\n      <error message=\"{}\" type=\"input\">{}</error>\n    </testcase>",
                        escape(message, true),
                        escape(body, false)
                    )?;
                }
            }
        }
        out.write_all(b"  </testsuite>\n")?;
    }
    out.write_all(b"</testsuites>\n")
}

/// Findings of one file by (document, rule position, rule id).
type Groups<'a> = BTreeMap<(usize, usize, &'a str), Vec<&'a Reported>>;

/// The file's own testcase: an error if it could not be loaded, else a pass.
fn file_case(errors: &[&LoadError]) -> Case {
    let outcome = match errors.first() {
        None => Outcome::Passed,
        Some(first) => Outcome::Error {
            message: first.message.clone(),
            body: errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"),
        },
    };
    Case { name: FILE_CASE.to_string(), outcome }
}

/// The testcase of one rule on one document: a failure listing its findings, or skipped when waivers cover
/// every one of them.
fn finding_case(document: usize, findings: &[&Reported], file: &str) -> Option<Case> {
    let first = findings.first()?;
    let rule = &first.rule;
    let mut name = format!("{}: {}", rule.id, rule.title);
    // Documents after the first of a multi-document file need their own name; the first keeps the plain one
    // so its history does not change when documents are added after it.
    if document > 0 {
        let _ = write!(name, " (document {})", document + 1);
    }
    let failing: Vec<&Reported> = findings.iter().copied().filter(|f| !f.waived()).collect();
    let outcome = match failing.first() {
        None => {
            let mut reasons: Vec<&str> = Vec::new();
            for reason in findings.iter().filter_map(|f| Some(f.waiver()?.waiver.reason.as_str())) {
                if !reasons.contains(&reason) {
                    reasons.push(reason);
                }
            }
            Outcome::Skipped { message: format!("waived: {}", reasons.join("; ")) }
        }
        Some(head) => {
            let mut message = head.message.clone();
            if failing.len() > 1 {
                let _ = write!(message, " (and {} more)", failing.len() - 1);
            }
            let severity = failing.iter().map(|f| f.severity).max().unwrap_or(head.severity);
            let mut body: Vec<String> = findings.iter().map(|f| finding_line(f, file)).collect();
            if let Some(remediation) = &rule.remediation {
                body.push(format!("Remediation: {remediation}"));
            }
            Outcome::Failure { message, severity, body: body.join("\n") }
        }
    };
    Some(Case { name, outcome })
}

/// `file:line:col: message` (`file` as the report names it), or `file: message (at /pointer)` when there is no line to point at.
fn finding_line(f: &Reported, file: &str) -> String {
    let mut line = match f.line_col() {
        Some((l, c)) => format!("{file}:{l}:{c}: {}", f.message),
        None if f.pointer().is_empty() => format!("{file}: {}", f.message),
        None => format!("{file}: {} (at {})", f.message, f.pointer()),
    };
    if let Some(m) = f.waiver() {
        let w = &m.waiver;
        if m.expired {
            let _ = write!(line, " (waiver {} expired on {})", w.declared_at, w.expires);
        } else {
            let _ = write!(line, " (waived: {}; {})", w.reason, w.declared_at);
        }
    }
    line
}

#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn of<'a>(cases: impl Iterator<Item = &'a Case>) -> Counts {
        let mut c = Counts::default();
        for case in cases {
            c.tests += 1;
            match case.outcome {
                Outcome::Passed => {}
                Outcome::Failure { .. } => c.failures += 1,
                Outcome::Skipped { .. } => c.skipped += 1,
                Outcome::Error { .. } => c.errors += 1,
            }
        }
        c
    }

    fn attributes(&self) -> String {
        format!(
            "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\"",
            self.tests, self.failures, self.errors, self.skipped
        )
    }
}

/// Escapes text for XML 1.0: the five markup characters always, and characters XML 1.0 cannot represent at
/// all (C0 controls other than tab, newline and carriage return; U+FFFE and U+FFFF) are dropped — even as
/// `&#1;` they would make the whole file unreadable. In attributes, whitespace other than the space is written
/// as a character reference, or parsers would normalise it to a space; `\r` is referenced in text too, or
/// parsers would turn `\r\n` into `\n`.
pub(crate) fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_drops_what_xml_cannot_hold() {
        assert_eq!(escape("a<b>&\"c'", false), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("x\u{1}y\u{1b}z\u{fffe}", false), "xyz");
        assert_eq!(escape("l1\nl2\tt\r", false), "l1\nl2\tt&#13;");
        assert_eq!(escape("l1\nl2\tt", true), "l1&#10;l2&#9;t");
        assert_eq!(escape("ünïcode ✓", true), "ünïcode ✓");
    }
}
