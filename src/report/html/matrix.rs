//! The compliance matrix: for each control of each framework, the loaded rules that map to it and how they
//! fared on this run, counted per rule and document (a "check"): passed, failed, or failed but waived.
//!
//! A check applies when the rule is for the document's kind. A rule's `when` may still leave a document
//! alone, which the report cannot see, so "passed" means "raised no finding" — evidence for a reviewer,
//! not a conformity assessment, and the page says so. A run with unreadable inputs never shows a control as
//! passed: what was not read may hold anything.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::controls::{FRAMEWORKS, Framework};
use super::markup::Html;
use crate::ir::RuleInfo;
use crate::report::Report;

/// How one rule fared, in documents.
#[derive(Clone, Copy, Default)]
struct RuleRun {
    checks: usize,
    failed: usize,
    waived: usize,
}

/// A control's row.
#[derive(Default)]
struct Row<'a> {
    rules: Vec<(&'a RuleInfo, RuleRun)>,
    /// Control ids the rules cite under this row (NIST subcategories), for the name cell.
    cited: Vec<&'a str>,
    checks: usize,
    failed: usize,
    waived: usize,
}

impl Row<'_> {
    fn passed(&self) -> usize {
        self.checks.saturating_sub(self.failed + self.waived)
    }
}

/// The verdict of a row, with its text (never colour alone).
fn status(row: &Row<'_>, incomplete: bool) -> (&'static str, &'static str) {
    if row.rules.is_empty() {
        ("none", "— No rule")
    } else if row.failed > 0 {
        ("fail", "✖ Failed")
    } else if incomplete {
        ("incomplete", "? Incomplete")
    } else if row.checks == 0 {
        ("unchecked", "○ Not checked")
    } else if row.waived > 0 {
        ("waived", "◐ Waived")
    } else {
        ("pass", "✔ Passed")
    }
}

fn runs<'a>(report: &'a Report, rules: &[&'a RuleInfo]) -> HashMap<&'a str, RuleRun> {
    // Documents per (rule, file, document): failed if some finding is not waived, else waived.
    let mut docs: HashMap<(&str, &str, usize), bool> = HashMap::new();
    for f in &report.findings {
        let failed = docs.entry((&f.rule.id, f.file(), f.document)).or_insert(false);
        *failed |= !f.waived();
    }
    let mut out: HashMap<&str, RuleRun> = HashMap::new();
    for r in rules {
        let checks = report.kinds.iter().filter(|(k, _)| r.kinds.iter().any(|rk| rk.covers(**k))).map(|(_, n)| n).sum();
        out.insert(&r.id, RuleRun { checks, ..RuleRun::default() });
    }
    for ((rule, _, _), failed) in docs {
        let run = out.entry(rule).or_default();
        if failed {
            run.failed += 1;
        } else {
            run.waived += 1;
        }
    }
    out
}

fn add<'a>(row: &mut Row<'a>, rule: &'a RuleInfo, cited: &'a str, run: RuleRun) {
    if !row.cited.contains(&cited) {
        row.cited.push(cited);
    }
    if row.rules.iter().any(|(r, _)| r.id == rule.id) {
        return;
    }
    row.rules.push((rule, run));
    row.checks += run.checks.max(run.failed + run.waived);
    row.failed += run.failed;
    row.waived += run.waived;
}

/// The matrix of a run: one row per catalogued control of each framework, and rows for the controls the
/// rules cite outside the catalogue.
pub struct Matrix<'a> {
    frameworks: Vec<(&'static Framework, Vec<Row<'a>>)>,
    other: BTreeMap<&'a str, Row<'a>>,
    incomplete: bool,
}

