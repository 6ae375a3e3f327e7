//! Findings grouped by document, then by rule: the rule's metadata once per group, each finding with its
//! message, position and the input lines the terminal view shows (one line of context either side), the
//! offending value highlighted.
//!
//! A report may hold 100,000 findings, so the page stays usable by construction: every document is a
//! `<details>` group (closed when the report is large), snippets are capped per rule and document and in
//! total, and long lines (minified JSON) are cut to a window around the value. Positions are computed with
//! one sweep per input text, never by rescanning a file per finding.

use std::collections::HashMap;
use std::sync::Arc;

use super::markup::Html;
use super::{badge, controls_list};
use crate::ir::Severity;
use crate::report::Report;
use crate::report::Reported;
use crate::source::Source;

/// Snippets shown for one rule in one document; later findings of the rule there list their position only.
pub const SNIPPETS_PER_RULE: usize = 10;
/// Snippets shown in the whole report.
pub const SNIPPET_BUDGET: usize = 2_000;
/// Characters of a line shown around a value; the rest of a long line is elided.
const LINE_WINDOW: usize = 160;
/// At most this many characters of the value itself are highlighted.
const VALUE_WINDOW: usize = 120;
/// Reports with more findings than this start with every document group closed.
pub const OPEN_LIMIT: usize = 200;

/// Where a finding points: 1-based line and column (characters), and the byte span.
#[derive(Clone, Copy)]
struct Pos {
    line: usize,
    column: usize,
    start: usize,
    end: usize,
}

/// Line starts of each input text, and the position of every finding, in one pass per text.
struct Positions {
    lines: HashMap<*const Source, Vec<usize>>,
    of: Vec<Option<Pos>>,
}

impl Positions {
    fn new(findings: &[Reported]) -> Positions {
        // Per input text: the text, and the `(start, end, finding index)` of each finding in it.
        type Spans = Vec<(usize, usize, usize)>;
        let mut by_source: HashMap<*const Source, (Arc<Source>, Spans)> = HashMap::new();
        for (i, f) in findings.iter().enumerate() {
            if let Some(span) = f.span() {
                let entry = by_source.entry(Arc::as_ptr(&f.source)).or_insert_with(|| (f.source.clone(), Vec::new()));
                entry.1.push((span.start as usize, span.end as usize, i));
            }
        }
        let mut of = vec![None; findings.len()];
        let mut lines = HashMap::new();
        for (key, (source, mut spans)) in by_source {
            let text = source.text();
            let starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
            spans.sort_unstable();
            // Columns are counted from the previous finding on the same line, so a long line is walked once.
            let mut last: Option<(usize, usize, usize)> = None; // (line, offset, column)
            for (start, end, i) in spans {
                let start = floor_boundary(text, start.min(text.len()));
                let end = floor_boundary(text, end.clamp(start, text.len()));
                let line = starts.partition_point(|&s| s <= start).saturating_sub(1);
                let column = match last {
                    Some((l, offset, column)) if l == line => column + text[offset..start].chars().count(),
                    _ => text[starts[line]..start].chars().count() + 1,
                };
                last = Some((line, start, column));
                of[i] = Some(Pos { line: line + 1, column, start, end });
            }
            lines.insert(key, starts);
        }
        Positions { lines, of }
    }
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The first `n` characters of `s`, and whether it was cut.
fn first_chars(s: &str, n: usize) -> (&str, bool) {
    match s.char_indices().nth(n) {
        Some((i, _)) => (&s[..i], true),
        None => (s, false),
    }
}

/// The last `n` characters of `s`, and whether it was cut.
fn last_chars(s: &str, n: usize) -> (&str, bool) {
    if n == 0 {
        return ("", !s.is_empty());
    }
    match s.char_indices().rev().nth(n - 1) {
        Some((i, _)) => (&s[i..], i > 0),
        None => (s, false),
    }
}

/// Line `line` (0-based) of `text` without its line break.
fn line_text<'t>(text: &'t str, starts: &[usize], line: usize) -> &'t str {
    let start = starts[line];
    let end = starts.get(line + 1).map_or(text.len(), |&next| next - 1);
    text[start..end.max(start)].trim_end_matches('\r')
}

