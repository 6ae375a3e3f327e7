//! URL builtins, for the URLs and storage URIs of cards, BOMs, pipelines and deployments.
//!
//! Only absolute `scheme://...` URLs count, so an image name (`python:3.12`) or a Windows path is not
//! mistaken for one, and any whitespace or control character is refused rather than silently dropped
//! the way WHATWG parsing does (`https://exa\nmple.com` would otherwise read as `example.com`).
//!
//! Storage schemes parse as non-special URLs: `s3://bucket/key` and `gs://bucket/key` give the bucket as
//! host; `oci://registry/repo:tag` the registry. `hf://` URIs name Hugging Face repositories
//! (`hf://org/model`, `hf://datasets/org/name`), so they read as the web URL they stand for: host
//! `huggingface.co` and path `/datasets/org/name`, the same as `https://huggingface.co/datasets/org/name`.

use url::Url;

use super::support::{quoted, text};
use super::{Function, Ty};
use crate::value::Value;

fn valid_scheme(scheme: &str) -> bool {
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Characters that print as nothing, several of which host parsing (IDNA) deletes: soft hyphen, zero-width
/// and joiner characters, bidirectional controls, variation selectors, the byte-order mark.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{34f}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
    )
}

/// The parsed URL, or why `s` is not one (to follow "`s` is not a URL").
fn parse(s: &str) -> Result<Url, String> {
    if s.chars().any(|c| c.is_whitespace() || c.is_control() || invisible(c)) {
        return Err("it contains whitespace, control or invisible characters".into());
    }
    match s.split_once("://") {
        Some((scheme, _)) if valid_scheme(scheme) => {}
        _ => return Err("expected `scheme://...`".into()),
    }
    Url::parse(s).map_err(|e| e.to_string())
}

fn url(name: &str, s: &str) -> Result<Url, String> {
    parse(s).map_err(|why| format!("`{name}`: {} is not a URL: {why}", quoted(s)))
}

/// Host and path, with `hf://` read as the `https://huggingface.co/` URL it names.
fn host_and_path(u: &Url) -> (Option<String>, String) {
    match (u.scheme(), u.host_str()) {
        ("hf", Some(first)) => (Some("huggingface.co".into()), format!("/{first}{}", u.path())),
        (_, host) => (host.map(str::to_owned), u.path().to_owned()),
    }
}

fn opt(s: Option<&str>) -> Value {
    s.map(Value::from).unwrap_or_default()
}

fn parse_url(args: &[&Value]) -> Result<Value, String> {
    let u = url("parse_url", text(args, 0))?;
    let (host, path) = host_and_path(&u);
    Ok(Value::object_from([
        ("scheme", Value::from(u.scheme())),
        ("host", host.map(Value::from).unwrap_or_default()),
        ("port", u.port_or_known_default().map(|p| Value::Int(p.into())).unwrap_or_default()),
        ("path", Value::from(path)),
        ("query", opt(u.query())),
        ("fragment", opt(u.fragment())),
        ("username", opt(Some(u.username()).filter(|n| !n.is_empty()))),
        ("has_password", Value::Bool(u.password().is_some())),
    ]))
}