impl<'a> Matrix<'a> {
    /// Maps every rule's controls onto the catalogue and counts the run's checks.
    pub fn new(report: &'a Report, rules: &[&'a RuleInfo]) -> Matrix<'a> {
        let runs = runs(report, rules);
        let run = |rule: &RuleInfo| runs.get(rule.id.as_str()).copied().unwrap_or_default();
        let mut claimed: HashSet<&str> = HashSet::new();
        let mut frameworks = Vec::new();
        for framework in &FRAMEWORKS {
            let mut rows: Vec<Row<'a>> = framework.controls.iter().map(|_| Row::default()).collect();
            for rule in rules {
                for cited in &rule.controls {
                    if let Some(i) = framework.controls.iter().position(|(id, _)| framework.matches(id, cited)) {
                        claimed.insert(cited);
                        add(&mut rows[i], rule, cited, run(rule));
                    }
                }
            }
            frameworks.push((framework, rows));
        }
        // Controls the rules cite that the catalogue does not know: shown, not dropped.
        let mut other: BTreeMap<&'a str, Row<'a>> = BTreeMap::new();
        for rule in rules {
            for cited in rule.controls.iter().filter(|c| !claimed.contains(c.as_str())) {
                add(other.entry(cited).or_default(), rule, cited, run(rule));
            }
        }
        Matrix { frameworks, other, incomplete: !report.errors.is_empty() || report.documents() == 0 }
    }

    /// The matrix at a glance, for the summary: per framework, controls covered and failed.
    pub fn glance(&self, h: &mut Html) {
        h.raw(
            "<table class=\"glance\"><caption>Compliance at a glance</caption><thead><tr><th scope=\"col\">\
               Framework</th><th scope=\"col\" class=\"n\">Controls with a rule</th><th scope=\"col\" class=\"n\">\
               Failed</th><th scope=\"col\" class=\"n\">No rule</th></tr></thead><tbody>",
        );
        for (framework, rows) in &self.frameworks {
            let covered = rows.iter().filter(|r| !r.rules.is_empty()).count();
            let failed = rows.iter().filter(|r| r.failed > 0).count();
            h.raw("<tr><th scope=\"row\">").raw(framework.name).raw("</th><td class=\"n\">").num(covered as u64);
            h.raw(" of ").num(rows.len() as u64).raw("</td><td class=\"n\">");
            if failed > 0 {
                h.raw("<span class=\"status st-fail\">✖ ").num(failed as u64).raw("</span>");
            } else {
                h.raw("0");
            }
            h.raw("</td><td class=\"n\">").num((rows.len() - covered) as u64).raw("</td></tr>");
        }
        h.raw("</tbody></table>");
    }

    /// The compliance section.
    pub fn section(&self, h: &mut Html, bundled: &HashSet<&str>) {
        h.raw(
            "<section id=\"compliance\"><h2>Compliance matrix</h2><p class=\"note\">Each row lists the loaded rules \
               mapped to a control and how they fared on this run, counted in checks (one rule on one document it \
               applies to); rules marked ✖ failed on some document. <em>Passed</em> means the mapped automated \
               checks raised no finding: evidence for a review, not a conformity assessment. <em>No rule</em> means \
               nothing here checks the control.",
        );
        if self.incomplete {
            h.raw(
                " <strong>This run is incomplete (an input could not be read, or nothing was checked), so no \
                   control is shown as passed.</strong>",
            );
        }
        h.raw("</p>");
        for (framework, rows) in &self.frameworks {
            table(h, framework, rows, self.incomplete, bundled);
        }
        if !self.other.is_empty() {
            h.raw("<details class=\"other\"><summary><h3>Other controls cited by the rules (");
            h.num(self.other.len() as u64).raw(
                ")</h3></summary><p class=\"note\">Controls outside the frameworks \
                   above (ISO/IEC 42001, internal standards), as the rules name them.</p>",
            );
            head(h);
            for (id, row) in &self.other {
                row_html(h, id, None, row, self.incomplete, bundled);
            }
            h.raw("</tbody></table></div></details>");
        }
        h.raw("</section>");
    }
}

fn head(h: &mut Html) {
    h.raw(
        "<div class=\"scroll\"><table class=\"matrix sortable\"><thead><tr><th scope=\"col\">Control</th>\
           <th scope=\"col\">Name</th><th scope=\"col\">Rules</th><th scope=\"col\" class=\"n\">Checks</th>\
           <th scope=\"col\" class=\"n\">Passed</th><th scope=\"col\" class=\"n\">Failed</th>\
           <th scope=\"col\" class=\"n\">Waived</th><th scope=\"col\">Status</th></tr></thead><tbody>",
    );
}