/// The snippet: the line before, the value's line with the value in `<mark>`, the line after.
fn snippet(h: &mut Html, text: &str, starts: &[usize], pos: Pos) {
    h.raw("<pre class=\"snip\"><code>");
    let line = pos.line - 1;
    let number = |h: &mut Html, n: usize| {
        h.raw("<span class=\"ln\">").num(n as u64).raw("</span>");
    };
    if line > 0 {
        number(h, line);
        context(h, line_text(text, starts, line - 1));
    }
    number(h, pos.line);
    let line_start = starts[line];
    let line_end = line_start + line_text(text, starts, line).len();
    // A span may start on the line's `\r`, or run past the line: the mark stays within the shown line.
    let start = pos.start.clamp(line_start, line_end);
    let value_end = pos.end.clamp(start, line_end);
    let (before, cut_before) = last_chars(&text[line_start..start], LINE_WINDOW.saturating_sub(VALUE_WINDOW) / 2);
    let (value, cut_value) = first_chars(&text[start..value_end], VALUE_WINDOW);
    let (after, cut_after) = first_chars(&text[value_end..line_end], LINE_WINDOW.saturating_sub(before.len()));
    if cut_before {
        h.raw("<span class=\"cut\">…</span>");
    }
    h.text(before).raw("<mark>").text(value);
    if cut_value {
        h.raw("<span class=\"cut\">…</span>");
    }
    h.raw("</mark>").text(after);
    if cut_after {
        h.raw("<span class=\"cut\">…</span>");
    }
    h.raw("\n");
    if line + 1 < starts.len() && !(line + 2 == starts.len() && line_text(text, starts, line + 1).is_empty()) {
        number(h, pos.line + 1);
        context(h, line_text(text, starts, line + 1));
    }
    h.raw("</code></pre>");
}

fn context(h: &mut Html, line: &str) {
    let (shown, cut) = first_chars(line, LINE_WINDOW);
    h.text(shown);
    if cut {
        h.raw("<span class=\"cut\">…</span>");
    }
    h.raw("\n");
}

/// One document: `(file, document index)` and its findings, in report order.
struct Group<'r> {
    file: &'r str,
    document: usize,
    findings: Vec<usize>,
}

fn groups(report: &Report) -> Vec<Group<'_>> {
    let mut index: HashMap<(&str, usize), usize> = HashMap::new();
    let mut out: Vec<Group<'_>> = Vec::new();
    for (i, f) in report.findings.iter().enumerate() {
        let key = (f.file(), f.document);
        let g = *index.entry(key).or_insert_with(|| {
            out.push(Group { file: key.0, document: key.1, findings: Vec::new() });
            out.len() - 1
        });
        out[g].findings.push(i);
    }
    out
}

/// The findings section.
pub fn section(h: &mut Html, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    h.raw("<section id=\"findings\"><h2>Findings by document</h2>");
    if report.findings.is_empty() {
        h.raw("<p class=\"muted\">No findings.</p></section>");
        return Ok(());
    }
    let groups = groups(report);
    let open = report.findings.len() <= OPEN_LIMIT;
    h.raw("<p class=\"muted\">").count(report.findings.len()).raw(" findings in ");
    h.count(groups.len()).raw(" documents, most severe first within each document.");
    if !open {
        h.raw(" Groups start closed; open one to read it.");
    }
    h.raw(" Snippets are shown for the first ").count(SNIPPETS_PER_RULE);
    h.raw(" findings of each rule in a document, ").count(SNIPPET_BUDGET).raw(" in all.</p>");
    h.raw("<div class=\"tools\" hidden><label>Filter documents <input type=\"search\" id=\"doc-filter\" placeholder=\"path contains…\"></label> <button type=\"button\" id=\"expand\">Open all</button> <button type=\"button\" id=\"collapse\">Close all</button></div>");
    let positions = Positions::new(&report.findings);
    let mut budget = SNIPPET_BUDGET;
    // Files of several documents (multi-document YAML) say which document a group is.
    let several: std::collections::HashSet<&str> =
        report.findings.iter().filter(|f| f.document > 0).map(|f| f.file()).collect();
    for g in &groups {
        document(h, report, g, several.contains(g.file), open, &positions, &mut budget);
        h.spill(out)?;
    }
    h.raw("</section>");
    Ok(())
}

