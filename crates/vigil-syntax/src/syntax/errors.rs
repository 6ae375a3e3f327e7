//! Parse errors in plain words: pest reports which grammar rules and tokens it expected at the furthest
//! point it reached; this turns that into "expected `=`, found `1`", with a span and, for a misspelt
//! statement keyword, a suggestion.

use std::sync::Arc;

use super::parse::Rule;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{Source, Span};

/// What a grammar rule is called in an error message. Exhaustive on purpose: a new rule needs a name.
fn describe(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::file => "a policy file",
        Rule::package_decl | Rule::kw_package => "`package`",
        Rule::package_name => "a package name",
        Rule::docs | Rule::doc_line => "a `///` doc comment",
        Rule::const_decl | Rule::kw_const => "`const`",
        Rule::param_decl | Rule::kw_param => "`param`",
        Rule::fn_decl | Rule::kw_fn => "`fn`",
        Rule::fn_params => "parameter names",
        Rule::rule_decl | Rule::kw_rule => "`rule`",
        Rule::meta_stmt => "a metadata field such as `title = \"...\"`",
        Rule::let_stmt | Rule::kw_let => "`let`",
        Rule::when_stmt | Rule::kw_when => "`when`",
        Rule::require_stmt | Rule::kw_require => "`require`",
        Rule::forbid_stmt | Rule::kw_forbid => "`forbid`",
        Rule::else_clause | Rule::kw_else => "`else`",
        Rule::at_clause | Rule::kw_at => "`at`",
        Rule::for_stmt | Rule::kw_for => "`for`",
        Rule::block => "a `{ ... }` block",
        Rule::binding => "a binding such as `x in xs`",
        Rule::kw_in => "`in`",
        Rule::kw_where => "`where`",
        Rule::kw_not => "`not`",
        Rule::kw_if => "`if`",
        Rule::kw_then => "`then`",
        Rule::import_decl | Rule::kw_import => "`import`",
        Rule::kw_plugin => "`plugin`",
        Rule::kw_as => "`as`",
        Rule::kw_sha256 => "`sha256`",
        Rule::plugin_function => "`.function`",
        Rule::expr
        | Rule::op_neg
        | Rule::op_not
        | Rule::if_expr
        | Rule::quantifier
        | Rule::quantifier_kind
        | Rule::list
        | Rule::object
        | Rule::call
        | Rule::null
        | Rule::boolean
        | Rule::number
        | Rule::regex => "an expression",
        Rule::op_or
        | Rule::op_and
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_le
        | Rule::op_lt
        | Rule::op_ge
        | Rule::op_gt
        | Rule::op_not_in
        | Rule::op_in
        | Rule::op_matches
        | Rule::op_default
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div
        | Rule::op_rem => "an operator",
        Rule::comprehension => "`for`",
        Rule::array_rest => "`,` or `]`",
        Rule::arguments => "`(`",
        Rule::field => "`.field`",
        Rule::index => "`[index]`",
        Rule::object_entry => "an entry such as `key: value`",
        Rule::string | Rule::string_text => "a string",
        Rule::escape => "an escape such as `\\n`",
        Rule::template | Rule::template_text => "a message string",
        Rule::interpolation => "`{expression}`",
        Rule::regex_body => "a regular expression",
        Rule::regex_flags => "regex flags",
        Rule::ident | Rule::member_name => "a name",
        Rule::item => "a declaration (`const`, `param`, `fn`, `rule` or `import`)",
        Rule::stmt => "a statement",
        Rule::prefix | Rule::primary => "an expression",
        Rule::infix => "an operator",
        Rule::postfix => "`.field` or `[index]`",
        Rule::ident_start | Rule::ident_char => "a name",
        Rule::WHITESPACE | Rule::COMMENT => "whitespace",
    }
}

/// Tokens that can start an expression: listed one by one they only bury "an expression".
const EXPRESSION_STARTS: &[&str] = &[
    "`\"`", "`(`", "`-`", "`/`", "`[`", "`{`", "`all`", "`any`", "`none`", "`count`", "`false`", "`true`", "`null`",
    "`if`", "`not`",
];

/// Statement keywords, to catch `requir x` (which otherwise reads as a metadata field missing its `=`).
const STATEMENT_KEYWORDS: &[&str] = &["require", "forbid", "when", "let", "for"];

