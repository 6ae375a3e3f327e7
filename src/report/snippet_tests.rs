//! The direct drawing against miette's own, on the shapes reports produce and on generated diagnostics:
//! whenever [`draw`] answers, its text must be miette's, byte for byte.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, Severity, SourceSpan};
use proptest::prelude::*;

use super::draw;
use crate::report::human::Style;
use crate::source::{Source, Span};

/// A diagnostic with every part optional, over a [`Source`] as findings have.
#[derive(Debug)]
struct Case {
    code: Option<String>,
    severity: Option<Severity>,
    heading: String,
    help: Option<String>,
    source: Arc<Source>,
    label: Option<(SourceSpan, Option<String>)>,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.heading)
    }
}

impl std::error::Error for Case {}

impl Diagnostic for Case {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code.as_ref().map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<Severity> {
        self.severity
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&*self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (span, text) = self.label.clone()?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(text, span))))
    }
}

fn miette(case: &Case, width: usize) -> String {
    let mut out = String::new();
    Style { color: false, width }.handler().render_report(&mut out, case).expect("miette draws it");
    out
}

fn case(text: &str, span: Span, label: Option<&str>) -> Case {
    let source = Source::new("model/README.md", text);
    let shown = source.display_span(span);
    Case {
        code: Some("HF001 · high".into()),
        severity: Some(Severity::Error),
        heading: "License is on the allow-list".into(),
        help: Some("Pick a licence from the list in the policy.".into()),
        label: Some((shown, label.map(str::to_owned))),
        source,
    }
}

/// Asserts that `draw` handles `case` and agrees with miette, and returns the text.
fn same(case: &Case, width: usize) -> String {
    let direct = draw(case, width).expect("the direct drawing handles this shape");
    assert_eq!(direct, miette(case, width), "{case:?}");
    direct
}

#[test]
fn a_finding_is_drawn_as_miette_draws_it() {
    let text = "---\nlicense: gpl-3.0\nbase_model:\n  name: x\n";
    let out = same(&case(text, Span::new(13, 20), Some("license gpl-3.0 is not allowed")), 100);
    assert!(out.contains(" 2 │ license: gpl-3.0\n   ·          ───┬───\n   ·             ╰── license"), "{out}");
}

#[test]
fn edges_of_the_line_and_of_the_file() {
    let text = "a: 1\nbb: 22\nccc: 333";
    for (start, end) in [(0, 0), (0, 1), (3, 4), (4, 4), (4, 5), (5, 7), (11, 11), (12, 17), (17, 17), (16, 17)] {
        for label in [Some("why"), None, Some("")] {
            same(&case(text, Span::new(start, end), label), 80);
        }
    }
    // Line numbers of two digits, CRLF line ends, no context after the last line.
    let text: String = (1..=12).map(|i| format!("key{i}: value{i}\r\n")).collect();
    let at = text.find("key10").unwrap();
    same(&case(&text, Span::new(at, at + 5), Some("here")), 80);
    let at = text.find("key1:").unwrap();
    same(&case(&text, Span::new(at, at + 4), Some("first")), 80);
}

#[test]
fn long_headings_and_help_are_wrapped_by_textwrap() {
    let mut c = case("x: 1\n", Span::new(3, 4), Some("one"));
    c.heading = "word ".repeat(40).trim_end().to_owned();
    c.help = Some(format!("{} https://example.com/{}", "see ".repeat(30), "a".repeat(120)));
    let out = same(&c, 60);
    assert!(out.lines().filter(|l| l.starts_with("  │ ")).count() > 2, "{out}");
    for width in [0, 1, 10, 31, 32, 33, 34, 35] {
        c.heading = "exactly thirty chars long text".into();
        assert_eq!(draw(&c, width).as_deref(), Some(miette(&c, width).as_str()), "width {width}");
    }
}

#[test]
fn other_shapes_are_left_to_miette() {
    // A span over two lines, a tab, a wide character before the span, a label over lines.
    assert!(draw(&case("a: |\n  x\n  y\n", Span::new(5, 12), Some("x")), 80).is_none());
    assert!(draw(&case("a:\tb\n", Span::new(3, 4), Some("x")), 80).is_none());
    assert!(draw(&case("名前: b\n", Span::new(8, 9), Some("x")), 80).is_none());
    assert!(draw(&case("a: b\n", Span::new(3, 4), Some("x\ny")), 80).is_none());
}

/// Lines of text from pieces that exercise miette's cutting and measuring.
fn source_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => Just("key: value"),
        2 => Just(" "),
        2 => Just("- item"),
        1 => Just("\t"),
        1 => Just("é"),
        1 => Just("漢字"),
        1 => Just("\r"),
        1 => Just("\u{1b}[31m"),
        1 => Just("\u{202e}"),
    ];
    let line = prop::collection::vec(piece, 0..6).prop_map(|p| p.concat());
    let end = prop_oneof![4 => Just("\n"), 1 => Just("\r\n")];
    (prop::collection::vec((line, end), 1..14), any::<bool>()).prop_map(|(lines, last_break)| {
        let mut text: String = lines.into_iter().map(|(l, e)| format!("{l}{e}")).collect();
        if !last_break {
            text.pop();
        }
        text
    })
}

fn words() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        6 => "[a-z]{1,9}",
        1 => Just(" ".to_owned()),
        1 => Just("-".to_owned()),
        1 => Just("é".to_owned()),
        1 => Just("\n".to_owned()),
        1 => "[a-z]{30,50}",
    ];
    prop::collection::vec(word, 0..24).prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn the_direct_drawing_is_miettes(
        text in source_text(),
        at in any::<prop::sample::Index>(),
        len in 0usize..24,
        heading in words(),
        help in prop::option::of(words()),
        label in prop::option::of(words()),
        code in prop::option::of("[A-Z]{2}[0-9]{3}"),
        severity in prop::option::of(prop_oneof![Just(Severity::Error), Just(Severity::Warning), Just(Severity::Advice)]),
        width in 0usize..140,
    ) {
        let start = at.index(text.len() + 1);
        let mut c = case(&text, Span::new(start, start + len), label.as_deref());
        c.heading = heading;
        c.help = help;
        c.code = code;
        c.severity = severity;
        if let Some(direct) = draw(&c, width) {
            prop_assert_eq!(direct, miette(&c, width), "{:?} at width {}", c, width);
        }
    }
}