fn document(
    h: &mut Html,
    report: &Report,
    g: &Group<'_>,
    numbered: bool,
    open: bool,
    pos: &Positions,
    budget: &mut usize,
) {
    let findings: Vec<&Reported> = g.findings.iter().map(|&i| &report.findings[i]).collect();
    let first = findings[0];
    h.raw("<details class=\"doc\"").attr("data-path", g.file);
    if open {
        h.raw(" open");
    }
    h.raw("><summary><span class=\"path\">").text(g.file).raw("</span>");
    if numbered {
        h.raw(" <span class=\"muted\">document ").num(g.document as u64 + 1).raw("</span>");
    }
    h.raw(" <span class=\"kind\">").text(first.kind.name()).raw("</span><span class=\"counts\">");
    for s in Severity::ALL.iter().rev() {
        let count = findings.iter().filter(|f| f.severity == *s).count();
        if count > 0 {
            badge(h, *s);
            h.raw("<span class=\"count\">×").count(count).raw("</span> ");
        }
    }
    let waived = findings.iter().filter(|f| f.waived()).count();
    if waived > 0 {
        h.raw("<span class=\"tag waived\">").num(waived as u64).raw(" waived</span>");
    }
    h.raw("</span></summary>");
    // Rules, most severe first, then by id; findings of a rule in input order.
    let mut rules: Vec<(&str, Severity, Vec<usize>)> = Vec::new();
    for &i in &g.findings {
        let f = &report.findings[i];
        match rules.iter_mut().find(|(id, s, _)| *id == f.rule.id && *s == f.severity) {
            Some(entry) => entry.2.push(i),
            None => rules.push((&f.rule.id, f.severity, vec![i])),
        }
    }
    rules.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    for (_, severity, items) in rules {
        rule_block(h, report, severity, &items, pos, budget);
    }
    h.raw("</details>");
}

fn rule_block(h: &mut Html, report: &Report, severity: Severity, items: &[usize], pos: &Positions, budget: &mut usize) {
    let rule = &report.findings[items[0]].rule;
    h.raw("<article class=\"rule sev-").raw(severity.name()).raw("\"><h4>");
    badge(h, severity);
    h.raw(" <code class=\"rid\">").text(&rule.id).raw("</code> ").text(&rule.title).raw("</h4>");
    if !rule.controls.is_empty() {
        h.raw("<p class=\"controls\">Controls: ");
        controls_list(h, &rule.controls);
        h.raw("</p>");
    }
    if let Some(fix) = &rule.remediation {
        h.raw("<p class=\"fix\"><strong>Remediation:</strong> ").text(fix);
        more(h, rule.url.as_deref());
        h.raw("</p>");
    } else if rule.url.is_some() {
        h.raw("<p class=\"fix\">");
        more(h, rule.url.as_deref());
        h.raw("</p>");
    }
    h.raw("<ol class=\"items\">");
    for (k, &i) in items.iter().enumerate() {
        let f = &report.findings[i];
        let at = pos.of[i];
        h.raw("<li><p class=\"msg\">");
        if let Some(p) = at {
            h.raw("<span class=\"loc\">line ").num(p.line as u64).raw(", column ").num(p.column as u64).raw("</span> ");
        }
        h.text(&f.message);
        if !f.pointer().is_empty() {
            h.raw(" <code class=\"ptr\">").text(f.pointer()).raw("</code>");
        }
        h.raw(" <span class=\"cause\">").text(f.cause.name()).raw("</span>");
        if let Some(m) = f.waiver() {
            let (class, label) =
                if m.expired { ("tag expired", "waiver expired ") } else { ("tag waived", "waived until ") };
            h.raw(" <span class=\"").raw(class).raw("\">").raw(label).text(&m.waiver.expires).raw("</span>");
        }
        h.raw("</p>");
        if let (Some(p), Some(starts)) = (at, pos.lines.get(&Arc::as_ptr(&f.source)))
            && k < SNIPPETS_PER_RULE
            && *budget > 0
        {
            *budget -= 1;
            snippet(h, f.source.text(), starts, p);
        }
        h.raw("</li>");
    }
    h.raw("</ol></article>");
}

