//! The direct checks agree with `regex` on generated patterns and texts, and take the shapes they should.

use proptest::prelude::*;
use regex_syntax::ParserBuilder;

use super::Fast;

fn fast(pattern: &str) -> Option<Fast> {
    let hir = ParserBuilder::new().build().parse(pattern).expect("valid pattern");
    Fast::compile(&hir)
}

#[test]
fn the_workload_shapes_are_taken() {
    for p in [
        "^[a-f0-9]{64}$",
        "^[0-9a-f]{40}$",
        "^sha256:",
        r"\.safetensors$",
        "^(apache-2\\.0|mit|bsd-3-clause)$",
        "^v[0-9]{1,3}\\.[0-9]+$",
        "^(?i)[a-z]{2,8}-[0-9]{4}$",
        "hf://",
        "^$",
        "",
    ] {
        assert!(fast(p).is_some(), "{p} should be a direct check");
    }
}

#[test]
fn everything_else_stays_with_regex() {
    for p in [
        "(?m)^abc$",    // line anchors
        "[a-f]{3}$",    // unanchored repetition: a search
        "^[a-z]+[a-f]", // a range followed by what it may also match: backtracking
        "^a*b*$",       // a range followed by an optional piece
        r"^\bword",     // word boundary
        "^(ab){2}$",    // repeated group
        "^(a|b)c$",     // alternation not last (a class here, but then a literal: fine) -- see below
        "^[a-z]{5000}$",
    ] {
        if p == "^(a|b)c$" {
            // regex-syntax turns `a|b` into the class [ab]: a direct check after all.
            assert!(fast(p).is_some());
            continue;
        }
        assert!(fast(p).is_none(), "{p} should stay with regex");
    }
}

#[test]
fn dollar_does_not_match_before_a_final_newline() {
    let f = fast("^[a-f0-9]{4}$").expect("direct");
    assert!(f.is_match("abcd"));
    assert!(!f.is_match("abcd\n"));
    assert!(!f.is_match("abc"));
    assert!(!f.is_match("ABCD"));
    let ci = fast("(?i)^[a-f]{2}$").expect("direct");
    assert!(ci.is_match("aB"));
    let kelvin = fast("(?i)^k$").expect("direct");
    assert!(kelvin.is_match("\u{212A}"), "case folding follows regex's Unicode tables");
}

/// Pattern pieces over a small alphabet, so generated texts hit them often.
fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("é".to_string()),
        Just("K".to_string()),
        Just("ab".to_string()),
        Just("[a-f0-9]".to_string()),
        Just("[ab]".to_string()),
        Just("[^a]".to_string()),
        Just(r"\d".to_string()),
        Just(r"\w".to_string()),
        Just(".".to_string()),
        Just(r"\n".to_string()),
        Just("(?:ab|b|)".to_string()),
        Just("(a|bc|é)".to_string()),
    ]
}

fn quantifier() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(String::new()),
        1 => Just("?".to_string()),
        1 => Just("*".to_string()),
        1 => Just("+".to_string()),
        1 => Just("+?".to_string()),
        1 => (0u32..4).prop_map(|n| format!("{{{n}}}")),
        1 => (0u32..3, 0u32..3).prop_map(|(n, k)| format!("{{{n},{}}}", n + k)),
        1 => (0u32..3).prop_map(|n| format!("{{{n},}}")),
    ]
}

fn pattern() -> impl Strategy<Value = String> {
    let flags = prop_oneof![Just(""), Just("(?i)"), Just("(?m)"), Just("(?s)"), Just("(?is)")];
    let body = prop::collection::vec((atom(), quantifier()), 0..4);
    (flags, any::<bool>(), body, any::<bool>()).prop_map(|(flags, start, body, end)| {
        let mut p = flags.to_string();
        if start {
            p.push('^');
        }
        for (a, q) in body {
            // A quantifier applies to the whole atom.
            if q.is_empty() { p.push_str(&a) } else { p.push_str(&format!("(?:{a}){q}")) }
        }
        if end {
            p.push('$');
        }
        p
    })
}

fn text() -> impl Strategy<Value = String> {
    let chars = prop_oneof![
        Just('a'),
        Just('b'),
        Just('c'),
        Just('f'),
        Just('0'),
        Just('9'),
        Just('A'),
        Just('K'),
        Just('k'),
        Just('\u{212A}'),
        Just('é'),
        Just('É'),
        Just('\n'),
        Just(' '),
    ];
    prop::collection::vec(chars, 0..8).prop_map(|cs| cs.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn direct_checks_agree_with_regex(p in pattern(), texts in prop::collection::vec(text(), 1..8)) {
        let Ok(hir) = ParserBuilder::new().build().parse(&p) else { return Ok(()) };
        let Some(f) = Fast::compile(&hir) else { return Ok(()) };
        let re = regex::Regex::new(&p).expect("regex-syntax accepted it");
        for t in &texts {
            prop_assert_eq!(f.is_match(t), re.is_match(t), "pattern {:?} text {:?}", p, t);
        }
        // The pattern's own literal pieces as text, too: matches are rare among random texts.
        let own: String = p.chars().filter(|c| c.is_alphanumeric()).collect();
        prop_assert_eq!(f.is_match(&own), re.is_match(&own), "pattern {:?} text {:?}", p, own);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Long exact counts take the 16-bytes-at-a-time path; texts are mostly in the class, of lengths around
    /// the count, so both answers are common.
    #[test]
    fn exact_counts_agree_with_regex(
        n in 0usize..48,
        class in prop_oneof![Just("[a-f0-9]"), Just("[0-9]"), Just("[a-cx-z0-2]"), Just("[ -~]"), Just("[a-z]")],
        prefix in prop_oneof![Just(""), Just("sha256:")],
        end in any::<bool>(),
        texts in prop::collection::vec(prop::collection::vec(
            prop_oneof![8 => prop::char::range('a', 'f'), 4 => prop::char::range('0', '9'), 1 => Just('g'),
                        1 => Just('é'), 1 => Just('\n'), 1 => Just('A')], 0..56), 1..6),
    ) {
        let p = format!("^{prefix}{class}{{{n}}}{}", if end { "$" } else { "" });
        let f = fast(&p).expect("a direct check");
        let re = regex::Regex::new(&p).expect("valid");
        for t in texts {
            let t: String = prefix.chars().chain(t).collect();
            prop_assert_eq!(f.is_match(&t), re.is_match(&t), "pattern {:?} text {:?}", p, t);
        }
    }
}