fn table(h: &mut Html, framework: &Framework, rows: &[Row<'_>], incomplete: bool, bundled: &HashSet<&str>) {
    let covered = rows.iter().filter(|r| !r.rules.is_empty()).count();
    let failed = rows.iter().filter(|r| r.failed > 0).count();
    h.raw("<h3>").raw(framework.name).raw("</h3><p class=\"note\">").raw(framework.note).raw(" ");
    h.num(covered as u64).raw(" of ").num(rows.len() as u64).raw(" controls have a rule; ");
    h.num(failed as u64).raw(if failed == 1 { " has" } else { " have" }).raw(" failed checks.</p>");
    head(h);
    for ((id, name), row) in framework.controls.iter().zip(rows) {
        let shown = if framework.by_prefix { id.trim_start_matches("NIST-AI-RMF-") } else { id };
        row_html(h, shown, Some((name, framework.by_prefix)), row, incomplete, bundled);
    }
    h.raw("</tbody></table></div>");
}

/// Rule ids shown in a cell before the rest fold away.
const RULES_SHOWN: usize = 6;

fn row_html(
    h: &mut Html,
    id: &str,
    name: Option<(&str, bool)>,
    row: &Row<'_>,
    incomplete: bool,
    bundled: &HashSet<&str>,
) {
    let (class, label) = status(row, incomplete);
    h.raw("<tr class=\"st-").raw(class).raw("\"><th scope=\"row\"><code>").text(id).raw("</code></th><td>");
    match name {
        Some((name, by_prefix)) => {
            h.text(name);
            if by_prefix && !row.cited.is_empty() {
                h.raw("<br><span class=\"muted\">cited: ");
                let mut cited: Vec<&str> = row.cited.iter().map(|c| c.trim_start_matches("NIST-AI-RMF-")).collect();
                cited.sort_by(|a, b| natural(a).cmp(&natural(b)));
                h.text(&cited.join(", ")).raw("</span>");
            }
        }
        None => {
            h.raw("<span class=\"muted\">not in the catalogue</span>");
        }
    }
    h.raw("</td><td class=\"rules\">");
    let rule = |h: &mut Html, (r, run): &(&RuleInfo, RuleRun)| {
        h.raw("<code").attr("title", &r.title);
        h.raw(if run.failed > 0 { " class=\"failed\">✖\u{a0}" } else { ">" }).text(&r.id).raw("</code>");
        if !bundled.contains(r.file.as_str()) {
            h.raw("<span class=\"tag\">user</span>");
        }
        h.raw(" ");
    };
    // Failed rules first: they are what a reviewer looks for.
    let mut rules: Vec<&(&RuleInfo, RuleRun)> = row.rules.iter().collect();
    rules.sort_by_key(|(_, run)| run.failed == 0);
    for r in rules.iter().take(RULES_SHOWN) {
        rule(h, r);
    }
    if row.rules.len() > RULES_SHOWN {
        h.raw("<details class=\"more\"><summary>").num((row.rules.len() - RULES_SHOWN) as u64).raw(" more</summary>");
        for r in &rules[RULES_SHOWN..] {
            rule(h, r);
        }
        h.raw("</details>");
    }
    h.raw("</td>");
    for n in [row.checks, row.passed(), row.failed, row.waived] {
        if row.rules.is_empty() {
            h.raw("<td class=\"n\">–</td>");
        } else {
            h.raw("<td class=\"n\">").num(n as u64).raw("</td>");
        }
    }
    h.raw("<td><span class=\"status st-").raw(class).raw("\">").raw(label).raw("</span></td></tr>");
}

/// A sort key that orders `MEASURE-2.10` after `MEASURE-2.7`.
fn natural(id: &str) -> Vec<Result<u64, &str>> {
    id.split(['-', '.']).map(|part| part.parse::<u64>().map_err(|_| part)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_say_it_in_words_and_incomplete_runs_never_pass() {
        let rule = RuleInfo {
            id: "X".into(),
            title: String::new(),
            description: String::new(),
            severity: crate::ir::Severity::High,
            kinds: vec![],
            controls: vec![],
            remediation: None,
            tags: vec![],
            url: None,
            package: String::new(),
            file: String::new(),
            line: 0,
            plugins: vec![],
        };
        let row = |checks, failed, waived| Row {
            rules: vec![(&rule, RuleRun::default())],
            cited: vec![],
            checks,
            failed,
            waived,
        };
        assert_eq!(status(&Row::default(), false).1, "— No rule");
        assert_eq!(status(&row(3, 0, 0), false).1, "✔ Passed");
        assert_eq!(status(&row(3, 0, 0), true).1, "? Incomplete");
        assert_eq!(status(&row(3, 1, 1), true).1, "✖ Failed");
        assert_eq!(status(&row(3, 0, 1), false).1, "◐ Waived");
        assert_eq!(status(&row(0, 0, 0), false).1, "○ Not checked");
        assert_eq!(row(3, 1, 1).passed(), 1);
        let mut ids = vec!["MEASURE-2.10", "MEASURE-2.7", "MAP-1.1"];
        ids.sort_by(|a, b| natural(a).cmp(&natural(b)));
        assert_eq!(ids, ["MAP-1.1", "MEASURE-2.7", "MEASURE-2.10"]);
    }
}
