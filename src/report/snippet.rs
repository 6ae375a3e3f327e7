//! The human report's common case drawn directly: a diagnostic with at most one label, on one line of its
//! source, without colour, comes out byte for byte as miette's graphical handler (the unicode theme, as
//! [`super::human::Style`] configures it) would draw it, at a fraction of the cost.
//!
//! Why: on a run with thousands of findings miette's drawing cost about as much as evaluating the rules
//! (≈ 55,000 instructions a finding: each line re-decoded character by character, every piece of the frame
//! formatted through a style, the heading word-wrapped with textwrap even when it fits). Here the frame is
//! pushed as text, widths are byte counts (the labelled line must be printable ASCII), and textwrap runs
//! only for a text that does not fit on one line, with miette's options, so wrapped text is textwrap's own.
//! Anything else (colour, several labels, a span over lines, tabs, wide characters, related diagnostics,
//! a cause chain, a link) returns `None` and miette draws it. The tests below hold both to the same
//! output on generated diagnostics.

use std::fmt::Write as _;

use miette::{Diagnostic, Severity, SourceSpan};

/// Context lines shown above and below a label, as [`super::human::Style`] asks miette for.
pub(super) const CONTEXT_LINES: usize = 1;

/// `diagnostic` drawn as miette's graphical handler draws it at `width` columns without colour, or `None`
/// when it is not the simple shape this handles.
pub(super) fn draw(diagnostic: &dyn Diagnostic, width: usize) -> Option<String> {
    if diagnostic.related().is_some()
        || diagnostic.url().is_some()
        || diagnostic.source().is_some()
        || diagnostic.diagnostic_source().is_some()
    {
        return None;
    }
    let mut labels = diagnostic.labels().into_iter().flatten();
    let label = labels.next();
    if labels.next().is_some() {
        return None;
    }
    let mut out = String::with_capacity(512);
    if let Some(code) = diagnostic.code() {
        let _ = write!(out, "{code}\n\n");
    }
    let icon = match diagnostic.severity() {
        Some(Severity::Error) | None => "  × ",
        Some(Severity::Warning) => "  ⚠ ",
        Some(Severity::Advice) => "  ☞ ",
    };
    let text_width = width.saturating_sub(2);
    wrap(&mut out, &diagnostic.to_string(), icon, "  │ ", text_width);
    if let (Some(source), Some(label)) = (diagnostic.source_code(), label) {
        snippet(&mut out, source, *label.inner(), label.label())?;
    }
    if let Some(help) = diagnostic.help() {
        wrap(&mut out, &help.to_string(), "  help: ", "        ", text_width);
    }
    Some(out)
}

/// Appends `text` as miette's `wrap` does (`textwrap::fill` with these indents), then a line break. Text that
/// fits is not handed to textwrap: printable ASCII without leading or trailing spaces comes out of textwrap
/// unchanged when it fits, after the first indent.
fn wrap(out: &mut String, text: &str, first: &str, rest: &str, width: usize) {
    let plain =
        text.bytes().all(|b| b.is_ascii_graphic() || b == b' ') && !text.starts_with(' ') && !text.ends_with(' ');
    if plain && textwrap::core::display_width(first) + text.len() <= width {
        out.push_str(first);
        out.push_str(text);
    } else {
        let options = textwrap::Options::new(width).initial_indent(first).subsequent_indent(rest).break_words(true);
        out.push_str(&textwrap::fill(text, options));
    }
    out.push('\n');
}

/// One line of the shown context, as miette's `get_lines` cuts it.
struct Line<'a> {
    number: usize,
    offset: usize,
    /// Where the next line starts (after this one's break).
    end: usize,
    /// The line without its break.
    text: &'a str,
}