/// The rule's documentation as a plain link, only for an http(s) URL: a `javascript:` or `data:` URL from a
/// policy is never made clickable (it is left out; the policy file still has it).
fn more(h: &mut Html, url: Option<&str>) {
    let Some(url) = url.and_then(|u| url::Url::parse(u).ok()) else { return };
    if matches!(url.scheme(), "https" | "http") {
        h.raw(" <a rel=\"noopener noreferrer\"").attr("href", url.as_str()).raw(">Rule documentation</a>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str, start: usize, end: usize) -> String {
        let starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        let line = starts.partition_point(|&s| s <= start) - 1;
        let mut h = Html::default();
        snippet(&mut h, text, &starts, Pos { line: line + 1, column: 0, start, end });
        h.finish()
    }

    #[test]
    fn snippets_show_a_line_of_context_either_side_and_mark_the_value() {
        let text = "a: 1\nb: <x>\nc: 3\nd: 4\n";
        let out = render(text, 8, 11);
        assert_eq!(
            out,
            "<pre class=\"snip\"><code><span class=\"ln\">1</span>a: 1\n<span class=\"ln\">2</span>b: \
             <mark>&lt;x&gt;</mark>\n<span class=\"ln\">3</span>c: 3\n</code></pre>"
        );
        // First and last lines: no line beyond the text, no empty line for the final newline.
        assert!(!render(text, 0, 1).contains(">0</span>"));
        assert!(!render(text, 18, 19).contains(">5</span>"));
    }

    #[test]
    fn crlf_lines_and_spans_at_line_ends_stay_within_the_line() {
        let text = "a: 1\r\nb: x\r\nc: 3\r\n";
        assert_eq!(
            render(text, 9, 10),
            "<pre class=\"snip\"><code><span class=\"ln\">1</span>a: 1\n<span class=\"ln\">2</span>b: \
             <mark>x</mark>\n<span class=\"ln\">3</span>c: 3\n</code></pre>"
        );
        // A span on the `\r`, and one running past the end of its line, never panic or leave the line.
        assert!(render(text, 10, 11).contains("b: x<mark></mark>\n"));
        assert!(render(text, 11, 12).contains("b: x<mark></mark>\n"));
        assert!(render(text, 9, 16).contains("<mark>x</mark>\n"));
        assert!(render("x", 1, 1).contains("x<mark></mark>"));
    }

    #[test]
    fn long_lines_are_cut_to_a_window_around_the_value() {
        let long = format!(
            "{{\"pad\": \"{}\", \"key\": \"VALUE\", \"tail\": \"{}\"}}",
            "é".repeat(50_000),
            "z".repeat(50_000)
        );
        let start = long.find("VALUE").expect("value");
        let out = render(&long, start, start + 5);
        assert!(out.len() < 1_000, "{} bytes", out.len());
        assert!(out.contains("<mark>VALUE</mark>"));
        assert_eq!(out.matches('…').count(), 2);
        // A value longer than the window is cut inside the mark.
        let out = render(&long, 9, long.len() - 2);
        assert!(out.len() < 1_000 && out.contains("…</span></mark>"), "{out}");
    }

    #[test]
    fn columns_count_characters_and_positions_are_found_for_every_finding() {
        assert_eq!(first_chars("héllo", 2), ("hé", true));
        assert_eq!(first_chars("hé", 2), ("hé", false));
        assert_eq!(last_chars("héllo", 4), ("éllo", true));
        assert_eq!(last_chars("hé", 5), ("hé", false));
        assert_eq!(last_chars("hé", 0), ("", true));
        assert_eq!(floor_boundary("é", 1), 0);
    }
}
