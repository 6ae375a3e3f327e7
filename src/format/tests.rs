//! The formatter's properties — same meaning, idempotent, every comment kept with its declaration — over
//! the bundled policies and over generated, deliberately messy ones; and the layout on small cases.

use proptest::prelude::*;

use super::{comment_owners, format_source, same_meaning};

/// Asserts the three properties for one text and returns the formatted text.
fn check(text: &str) -> String {
    let formatted = format_source(text).unwrap_or_else(|e| panic!("format failed: {e:?}\n--- input:\n{text}"));
    assert!(same_meaning(text, &formatted), "meaning changed:\n--- input:\n{text}\n--- output:\n{formatted}");
    let twice = format_source(&formatted).expect("formatted text formats");
    assert_eq!(twice, formatted, "not idempotent; input:\n{text}");
    let mut before = comment_owners(text);
    let mut after = comment_owners(&formatted);
    before.sort();
    after.sort();
    assert_eq!(before, after, "comments moved or lost:\n--- input:\n{text}\n--- output:\n{formatted}");
    formatted
}

#[test]
fn layout_cases() {
    // (input, canonical layout)
    let cases = [
        (
            "package  p\nconst   x=[1,2 ,3]\nparam y = { a :1, \"b c\":  -x[0] }",
            "package p\nconst x = [1, 2, 3]\nparam y = {a: 1, \"b c\": -x[0]}\n",
        ),
        (
            "package p\nrule \"R\" { title = \"t\" severity = low applies_to = ModelCard require input.a   else \"m {input.a}\" }",
            "package p\nrule \"R\" {\n  title = \"t\"\n  severity = low\n  applies_to = ModelCard\n  require input.a else \"m {input.a}\"\n}\n",
        ),
        (
            // The author's line breaks stay; continuation lines get one level more; blank lines collapse.
            "package p\n\n\n\nrule \"R\"\n{\n\n  when is_object(input)\nrequire a\n  or b\n       else \"m\"\n\n}\n",
            "package p\n\nrule \"R\" {\n  when is_object(input)\n  require a\n    or b\n    else \"m\"\n}\n",
        ),
        (
            // Brackets left open indent one level past their line; a closing bracket goes back.
            "package p\nfn f(x) = any(m in x:\nis_object(m) and any(r in m.r ?? []: r\nand r.b))\nconst c = [\n1,\n   2,\n]\n",
            "package p\nfn f(x) = any(m in x:\n  is_object(m) and any(r in m.r ?? []: r\n    and r.b))\nconst c = [\n  1,\n  2,\n]\n",
        ),
        (
            // Comments: trailing ones stay trailing, own-line ones take the indentation of what follows.
            "# head\npackage p # the package\n  # about R\nrule \"R\" { # body\n    # first\n  when true # w\n# last\n}\n# tail\n",
            "# head\npackage p # the package\n# about R\nrule \"R\" { # body\n  # first\n  when true # w\n  # last\n}\n# tail\n",
        ),
        (
            "package p\n///  Doc.\n   ///second\nconst x = not a  not  in b\nconst y = [ x*2 for x in xs where x>1 for y in x ]\nconst z = all ( x in xs : x )",
            "package p\n///  Doc.\n///second\nconst x = not a not in b\nconst y = [x * 2 for x in xs where x > 1 for y in x]\nconst z = all(x in xs: x)\n",
        ),
        (
            "package p\nrule \"R\" { title=\"t\"\n for i,x in xs where x { require - x < 1 at x } }\n",
            "package p\nrule \"R\" {\n  title = \"t\"\n  for i, x in xs where x {\n    require -x < 1 at x\n  }\n}\n",
        ),
        (
            "package p\ntest \"t\" { input = {a: 1} expect \"R\" at \"/a\" line 2 message \"m\" cause missing-data expect no \"S\" }",
            "package p\ntest \"t\" {\n  input = {a: 1}\n  expect \"R\" at \"/a\" line 2 message \"m\" cause missing-data\n  expect no \"S\"\n}\n",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(check(input), expected, "input:\n{input}");
    }
}

#[test]
fn refuses_what_does_not_parse() {
    let err = format_source("package p\nconst x = [1,\n").unwrap_err();
    assert!(err.to_string().contains("") && !err.iter().next().expect("one").message.is_empty());
}

#[test]
fn bundled_policies_keep_their_meaning() {
    for (path, text) in crate::bundled::BUNDLED {
        let formatted = check(text);
        assert_eq!(formatted, *text, "{path} is not formatted: run `policy fmt policies/`");
    }
}

/// Rewrites the whitespace between the tokens of `text`: `choices[i % len]` picks each gap's filler.
fn messy(text: &str, choices: &[u8]) -> String {
    use pest::Parser as _;
    let mut pairs = crate::syntax::PolicyParser::parse(crate::syntax::Rule::file, text).expect("parses");
    let tokens = super::tokens::tokens(pairs.next().expect("file"), text).expect("tokens");
    let mut out = String::new();
    for (i, token) in tokens.iter().enumerate() {
        if i > 0 {
            let pick = choices.get(i % choices.len().max(1)).copied().unwrap_or(0);
            out.push_str(match pick % 7 {
                0 => " ",
                1 => "\n",
                2 => "   \t ",
                3 => "\n\n\n    ",
                4 => " # a comment\n",
                5 => "\n# an own-line comment\n\t",
                _ => "  ",
            });
        }
        out.push_str(token.text);
        if token.kind == super::tokens::Kind::Comment || token.kind == super::tokens::Kind::Doc {
            out.push('\n');
        }
    }
    out
}

/// Expressions with nested comprehensions, quantifiers, calls, objects and long operator chains.
fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        "[a-z][a-z0-9_]{0,6}".prop_filter("not a keyword", |s| !KEYWORDS.contains(&s.as_str())),
        (0u32..1000).prop_map(|n| n.to_string()),
        "[a-z #{}]{0,8}".prop_map(|s| format!("{s:?}")),
        Just("input.a.b".to_string()),
        Just("/x[#]+/i".to_string()),
    ];
    leaf.prop_recursive(4, 48, 4, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone(), prop::sample::select(vec!["and", "or", "+", "==", "??", "not in", "-"]))
                .prop_map(|(a, b, op)| format!("{a} {op} {b}")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(e, xs, c)| format!("[{e} for x in {xs} where {c} for y in x]")),
            (inner.clone(), inner.clone()).prop_map(|(xs, c)| format!("any(x in {xs}: {c})")),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|args| format!("f({})", args.join(", "))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{{k: {a}, \"q r\": [{b}]}}")),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| format!("if {c} then ({a}) else -{b}")),
            inner.prop_map(|a| format!("not ({a})[0].f")),
        ]
    })
}