/// A pest error in plain words: "expected `=`, found `1`".
pub(super) fn syntax_error(source: &Arc<Source>, e: &pest::error::Error<Rule>) -> Diagnostic {
    let text = source.text();
    let mut pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<String> = Vec::new();
    if let Some(attempts) = e.parse_attempts() {
        pos = pos.max(attempts.max_position);
        for stack in attempts.call_stacks() {
            // A failed token is listed below by its text; only failed rules need a name here.
            let rule = stack.deepest.get_rule().copied();
            if let Some(rule) =
                rule.filter(|r| !matches!(r, Rule::WHITESPACE | Rule::COMMENT | Rule::ident_start | Rule::ident_char))
            {
                expected.push(describe(rule).to_string());
            }
        }
        let has_expression = expected.iter().any(|x| x == "an expression");
        for token in attempts.expected_tokens() {
            // Literal tokens only; character ranges and built-ins say nothing a reader can use.
            let token = format!("`{token}`");
            let noise = token.trim_matches('`').trim().is_empty()
                || token.contains("..")
                || matches!(token.as_str(), "`BUILTIN_RULE`" | "`#`" | "`_`" | "`///`");
            let buried = has_expression && EXPRESSION_STARTS.contains(&token.as_str());
            if !(noise || buried) {
                expected.push(token);
            }
        }
    }
    if expected.is_empty()
        && let pest::error::ErrorVariant::ParsingError { positives, .. } = &e.variant
    {
        expected.extend(positives.iter().map(|r| describe(*r).to_string()));
    }
    let mut seen = std::collections::HashSet::new();
    expected.retain(|x| seen.insert(x.clone()));
    // A keyword next to a symbol is a leftover of backtracking (`const a 1` expects `=`, not `const`).
    let is_word = |x: &String| x.starts_with('`') && x.trim_matches('`').chars().all(|c| c.is_ascii_alphabetic());
    if expected.iter().any(|x| x.starts_with('`') && !is_word(x)) {
        expected.retain(|x| !is_word(x));
    }
    // Literal tokens first: "expected `=`" is the most precise advice.
    expected.sort_by_key(|x| !x.starts_with('`'));
    pos = skip_blank(text, pos);
    let found = found_token(text, pos);
    let message = match (expected.as_slice(), &found) {
        ([], Some(f)) => format!("unexpected {f}"),
        ([], None) => "unexpected end of file".to_string(),
        (list, Some(f)) => format!("expected {}, found {f}", join_or(list)),
        (list, None) => format!("expected {}, found end of file", join_or(list)),
    };
    // `requir x` reads as a metadata field missing its `=`; say what the author meant instead.
    if let Some(word) = previous_word(text, pos)
        && let Some(help) = crate::diagnostic::suggestion(word, STATEMENT_KEYWORDS.iter().copied())
        && expected.iter().any(|x| x == "`=`")
    {
        let start = text[..pos].trim_end_matches([' ', '\t']).len() - word.len();
        let span = Span::new(start, start + word.len());
        return Diagnostic::new(Code::Syntax, source, span, format!("`{word}` is not a statement"))
            .with_label("here")
            .with_help(help);
    }
    let len = found_len(text, pos);
    Diagnostic::new(Code::Syntax, source, Span::new(pos, pos + len), message).with_label("here")
}

/// Skips spaces, tabs and `#` comments on the current line (never past a line break: "found end of line").
fn skip_blank(text: &str, mut pos: usize) -> usize {
    let bytes = text.as_bytes();
    while pos < bytes.len() {
        match bytes[pos] {
            b' ' | b'\t' | b'\r' => pos += 1,
            b'#' => pos += text[pos..].find('\n').unwrap_or(text.len() - pos),
            _ => break,
        }
    }
    pos
}

/// The word just before `pos` on the same line (`requir` in `requir x`).
fn previous_word(text: &str, pos: usize) -> Option<&str> {
    let before = text.get(..pos)?.trim_end_matches([' ', '\t']);
    // The word starts after the last character that is not part of one (which may be several bytes long).
    let start = before
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[start..];
    (!word.is_empty() && !STATEMENT_KEYWORDS.contains(&word)).then_some(word)
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn found_len(text: &str, pos: usize) -> usize {
    let Some(rest) = text.get(pos..) else { return 0 };
    let Some(first) = rest.chars().next() else { return 0 };
    if first.is_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len())
    } else if first == '\n' {
        0
    } else {
        first.len_utf8()
    }
}

/// The word or symbol at `pos`, for "found `x`".
fn found_token(text: &str, pos: usize) -> Option<String> {
    let rest = text.get(pos..)?;
    if rest.starts_with('\n') {
        return Some("end of line".into());
    }
    let len = found_len(text, pos);
    (len > 0).then(|| format!("`{}`", &rest[..len]))
}

#[cfg(test)]
mod tests {
    use super::previous_word;

    #[test]
    fn the_previous_word_may_follow_a_multibyte_character() {
        // Found by `cargo fuzz run policy`: U+0F70 is three bytes and not part of a word.
        let text = "a \u{f70}requir x";
        let pos = text.find(" x").expect("present");
        assert_eq!(previous_word(text, pos), Some("requir"));
        assert_eq!(previous_word("\u{e9}t\u{e9} x", "\u{e9}t\u{e9}".len()), Some("\u{e9}t\u{e9}"));
        assert_eq!(previous_word("\u{f70}", "\u{f70}".len()), None);
    }
}