/// The framed snippet for one label, or `None` when the label does not sit on one line of printable ASCII
/// (or the source cannot give its text: miette says so in its own words).
fn snippet(out: &mut String, source: &dyn miette::SourceCode, span: SourceSpan, label: Option<&str>) -> Option<()> {
    if label.is_some_and(|l| l.contains('\n')) {
        return None;
    }
    let contents = source.read_span(&span, CONTEXT_LINES, CONTEXT_LINES).ok()?;
    let context = String::from_utf8_lossy(contents.data());
    let lines = lines(&context, contents.line(), contents.span().offset());
    if lines.iter().any(|l| l.text.bytes().any(|b| b == b'\t' || b == 0x1b)) {
        return None;
    }
    let linum_width = digits(lines.last().map_or(0, |l| l.number));
    let primary = source.read_span(&span, 0, 0).ok()?;
    spaces(out, linum_width + 2);
    let _ = match primary.name() {
        Some(name) => writeln!(out, "╭─[{name}:{}:{}]", primary.line() + 1, primary.column() + 1),
        None if lines.len() > 1 => writeln!(out, "╭─[{}:{}]", primary.line() + 1, primary.column() + 1),
        None => writeln!(out, "╭────"),
    };
    let (start, len) = (span.offset(), span.len());
    let reach = len.max(1);
    for line in &lines {
        out.push(' ');
        spaces(out, linum_width - digits(line.number));
        let _ = write!(out, "{}", line.number);
        out.push_str(" │ ");
        out.push_str(line.text);
        out.push('\n');
        let end = line.end;
        let applies = (start >= line.offset && start < end)
            || (start < line.offset && start + reach > end)
            || (start + reach > line.offset && start + reach <= end);
        if !applies {
            continue;
        }
        let line_only = start >= line.offset && start + len <= end;
        if !line_only || !line.text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
            return None;
        }
        // Columns are bytes on a printable ASCII line; a span reaching past the text ends one column after it.
        let column = |at: usize| {
            let i = at - line.offset;
            i.min(line.text.len()) + usize::from(i > line.text.len())
        };
        let from = column(start);
        let to = if len == 0 { from + 1 } else { column(start + len).max(from + 1) };
        let middle = (from + to) / 2;
        let mark = match (len, label) {
            (0, _) => "▲",
            (_, Some(_)) => "┬",
            (_, None) => "─",
        };
        no_number(out, linum_width);
        spaces(out, from);
        bars(out, middle - from);
        out.push_str(mark);
        bars(out, to - middle - 1);
        out.push('\n');
        if let Some(label) = label {
            no_number(out, linum_width);
            spaces(out, middle);
            out.push_str("╰── ");
            out.push_str(label);
            out.push('\n');
        }
    }
    spaces(out, linum_width + 2);
    out.push_str("╰────\n");
    Some(())
}

/// The context cut into lines exactly as miette's `GraphicalReportHandler::get_lines` does: a `\n` or `\r\n`
/// ends a line, a lone `\r` stays in it, numbers are 1-based.
fn lines(context: &str, first_line: usize, first_offset: usize) -> Vec<Line<'_>> {
    let mut lines = Vec::with_capacity(2 * CONTEXT_LINES + 1);
    let mut number = first_line;
    let mut at = 0;
    while at < context.len() {
        let (text_end, next) = match context[at..].find('\n') {
            Some(i) if context[..at + i].ends_with('\r') => (at + i - 1, at + i + 1),
            Some(i) => (at + i, at + i + 1),
            None => (context.len(), context.len()),
        };
        number += 1;
        lines.push(Line { number, offset: first_offset + at, end: first_offset + next, text: &context[at..text_end] });
        at = next;
    }
    lines
}

fn digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// The gutter of a line without a number: ` {n spaces} · `.
fn no_number(out: &mut String, linum_width: usize) {
    out.push(' ');
    spaces(out, linum_width);
    out.push_str(" · ");
}

fn spaces(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn bars(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n('─', n));
}

#[cfg(test)]
#[path = "snippet_tests.rs"]
mod tests;
