//! The evaluator's shortcuts (issue 18) against what they stand for: each answers as the general path would,
//! and hands the unusual cases (wrong types, missing members, lists that are not all strings) to it.

use crate::{Cause, Document, Engine};

/// The findings of `rules` (a package and its rules' bodies, each `applies_to = ModelCard`; an empty id puts
/// the text in as it is) on a YAML card, as (rule, cause, message).
fn run(rules: &[(&str, &str)], card: &str) -> Vec<(String, Cause, String)> {
    let mut policy = String::from("package t\n");
    for (id, body) in rules {
        if id.is_empty() {
            policy.push_str(body);
            policy.push('\n');
            continue;
        }
        policy.push_str(&format!(
            "rule \"{id}\" {{\n  title = \"t\"\n  severity = low\n  applies_to = ModelCard\n{body}\n}}\n"
        ));
    }
    let set = Engine::default().compile([("t.policy", policy.as_str())]).expect("compiles");
    let session = set.session(&[]);
    let docs = Document::from_str("c.yaml", &format!("kind: ModelCard\n{card}")).expect("loads");
    session.evaluate(&docs[0]).into_iter().map(|f| (f.rule.id.to_string(), f.cause, f.message)).collect()
}

/// The messages alone.
fn messages(rules: &[(&str, &str)], card: &str) -> Vec<String> {
    run(rules, card).into_iter().map(|(_, _, m)| m).collect()
}