const KEYWORDS: &[&str] = &[
    "package", "const", "param", "fn", "rule", "let", "when", "require", "forbid", "for", "in", "where", "else", "at",
    "and", "or", "not", "if", "then", "true", "false", "null", "all", "any", "none", "count", "matches",
];

fn policy() -> impl Strategy<Value = String> {
    (expr(), expr(), expr(), expr()).prop_map(|(a, b, c, d)| {
        format!(
            "# generated\npackage gen.p\n/// A constant.\nconst c = {a}\nfn g(x, y) = {b} # trailing\n\
             rule \"G-1\" {{\n  title = \"t\"\n  # inside\n  let v = {c}\n  when {d}\n  \
             for i, x in {a} where {b} {{\n    forbid {c} else \"bad {{x}}\" at x\n  }}\n  require {d}\n}}\n"
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn generated_messy_policies(text in policy(), choices in prop::collection::vec(any::<u8>(), 1..40)) {
        check(&text);
        check(&messy(&text, &choices));
    }

    #[test]
    fn messy_bundled_policies(index in 0usize..64, choices in prop::collection::vec(any::<u8>(), 1..40)) {
        let files = crate::bundled::BUNDLED;
        let (_, text) = files[index % files.len()];
        check(&messy(text, &choices));
    }
}