pub(super) fn functions() -> Vec<Function> {
    vec![
        Function::new("parse_url", &[Ty::STRING], Ty::OBJECT, parse_url).doc(
            "`parse_url(s)`: `{scheme, host, port, path, query, fragment, username, \
                has_password}` of a `scheme://` URL (port: explicit or the scheme's default; \
                null when absent).",
        ),
        Function::new("url_host", &[Ty::STRING], Ty::STRING.or(Ty::NULL), |a| {
            Ok(host_and_path(&url("url_host", text(a, 0))?).0.map(Value::from).unwrap_or_default())
        })
        .doc(
            "`url_host(s)`: the host of a URL, lowercase for web URLs (`s3://bucket/k`: the \
            bucket; `hf://`: `huggingface.co`), or null.",
        ),
        Function::new("url_scheme", &[Ty::STRING], Ty::STRING, |a| {
            Ok(Value::from(url("url_scheme", text(a, 0))?.scheme()))
        })
        .doc("`url_scheme(s)`: the scheme of a URL, lowercase (`https`, `s3`, `hf`)."),
        Function::new("is_url", &[Ty::STRING], Ty::BOOL, |a| Ok(Value::Bool(parse(text(a, 0)).is_ok()))).doc(
            "`is_url(s)`: whether `s` is an absolute `scheme://` URL that `parse_url` \
                accepts.",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::{CallContext, Registry};

    fn call(name: &str, arg: &str) -> Result<Value, String> {
        let registry = Registry::default();
        let f = registry.get(registry.lookup(name).expect(name));
        f.call(&[&Value::from(arg)], &CallContext { now: jiff::Timestamp::UNIX_EPOCH })
    }

    /// scheme, host, port, path, query, fragment, username
    type Parts<'a> =
        (&'a str, Option<&'a str>, Option<i64>, &'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);

    #[test]
    fn parsing() {
        let cases: &[(&str, Parts)] = &[
            (
                "https://huggingface.co/org/model",
                ("https", Some("huggingface.co"), Some(443), "/org/model", None, None, None),
            ),
            (
                "HTTPS://Example.COM:8443/a?b=1#c",
                ("https", Some("example.com"), Some(8443), "/a", Some("b=1"), Some("c"), None),
            ),
            ("http://example.com", ("http", Some("example.com"), Some(80), "/", None, None, None)),
            ("http://user:pw@10.0.0.1:80/x", ("http", Some("10.0.0.1"), Some(80), "/x", None, None, Some("user"))),
            ("http://[::1]:9000/", ("http", Some("[::1]"), Some(9000), "/", None, None, None)),
            ("https://bücher.de/", ("https", Some("xn--bcher-kva.de"), Some(443), "/", None, None, None)),
            (
                "s3://my-bucket/models/llm/weights.safetensors",
                ("s3", Some("my-bucket"), None, "/models/llm/weights.safetensors", None, None, None),
            ),
            ("s3://my-bucket", ("s3", Some("my-bucket"), None, "", None, None, None)),
            ("gs://bucket/path/to/model", ("gs", Some("bucket"), None, "/path/to/model", None, None, None)),
            ("hf://datasets/org/name", ("hf", Some("huggingface.co"), None, "/datasets/org/name", None, None, None)),
            ("hf://Org/Model-7B", ("hf", Some("huggingface.co"), None, "/Org/Model-7B", None, None, None)),
            ("oci://ghcr.io/org/model:v1", ("oci", Some("ghcr.io"), None, "/org/model:v1", None, None, None)),
            (
                "oci://localhost:5000/repo@sha256:abc",
                ("oci", Some("localhost"), Some(5000), "/repo@sha256:abc", None, None, None),
            ),
            ("pvc://model-claim/llama", ("pvc", Some("model-claim"), None, "/llama", None, None, None)),
            ("file:///models/x.onnx", ("file", None, None, "/models/x.onnx", None, None, None)),
        ];
        for (input, (scheme, host, port, path, query, fragment, username)) in cases {
            let expected = Value::object_from([
                ("scheme", Value::from(*scheme)),
                ("host", opt(*host)),
                ("port", port.map(Value::Int).unwrap_or_default()),
                ("path", Value::from(*path)),
                ("query", opt(*query)),
                ("fragment", opt(*fragment)),
                ("username", opt(*username)),
                ("has_password", Value::Bool(input.contains(":pw@"))),
            ]);
            assert_eq!(call("parse_url", input), Ok(expected), "{input}");
            assert_eq!(call("url_scheme", input), Ok(Value::from(*scheme)), "{input}");
            assert_eq!(call("url_host", input), Ok(opt(*host)), "{input}");
            assert_eq!(call("is_url", input), Ok(Value::Bool(true)), "{input}");
        }
    }

    #[test]
    fn credentials_are_flagged() {
        let u = call("parse_url", "https://:hf_token@huggingface.co/x").unwrap();
        assert_eq!(u.get("username"), Some(&Value::Null));
        assert_eq!(u.get("has_password"), Some(&Value::Bool(true)));
    }

    #[test]
    fn not_urls() {
        let cases = [
            ("", "expected `scheme://...`"),
            ("python:3.12", "expected `scheme://...`"),
            ("localhost:5000/x", "expected `scheme://...`"),
            ("ghcr.io/org/img", "expected `scheme://...`"),
            ("C:\\models\\x.bin", "expected `scheme://...`"),
            ("mailto:a@b.c", "expected `scheme://...`"),
            ("/etc/passwd", "expected `scheme://...`"),
            ("://host", "expected `scheme://...`"),
            ("1http://host", "expected `scheme://...`"),
            ("ht tp://host", "whitespace"),
            ("https://exa\nmple.com", "whitespace, control or invisible characters"),
            ("https://example.com\t", "whitespace"),
            (" https://example.com", "whitespace"),
            ("https://example.com/\u{0}", "control or invisible"),
            ("https://example.com/\u{200b}", "invisible characters"),
            ("https://exam\u{ad}ple.com/", "invisible"),
            ("https://example.com\u{202e}/", "invisible"),
            ("https://", "empty host"),
            ("https://example.com:99999/", "invalid port"),
            ("https://exa mple.com", "whitespace"),
            ("https://[::1/", "invalid IPv6"),
            ("http://a b/", "whitespace"),
        ];
        for (input, why) in cases {
            assert_eq!(call("is_url", input), Ok(Value::Bool(false)), "{input:?}");
            for name in ["parse_url", "url_host", "url_scheme"] {
                let err = call(name, input).unwrap_err();
                assert!(err.starts_with(&format!("`{name}`: `")), "{input:?}: {err}");
                assert!(err.contains("is not a URL: "), "{input:?}: {err}");
                assert!(err.contains(why), "{input:?}: {err}");
            }
        }
    }
}