#[test]
fn constant_string_lists_answer_like_a_scan() {
    let rules = [
        ("S1", r#"require input.a in ["apache-2.0", "mit", "bsd-3-clause", "cc-by-4.0", "llama3.1"] else "S1""#),
        ("S2", r#"require input.a not in ["x", "y", "z", "w"] else "S2""#),
        // Not all strings: the hashed set, where 1 and 1.0 are the same number.
        ("S3", r#"require input.n in ["a", 1, "b", "c"] else "S3""#),
        // A non-string item against a list of strings is simply not in it.
        ("S4", r#"require input.n not in ["1", "b", "c", "d"] else "S4""#),
    ];
    assert_eq!(messages(&rules, "a: mit\nn: 1.0\n"), Vec::<String>::new());
    assert_eq!(messages(&rules, "a: x\nn: 2\n"), ["S1", "S2", "S3"]);
    assert_eq!(messages(&rules, "a: MIT\nn: 1\n"), ["S1"]);
    // A prefix or an extension of a member is not a member.
    assert_eq!(messages(&rules[..1], "a: mi\n"), ["S1"]);
    assert_eq!(messages(&rules[..1], "a: apache-2.0x\n"), ["S1"]);
    // More strings than are scanned: the hashed set.
    let long: Vec<String> = (0..40).map(|i| format!("\"v{i}\"")).collect();
    let body = format!("require input.a in [{}] else \"L\"", long.join(", "));
    assert_eq!(messages(&[("L", &body)], "a: v39\n"), Vec::<String>::new());
    assert_eq!(messages(&[("L", &body)], "a: v40\n"), ["L"]);
    // Missing data still fails closed.
    let missing = run(&rules[..1], "b: mit\n");
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].1, Cause::MissingData);
}

#[test]
fn equality_shortcuts_agree_with_value_equality() {
    let rules = [
        ("E1", r#"require input.s == "accuracy" else "E1""#),
        ("E2", r#"require input.long == "a string longer than sixteen bytes" else "E2""#),
        ("E3", r#"require input.b == true else "E3""#),
        ("E4", r#"require input.i == 1 else "E4""#),
        ("E5", r#"require input.u != "héllo" else "E5""#),
    ];
    let ok = "s: accuracy\nlong: a string longer than sixteen bytes\nb: true\ni: 1.0\nu: hello\n";
    assert_eq!(messages(&rules, ok), Vec::<String>::new());
    let bad = "s: accuracz\nlong: a string longer than sixteen bytez\nb: \"true\"\ni: \"1\"\nu: héllo\n";
    assert_eq!(messages(&rules, bad), ["E1", "E2", "E3", "E4", "E5"]);
    // Same length, one byte apart, in each half of a word-wise comparison.
    assert_eq!(messages(&rules[..1], "s: bccuracy\n"), ["E1"]);
    assert_eq!(messages(&rules[..1], "s: accurac\n"), ["E1"]);
}

#[test]
fn affix_tests_compare_bytes_and_fall_back_on_other_types() {
    let rules = [
        ("A1", r#"require starts_with(input.s, "s3://approved-") else "A1""#),
        ("A2", r#"require ends_with(input.s, "-é") else "A2""#),
    ];
    assert_eq!(messages(&rules, "s: s3://approved-bucket-é\n"), Vec::<String>::new());
    assert_eq!(messages(&rules, "s: s3://approved\n"), ["A1", "A2"]);
    assert_eq!(messages(&rules, "s: é\n"), ["A1", "A2"]);
    assert_eq!(messages(&rules, "s: \"\"\n"), ["A1", "A2"]);
    // A number is not a string: the call reports it, the check does not pass.
    let wrong = run(&rules[..1], "s: 5\n");
    assert_eq!(wrong.len(), 1);
    assert_eq!(wrong[0].1, Cause::InvalidData);
}

#[test]
fn frames_start_empty_for_each_rule_and_call() {
    // F1 binds more slots than F2; F2's call of `first` frames its argument above the slots F1 left.
    let rules = [
        ("", "fn first(name) = split(name, \"/\")[0]"),
        ("F1", "for i, x in input.xs {\n let y = x.v\n require y < 3 else \"F1 {i} {y}\"\n }"),
        ("F2", "for j, x in input.xs {\n require first(x.name) != \"b\" else \"F2 {j} {first(x.name)}\"\n }"),
        ("F3", "require first(input.top) == \"t\" else \"F3\""),
    ];
    let card = "top: t/x\nxs:\n  - {v: 1, name: a/1}\n  - {v: 5, name: b/2}\n  - {v: 2, name: c/3}\n";
    assert_eq!(messages(&rules, card), ["F1 1 5", "F2 1 b"]);
}

#[test]
fn reading_ahead_changes_no_answer() {
    // Arrays and objects wider than what is read ahead, two rules over one array, a computed array, nesting.
    let items: Vec<String> = (0..40).map(|i| format!("  - {{v: {i}, tags: [{i}, x]}}")).collect();
    let members: Vec<String> = (0..40).map(|i| format!("  k{i}: {i}")).collect();
    let card = format!("xs:\n{}\nobj:\n{}\n", items.join("\n"), members.join("\n"));
    let rules = [
        ("W1", "for i, x in input.xs {\n require x.v < 38 else \"W1 {i}\"\n }"),
        ("W2", "for x in input.xs {\n for t in x.tags {\n forbid t == 39 else \"W2\"\n }\n }"),
        ("W3", "for k, v in input.obj {\n require v != 35 else \"W3 {k}\"\n }"),
        ("W4", "for y in [x.v for x in input.xs] {\n require y != 0 else \"W4\"\n }"),
        ("W5", "require count(x in input.xs: x.v >= 0) == 40 else \"W5\""),
    ];
    // In file order: W4's element is computed, so its finding points at the document.
    assert_eq!(messages(&rules, &card), ["W4", "W1 38", "W1 39", "W2", "W3 k35"]);
}

#[test]
fn reading_ahead_takes_any_shape() {
    use crate::value::Value;
    for text in ["null", "1", "\"\"", "[]", "{}", "[1, \"a\", [], {}]", "{\"a\": [[]], \"b\": {\"c\": \"\"}, \"\": 1}"]
    {
        let v = Value::from_json(text).expect("json");
        super::touch::document(&v);
        if let Value::Array(items) = &v {
            super::touch::items(items);
        }
    }
}
