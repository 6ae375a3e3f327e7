//! Printing tokens in the canonical layout.
//!
//! The layout is a function of the tokens and of where the author broke lines, nothing else, so it is
//! idempotent by construction:
//! - every declaration, statement and `///` line starts a line; a body's `{` stays on its declaration's
//!   line and its `}` gets a line of its own;
//! - other line breaks are the author's (like gofmt, Vigil does not reflow expressions), with at most
//!   one blank line kept, none after a `{` or before a `}`;
//! - indentation is two spaces per body (counted from the statement that opens it, even when its `{`
//!   ends a continuation line); a statement's continuation lines get one more level; inside
//!   brackets left open at the end of a line, lines are indented one level past the line that opened the
//!   innermost one, and a line starting with its closing bracket goes back to that line's indentation;
//! - one space between tokens, none inside brackets, before `,` `:` `.` or a call's `(`, after `.` or
//!   unary `-`; a trailing `# comment` is kept after one space.

use super::tokens::{Kind, Token};

const INDENT: usize = 2;

/// An open bracket or body: the indentation of the line that opened it.
struct Open {
    line_indent: usize,
    block: bool,
}

/// The tokens printed in the canonical layout, ending with one line break.
pub(super) fn print(tokens: &[Token<'_>]) -> String {
    let mut out = String::with_capacity(tokens.iter().map(|t| t.text.len() + 2).sum());
    let mut stack: Vec<Open> = Vec::new();
    let mut line_indent = 0;
    // The indentation of the current statement's first line: a body's `{` may end a continuation line,
    // but the body is indented from the statement, not from that line.
    let mut statement_indent = 0;
    let mut previous: Option<&Token<'_>> = None;
    for (i, token) in tokens.iter().enumerate() {
        if let Some(prev) = previous {
            if breaks_before(prev, token) {
                let blank = token.newlines > 1
                    && prev.kind != Kind::BlockOpen
                    && token.kind != Kind::BlockClose
                    && !(token.kind == Kind::Comment
                        && next_code(tokens, i).is_some_and(|t| t.kind == Kind::BlockClose));
                out.push_str(if blank { "\n\n" } else { "\n" });
                line_indent = if token.kind == Kind::Comment {
                    // A comment sits where the code after it goes, inside the bracket or body it is in.
                    next_code(tokens, i).map_or(0, |next| indent(&stack, next, false))
                } else {
                    indent(&stack, token, true)
                };
                if token.starts_line {
                    statement_indent = line_indent;
                }
                out.extend(std::iter::repeat_n(' ', line_indent));
            } else if spaced(prev, token) {
                out.push(' ');
            }
        }
        out.push_str(token.text);
        match token.kind {
            Kind::Open { .. } => stack.push(Open { line_indent, block: false }),
            Kind::BlockOpen => stack.push(Open { line_indent: statement_indent, block: true }),
            Kind::Close | Kind::BlockClose => {
                stack.pop();
            }
            _ => {}
        }
        previous = Some(token);
    }
    out.push('\n');
    out
}

/// The next token that is not a comment.
fn next_code<'t, 's>(tokens: &'t [Token<'s>], from: usize) -> Option<&'t Token<'s>> {
    tokens[from..].iter().find(|t| t.kind != Kind::Comment)
}

/// Whether `token` starts a new line after `prev`.
fn breaks_before(prev: &Token<'_>, token: &Token<'_>) -> bool {
    if prev.kind == Kind::Comment {
        return true; // a comment runs to the end of its line
    }
    match token.kind {
        Kind::Comment => token.newlines > 0,
        Kind::Doc | Kind::BlockClose => true,
        Kind::BlockOpen => false,
        _ => token.starts_line || token.newlines > 0,
    }
}

/// The indentation of a line starting with `token`. `closing`: a closing bracket goes back to the opening
/// line's indentation (false for a comment before it, which stays inside).
fn indent(stack: &[Open], token: &Token<'_>, closing: bool) -> usize {
    let closes = closing && matches!(token.kind, Kind::Close | Kind::BlockClose);
    match stack.last() {
        Some(open) if closes => open.line_indent,
        Some(open) if open.block => {
            let statement = token.starts_line || matches!(token.kind, Kind::Doc | Kind::BlockClose);
            open.line_indent + INDENT + if statement { 0 } else { INDENT }
        }
        Some(open) => open.line_indent + INDENT,
        None if token.starts_line || token.kind == Kind::Doc => 0,
        None => INDENT,
    }
}

/// Whether one space separates two tokens on the same line.
fn spaced(prev: &Token<'_>, token: &Token<'_>) -> bool {
    if token.kind == Kind::Comment {
        return true;
    }
    if matches!(prev.kind, Kind::Open { .. } | Kind::Dot | Kind::Neg) {
        return false;
    }
    !matches!(token.kind, Kind::Close | Kind::Separator | Kind::Dot | Kind::Open { tight: true })
}
