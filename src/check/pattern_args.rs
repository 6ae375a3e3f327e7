//! Pattern arguments of builtins (`regex_match(s, pattern)`, `glob_match(s, pattern)`, ...), checked when the
//! policy is compiled.
//!
//! A literal pattern is compiled now, so an invalid one is a policy error at its span instead of a finding
//! on every document. And since these builtins once took the pattern first, a call written in that order
//! would quietly test the pattern against the data: when the text position holds a literal that reads as a
//! pattern (a regex literal, or a string with pattern syntax that compiles) and the pattern position holds
//! data, the call is refused as written backwards.

use super::Checker;
use crate::diagnostic::Code;
use crate::functions::{Function, PatternKind, validate_pattern};
use crate::syntax::ast::{self, ExprKind};

/// The text of a literal pattern argument: a string, or a regex literal with its flags inline.
fn literal(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Str(s) => Some(s.clone()),
        ExprKind::Regex { pattern, flags } if flags.is_empty() => Some(pattern.clone()),
        ExprKind::Regex { pattern, flags } => Some(format!("(?{flags}){pattern}")),
        _ => None,
    }
}

/// Whether `text` reads as a pattern of `kind` rather than as plain text: it uses the pattern syntax and
/// compiles.
fn looks_like_pattern(kind: PatternKind, name: &str, text: &str) -> bool {
    let syntax: &[char] = match kind {
        PatternKind::Regex => &['^', '$', '\\', '[', '(', '*', '+', '?', '{', '|'],
        PatternKind::Glob => &['*', '?', '[', '{'],
    };
    text.contains(syntax) && validate_pattern(kind, name, text).is_ok()
}

impl Checker<'_> {
    /// Validates a literal pattern argument of `function` and refuses calls written backwards.
    pub(super) fn check_pattern_args(&mut self, function: &Function, args: &[ast::Expr]) {
        let Some((at, kind)) = function.pattern() else { return };
        let name = function.name();
        let Some(pattern) = args.get(at) else { return };
        let what = if kind == PatternKind::Regex { "regular expression" } else { "glob" };
        match literal(pattern) {
            Some(text) => {
                // The bundled packs' patterns are built on first use, as their regex literals are (the test
                // suite builds every one): building them here, on every start, was a sixth of a cold check.
                // Only their syntax is checked.
                let bundled = self.lazy_regexes.get(self.source as usize).copied().unwrap_or(false);
                let checked = if bundled && kind == PatternKind::Regex {
                    regex_syntax::Parser::new().parse(&text).map(drop).map_err(|e| e.to_string())
                } else {
                    validate_pattern(kind, name, &text)
                };
                if let Err(e) = checked {
                    let code = if kind == PatternKind::Regex { Code::Regex } else { Code::Glob };
                    self.error(code, pattern.span, format!("invalid {what} in `{name}`")).help = Some(e);
                }
            }
            None => {
                let Some(subject) = args.first().filter(|_| at != 0) else { return };
                let backwards = match &subject.kind {
                    ExprKind::Regex { .. } => true,
                    ExprKind::Str(text) => looks_like_pattern(kind, name, text),
                    _ => false,
                };
                if backwards {
                    self.error(
                        Code::ArgumentOrder,
                        subject.span,
                        format!("this looks like a {what}, but `{name}` takes the text first"),
                    )
                    .help = Some(format!(
                        "usage: `{}`; swap the arguments (if this really is the text, bind it to a `const` first)",
                        usage(function)
                    ));
                }
            }
        }
    }
}

/// `regex_match(s, pattern)`: the call shape the function's description starts with.
fn usage(function: &Function) -> &str {
    let doc = function.description();
    doc.strip_prefix('`').and_then(|d| d.split_once('`')).map_or(function.name(), |(call, _)| call)
}
