//! One example call per builtin, with the value it returns: docs/builtins.md shows them, and a test
//! evaluates every one, so the documented argument order is the real one. Texts come first, patterns,
//! separators and other operands after (`regex_match(s, pattern)`, `split(s, sep)`, `contains(x, item)`).

use super::Function;

/// `(function, call, result)`, both in the policy language. Evaluated with the clock at
/// 2026-01-01T00:00:00Z.
const EXAMPLES: &[(&str, &str, &str)] = &[
    // Strings.
    ("lower", r#"lower("MIT")"#, r#""mit""#),
    ("upper", r#"upper("gpl-3.0")"#, r#""GPL-3.0""#),
    ("trim", r#"trim("  mit ")"#, r#""mit""#),
    ("starts_with", r#"starts_with("s3://approved-data", "s3://")"#, "true"),
    ("ends_with", r#"ends_with("model.safetensors", ".safetensors")"#, "true"),
    ("split", r#"split("meta-llama/Llama-3", "/")"#, r#"["meta-llama", "Llama-3"]"#),
    ("trim_prefix", r#"trim_prefix("v1.2.3", "v")"#, r#""1.2.3""#),
    ("trim_suffix", r#"trim_suffix("model.bin", ".bin")"#, r#""model""#),
    ("replace", r#"replace("a-b-c", "-", "_")"#, r#""a_b_c""#),
    ("join", r#"join(["a", 1, true], ", ")"#, r#""a, 1, true""#),
    ("substring", r#"substring("sha256:abcdef", 7, 3)"#, r#""abc""#),
    ("to_string", r#"to_string([1, "a"])"#, r#""[1,\"a\"]""#),
    ("to_number", r#"to_number(" 2.5 ")"#, "2.5"),
    ("sha256", r#"sha256("abc")"#, r#""ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad""#),
    // Collections and values.
    ("len", r#"len(["a", "b"])"#, "2"),
    ("is_empty", r#"is_empty("  ")"#, "true"),
    ("keys", "keys({b: 1, a: 2})", r#"["b", "a"]"#),
    ("values", "values({b: 1, a: 2})", "[1, 2]"),
    ("get", r#"get({a: 1}, "b", 0)"#, "0"),
    ("contains", r#"contains(["mit", "apache-2.0"], "mit")"#, "true"),
    ("sort", r#"sort([3, "a", null, 1])"#, r#"[null, 1, 3, "a"]"#),
    ("unique", "unique([1, 2, 1, 3])", "[1, 2, 3]"),
    ("flatten", "flatten([[1, 2], 3, [4]])", "[1, 2, 3, 4]"),
    ("reverse", "reverse([1, 2, 3])", "[3, 2, 1]"),
    ("sum", "sum([1, 2, 3.5])", "6.5"),
    ("min", "min([3, 1, 2])", "1"),
    ("max", "max([3, 1, 2])", "3"),
    ("merge", "merge({a: 1, b: 1}, {b: 2})", "{a: 1, b: 2}"),
    ("type_of", "type_of([])", r#""array""#),
    ("is_string", r#"is_string("x")"#, "true"),
    ("is_number", "is_number(1.5)", "true"),
    ("is_boolean", "is_boolean(null)", "false"),
    ("is_array", "is_array([])", "true"),
    ("is_object", "is_object({})", "true"),
    ("any_of", "any_of([false, true])", "true"),
    ("all_of", "all_of([true, false])", "false"),
    ("abs", "abs(-3)", "3"),
    ("round", "round(2.5)", "3"),
    ("floor", "floor(2.7)", "2"),
    ("ceil", "ceil(2.1)", "3"),
    // Patterns: the text first, then the pattern.
    ("glob_match", r#"glob_match("weights/model.safetensors", "**/*.safetensors")"#, "true"),
    ("regex_match", r#"regex_match("v1.2.3", "^v[0-9]+")"#, "true"),
    ("regex_find", r#"regex_find("llama-3-70b", "[0-9]+b")"#, r#""70b""#),
    (
        "regex_captures",
        r#"regex_captures("org/model@v2", "^(\\w+)/(\\w+)(@(\\w+))?$")"#,
        r#"["org/model@v2", "org", "model", "@v2", "v2"]"#,
    ),
    ("regex_replace", r#"regex_replace("a=1 b=2", "(\\w)=(\\d)", "$2:$1")"#, r#""1:a 2:b""#),
    // Time.
    ("now", "now()", r#""2026-01-01T00:00:00Z""#),
    ("today", "today()", r#""2026-01-01""#),
    ("parse_date", r#"parse_date("2026-01-01T23:30:00-02:00")"#, r#""2026-01-02""#),
    ("date_valid", r#"date_valid("2026-02-30")"#, "false"),
    ("days_between", r#"days_between("2026-01-01", "2026-03-01")"#, "59"),
    ("days_since", r#"days_since("2025-12-01")"#, "31"),
    ("days_until", r#"days_until("2026-01-31")"#, "30"),
    ("add_days", r#"add_days("2026-01-30", 3)"#, r#""2026-02-02""#),
    ("is_before", r#"is_before("2025-06-01", "2026-01-01")"#, "true"),
    ("is_after", r#"is_after("2025-06-01", "2026-01-01")"#, "false"),
    // Versions.
    ("semver_valid", r#"semver_valid("v1.2.3-rc.1")"#, "true"),
    ("semver_compare", r#"semver_compare("1.2.3", "1.10.0")"#, "-1"),
    ("semver_satisfies", r#"semver_satisfies("1.4.0", ">=1.2, <2")"#, "true"),
    ("semver_major", r#"semver_major("2.1.0")"#, "2"),
    ("semver_minor", r#"semver_minor("2.1.0")"#, "1"),
    ("semver_patch", r#"semver_patch("2.1.7")"#, "7"),
    ("version_compare", r#"version_compare("1.10", "1.9")"#, "1"),
    // Quantities.
    ("quantity", r#"quantity("500m")"#, "0.5"),
    ("duration", r#"duration("1h30m")"#, "5400"),
    // URLs.
    ("parse_url", r#"parse_url("https://hf.co:8443/org/m?x=1").port"#, "8443"),
    ("url_host", r#"url_host("https://HuggingFace.co/org/model")"#, r#""huggingface.co""#),
    ("url_scheme", r#"url_scheme("S3://bucket/key")"#, r#""s3""#),
    ("is_url", r#"is_url("ftp//missing-colon")"#, "false"),
    // Images and licenses.
    ("image_ref", r#"image_ref("python:3.12").repository"#, r#""library/python""#),
    ("is_digest", r#"is_digest("sha256:abc")"#, "false"),
    ("spdx_license", r#"spdx_license("apache-2.0")"#, r#""Apache-2.0""#),
    ("license_allows_commercial", r#"license_allows_commercial("cc-by-nc-4.0")"#, "false"),
    // Runtime traffic: outside `policy serve`, the neutral answer.
    ("traffic", r#"traffic("caller", "alice").requests_1m"#, "0"),
];

/// Attaches each builtin's example.
pub(super) fn attach(functions: Vec<Function>) -> Vec<Function> {
    functions
        .into_iter()
        .map(|f| match EXAMPLES.iter().find(|(name, _, _)| *name == f.name()) {
            Some((_, call, result)) => f.example(call, result),
            None => f,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::functions::Registry;
    use crate::{Document, Engine};

    #[test]
    fn every_builtin_has_an_example_that_holds() {
        let registry = Registry::default();
        let mut policy = String::from("package examples\n");
        for f in registry.iter() {
            let (call, result) = f.example_call().unwrap_or_else(|| panic!("`{}` has no example", f.name()));
            assert!(call.starts_with(&format!("{}(", f.name())), "`{}`: example {call}", f.name());
            policy.push_str(&format!(
                "rule \"{name}\" {{\n  title = \"t\"\n  severity = low\n  applies_to = ModelCard\n  \
                 require ({call}) == ({result}) else \"{name}: got {{{call}}}\"\n}}\n",
                name = f.name(),
                call = call,
                result = result,
            ));
        }
        let engine = Engine::builder().now("2026-01-01T00:00:00Z".parse().expect("timestamp")).build();
        let policies = engine.compile([("examples.policy", policy.as_str())]).unwrap_or_else(|e| panic!("{e}"));
        let docs = Document::from_str("card.yaml", "kind: ModelCard\n").expect("document");
        let report = policies.evaluate(&docs);
        let wrong: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
        assert!(wrong.is_empty(), "examples that do not hold:\n{}", wrong.join("\n"));
    }
}
