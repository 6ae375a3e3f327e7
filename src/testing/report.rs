//! How a test run is shown: text for people (failures with expected and actual findings side by side and
//! the input), JSON and JUnit for tools, coverage as text, JSON and lcov (which editors and CI coverage
//! services read, so uncovered checks show on the policy source).

use std::fmt::Write as _;

#[cfg(feature = "cli")]
use super::TestResult;
use super::TestRun;
#[cfg(feature = "cli")]
use crate::report::human::Style;
#[cfg(feature = "cli")]
use crate::report::junit::escape;

#[cfg(feature = "cli")] // the terminal renderer (miette's) comes with the command line
/// Input lines shown under a failure.
const SNIPPET_LINES: usize = 14;
#[cfg(feature = "cli")] // the terminal renderer (miette's) comes with the command line
/// Width of the "expected" column.
const LEFT: usize = 46;

#[cfg(feature = "cli")] // the terminal renderer (miette's) comes with the command line
/// One line per test, then each failure in full, then a summary.
pub fn results_text(run: &TestRun, style: Style) -> String {
    let mut out = String::new();
    for r in &run.results {
        let verdict = if r.passed() { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "{verdict} {}:{} {}", r.file, r.line, r.name);
    }
    for r in run.results.iter().filter(|r| !r.passed()) {
        out.push('\n');
        out.push_str(&failure(r, style));
    }
    let _ = writeln!(
        out,
        "\n{} passed, {} failed, {} tests",
        run.results.len() - run.failed(),
        run.failed(),
        run.results.len()
    );
    out
}

