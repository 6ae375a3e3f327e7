//! A policy file as a flat list of tokens, comments included, each tagged with the grammar rule it belongs
//! to.
//!
//! The grammar hides comments (pest's `COMMENT` rule), so the parse tree alone cannot reproduce a file. The
//! parse tree does give every named token (words, strings, operators) with its span; what lies *between*
//! two sibling nodes is the rule's literal punctuation (`=`, `(`, `{`, `,` ...), whitespace and comments.
//! Walking the tree and lexing those gaps yields every token in source order, each knowing its parent rule
//! (is this `(` a call's or a grouping's? is this `{` a rule body or an object?). Comments stay tokens in
//! the stream, so the formatter can never move one past a declaration: it only changes the whitespace
//! between tokens (the way gofmt treats comments as part of the token stream).

use pest::iterators::Pair;

use crate::syntax::Rule;

/// What a token is, as far as layout is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// A name, keyword, operator, number, string, regex or message: spaced from its neighbours.
    Word,
    /// Unary `-`: nothing between it and its operand.
    Neg,
    /// A `///` line.
    Doc,
    /// A `#` comment (without its line break).
    Comment,
    /// `(`, `[` or an object's `{`; `tight` when it follows its callee or operand without a space.
    Open { tight: bool },
    /// `)`, `]` or an object's `}`.
    Close,
    /// The `{` of a rule, `for` or test body.
    BlockOpen,
    /// The `}` of a rule, `for` or test body.
    BlockClose,
    /// `,` or `:`: no space before.
    Separator,
    /// `.` of a field or plugin call: no space either side.
    Dot,
    /// `=`.
    Equals,
}

/// One token.
#[derive(Clone, Debug)]
pub(super) struct Token<'s> {
    pub text: &'s str,
    pub kind: Kind,
    /// Byte offsets in the source.
    pub start: usize,
    pub end: usize,
    /// Line breaks between the previous token and this one in the source.
    pub newlines: usize,
    /// The first token of a declaration or statement, or the keyword after a declaration's `///` lines:
    /// it starts a line.
    pub starts_line: bool,
}

/// Rules whose text is one token, whatever is inside (strings keep their escapes and interpolations
/// verbatim: a formatter must not touch what a message says).
const OPAQUE: &[Rule] = &[Rule::string, Rule::template, Rule::regex];

/// Rules whose first token begins a line.
const STATEMENTS: &[Rule] = &[
    Rule::package_decl,
    Rule::const_decl,
    Rule::param_decl,
    Rule::fn_decl,
    Rule::rule_decl,
    Rule::import_decl,
    Rule::test_decl,
    Rule::meta_stmt,
    Rule::let_stmt,
    Rule::when_stmt,
    Rule::require_stmt,
    Rule::forbid_stmt,
    Rule::for_stmt,
    Rule::expect_stmt,
];

/// The tokens of a parsed file, or the offset of text the lexer did not expect (a formatter bug or a
/// grammar change this file has not caught up with: refuse rather than guess).
pub(super) fn tokens<'s>(file: Pair<'s, Rule>, text: &'s str) -> Result<Vec<Token<'s>>, usize> {
    let mut out = Vec::new();
    let mut walker = Walker { text, out: &mut out, pending_start: false };
    walker.pair(file)?;
    let mut previous_end = 0;
    for token in &mut out {
        token.newlines = text[previous_end..token.start].matches('\n').count();
        previous_end = token.end;
    }
    Ok(out)
}

struct Walker<'s, 'o> {
    text: &'s str,
    out: &'o mut Vec<Token<'s>>,
    /// The next token starts a statement.
    pending_start: bool,
}

impl<'s> Walker<'s, '_> {
    fn pair(&mut self, pair: Pair<'s, Rule>) -> Result<(), usize> {
        let rule = pair.as_rule();
        let span = pair.as_span();
        if span.start() == span.end() {
            return Ok(()); // EOI, an empty `docs`
        }
        let mut inner = pair.clone().into_inner().peekable();
        if OPAQUE.contains(&rule) || inner.peek().is_none() {
            let kind = match rule {
                Rule::doc_line => Kind::Doc,
                Rule::op_neg => Kind::Neg,
                _ => Kind::Word,
            };
            self.push(span.as_str(), kind, span.start());
            return Ok(());
        }
        if STATEMENTS.contains(&rule) {
            self.pending_start = true;
        }
        let mut at = span.start();
        for child in inner {
            self.gap(at, child.as_span().start(), rule)?;
            at = child.as_span().end();
            let was_docs = child.as_rule() == Rule::docs;
            self.pair(child)?;
            if was_docs {
                self.pending_start = true;
            }
        }
        self.gap(at, span.end(), rule)
    }

    /// Lexes the text between two sibling nodes of `parent`: whitespace, comments and the rule's literal
    /// punctuation.
    fn gap(&mut self, from: usize, to: usize, parent: Rule) -> Result<(), usize> {
        let bytes = self.text.as_bytes();
        let mut i = from;
        while i < to {
            let c = bytes[i];
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'#' => {
                    let end = self.text[i..to].find('\n').map_or(to, |n| i + n);
                    self.comment(i, end);
                    i = end;
                }
                b'(' | b'[' | b'{' | b')' | b']' | b'}' | b',' | b':' | b'.' | b'=' => {
                    let block = matches!(parent, Rule::rule_decl | Rule::block | Rule::test_decl);
                    let kind = match c {
                        b'{' if block => Kind::BlockOpen,
                        b'}' if block => Kind::BlockClose,
                        b'(' => {
                            Kind::Open { tight: matches!(parent, Rule::arguments | Rule::fn_decl | Rule::quantifier) }
                        }
                        b'[' => Kind::Open { tight: parent == Rule::index },
                        b'{' => Kind::Open { tight: false },
                        b')' | b']' | b'}' => Kind::Close,
                        b',' | b':' => Kind::Separator,
                        b'.' => Kind::Dot,
                        _ => Kind::Equals,
                    };
                    self.push(&self.text[i..i + 1], kind, i);
                    i += 1;
                }
                _ => return Err(i),
            }
        }
        Ok(())
    }

    fn comment(&mut self, start: usize, end: usize) {
        // Trailing blanks (and the `\r` of a CRLF file) are not part of what the comment says.
        let text = self.text[start..end].trim_end();
        self.out.push(Token { text, kind: Kind::Comment, start, end, newlines: 0, starts_line: false });
    }

    fn push(&mut self, text: &'s str, kind: Kind, start: usize) {
        let text_trimmed = if kind == Kind::Doc { text.trim_end() } else { text };
        let starts_line = std::mem::take(&mut self.pending_start);
        self.out.push(Token { text: text_trimmed, kind, start, end: start + text.len(), newlines: 0, starts_line });
    }
}