#[cfg(feature = "cli")]
fn failure(r: &TestResult, style: Style) -> String {
    let mut out = format!("---- {} ({}:{})\n", r.name, r.file, r.line);
    for p in &r.problems {
        out.push_str(&style.render(&p.diagnostic));
    }
    // Expected and actual side by side: a mark on each expectation, every finding on the right.
    let _ = writeln!(out, "  {:<LEFT$} | actual", "expected");
    let rows = r.expected.len().max(r.actual.len());
    for i in 0..rows {
        let left =
            r.expected.get(i).map_or(String::new(), |(text, held)| format!("{} {text}", if *held { "✓" } else { "✗" }));
        let right = r.actual.get(i).map_or(String::new(), |a| {
            let place = a.line.map_or(String::new(), |l| format!(" line {l}"));
            let at = if a.pointer.is_empty() { String::new() } else { format!(" at {}", a.pointer) };
            format!("{}{place}{at} ({}): {}", a.rule, a.cause, a.message)
        });
        let _ = writeln!(out, "  {:<LEFT$} | {right}", truncate(&left, LEFT));
    }
    if rows == 0 {
        let _ = writeln!(out, "  {:<LEFT$} | (no findings)", "");
    }
    for (name, text) in &r.inputs {
        let _ = writeln!(out, "  input {name}:");
        let marked: Vec<usize> = r.actual.iter().filter(|a| a.file == *name).filter_map(|a| a.line).collect();
        for (n, line) in text.lines().enumerate().take(SNIPPET_LINES) {
            let mark = if marked.contains(&(n + 1)) { ">" } else { " " };
            let _ = writeln!(out, "  {mark}{:>4} | {}", n + 1, truncate(line, 110));
        }
        let total = text.lines().count();
        if total > SNIPPET_LINES {
            let _ = writeln!(out, "        | ... ({} more lines)", total - SNIPPET_LINES);
        }
    }
    out
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The results as JSON (`--format json`), coverage included.
pub fn results_json(run: &TestRun) -> String {
    let tests: Vec<serde_json::Value> = run
        .results
        .iter()
        .map(|r| {
            serde_json::json!({
                "name": r.name,
                "file": r.file,
                "line": r.line,
                "passed": r.passed(),
                "duration_ms": r.duration.as_secs_f64() * 1000.0,
                "problems": r.problems.iter().map(|p| {
                    let (line, column) = p.diagnostic.source.line_col(p.diagnostic.span.start);
                    serde_json::json!({"message": p.diagnostic.message, "line": line, "column": column, "help": p.diagnostic.help})
                }).collect::<Vec<_>>(),
                "expected": r.expected.iter().map(|(text, held)| serde_json::json!({"expectation": text, "held": held})).collect::<Vec<_>>(),
                "actual": r.actual,
            })
        })
        .collect();
    let value = serde_json::json!({
        "passed": run.results.len() - run.failed(),
        "failed": run.failed(),
        "tests": tests,
        "coverage": coverage_value(run),
    });
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

#[cfg(feature = "cli")] // the terminal renderer (miette's) comes with the command line
/// The results as JUnit XML (`--format junit`): one test case per test, grouped by file.
pub fn junit(run: &TestRun) -> String {
    let mut files: Vec<&str> = run.results.iter().map(|r| r.file.as_str()).collect();
    files.dedup();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"policy test\" tests=\"{}\" failures=\"{}\">",
        run.results.len(),
        run.failed()
    );
    for file in files {
        let tests: Vec<&TestResult> = run.results.iter().filter(|r| r.file == file).collect();
        let failures = tests.iter().filter(|r| !r.passed()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">",
            escape(file, true),
            tests.len()
        );
        for r in tests {
            let time = r.duration.as_secs_f64();
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{time:.3}\"",
                escape(file, true),
                escape(&r.name, true)
            );
            if r.passed() {
                out.push_str("/>\n");
                continue;
            }
            let message: Vec<&str> = r.problems.iter().map(|p| p.diagnostic.message.as_str()).collect();
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\">{}</failure>",
                escape(&message.join("; "), true),
                escape(&failure(r, Style { color: false, width: 100 }), false)
            );
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn coverage_value(run: &TestRun) -> serde_json::Value {
    serde_json::json!({
        "rules_percent": round(run.rule_percent()),
        "checks_percent": round(run.check_percent()),
        "rules": run.rules,
        "checks": run.checks.iter().map(|c| serde_json::json!({
            "rule": c.rule, "kind": c.kind, "file": c.file, "line": c.line, "text": c.text,
            "held": c.counts[0], "not_held": c.counts[1], "not_evaluable": c.counts[2],
        })).collect::<Vec<_>>(),
    })
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Coverage as JSON (`--coverage --format json` prints it inside the results).
pub fn coverage_json(run: &TestRun) -> String {
    serde_json::to_string_pretty(&coverage_value(run)).unwrap_or_default() + "\n"
}

/// Coverage for people: totals, then every rule and check not seen both ways.
pub fn coverage_text(run: &TestRun) -> String {
    let mut out = String::new();
    let covered_rules = run.rules.iter().filter(|r| r.passed > 0 && r.fired > 0).count();
    let covered_checks = run.checks.iter().filter(|c| c.counts[0] > 0 && c.counts[1] > 0).count();
    let _ = writeln!(
        out,
        "coverage: rules {:.1}% ({covered_rules}/{}), checks {:.1}% ({covered_checks}/{})",
        run.rule_percent(),
        run.rules.len(),
        run.check_percent(),
        run.checks.len()
    );
    for r in run.rules.iter().filter(|r| r.passed == 0 || r.fired == 0) {
        let missing = if r.passed == 0 && r.fired == 0 {
            "never run"
        } else if r.fired == 0 {
            "never fired"
        } else {
            "never passed"
        };
        let _ = writeln!(out, "  rule  {}:{} {} — {missing}", r.file, r.line, r.id);
    }
    for c in run.checks.iter().filter(|c| c.counts[0] == 0 || c.counts[1] == 0) {
        let missing = match (c.counts[0], c.counts[1]) {
            (0, 0) => "never evaluated",
            (0, _) => "never held",
            _ => "never failed",
        };
        let _ = writeln!(
            out,
            "  check {}:{} {} {} `{}` — {missing}",
            c.file,
            c.line,
            c.rule,
            c.kind,
            truncate(&c.text, 60)
        );
    }
    out
}

/// Coverage in lcov's format: each rule a function (hit when it fired), each check a line and a branch
/// pair (held / did not hold).
pub fn lcov(run: &TestRun) -> String {
    let mut files: Vec<&str> =
        run.rules.iter().map(|r| r.file.as_str()).chain(run.checks.iter().map(|c| c.file.as_str())).collect();
    files.sort_unstable();
    files.dedup();
    let mut out = String::new();
    for file in files {
        let _ = writeln!(out, "TN:\nSF:{file}");
        let rules: Vec<_> = run.rules.iter().filter(|r| r.file == file).collect();
        for r in &rules {
            let _ = writeln!(out, "FN:{},{}", r.line, r.id);
        }
        for r in &rules {
            let _ = writeln!(out, "FNDA:{},{}", r.passed.saturating_add(r.fired), r.id);
        }
        let _ = writeln!(out, "FNF:{}\nFNH:{}", rules.len(), rules.iter().filter(|r| r.passed + r.fired > 0).count());
        let checks: Vec<_> = run.checks.iter().filter(|c| c.file == file).collect();
        for (i, c) in checks.iter().enumerate() {
            let taken = |n: u32| if c.counts.iter().all(|&x| x == 0) { "-".to_string() } else { n.to_string() };
            let _ = writeln!(
                out,
                "BRDA:{},{i},0,{}\nBRDA:{},{i},1,{}",
                c.line,
                taken(c.counts[0]),
                c.line,
                taken(c.counts[1])
            );
        }
        let hit = checks.iter().map(|c| usize::from(c.counts[0] > 0) + usize::from(c.counts[1] > 0)).sum::<usize>();
        let _ = writeln!(out, "BRF:{}\nBRH:{hit}", checks.len() * 2);
        let mut lines: Vec<(usize, u32)> = Vec::new();
        for c in &checks {
            let n = c.counts.iter().fold(0u32, |a, b| a.saturating_add(*b));
            match lines.iter_mut().find(|(l, _)| *l == c.line) {
                Some((_, total)) => *total = total.saturating_add(n),
                None => lines.push((c.line, n)),
            }
        }
        for (line, n) in &lines {
            let _ = writeln!(out, "DA:{line},{n}");
        }
        let _ = writeln!(out, "LF:{}\nLH:{}\nend_of_record", lines.len(), lines.iter().filter(|(_, n)| *n > 0).count());
    }
    out
}
