//! Container image references and content digests, for "pinned by digest, from a trusted registry" rules.
//!
//! References parse the way Docker's `distribution/reference` (`ParseNormalizedNamed`) does:
//! `[registry/]path[:tag][@digest]`, where the first component is a registry only if it has a `.` or a `:`,
//! is `localhost`, or has uppercase letters; otherwise the registry is `docker.io`, and a one-component path
//! there gets `library/`. Path components are lowercase `[a-z0-9]` runs joined by `.`, `_`, `__` or dashes;
//! tags are `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`. Unlike Docker, a digest must be a full `sha256` or `sha512`
//! one (the algorithms OCI registers), and a missing tag stays null rather than becoming `latest`.

use super::support::{quoted, text};
use super::{Function, Ty};
use crate::value::Value;

/// Docker's limit on the name (registry and path) as written.
const NAME_MAX: usize = 255;

/// `sha256:` and 64 lowercase hex digits, or `sha512:` and 128.
fn is_digest(s: &str) -> bool {
    let (algorithm, hex) = s.split_once(':').unwrap_or_default();
    let len = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == len && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn alnum_run(s: &str, allowed: fn(u8) -> bool) -> bool {
    !s.is_empty() && s.bytes().all(allowed)
}

/// A registry host component: letters, digits and inner dashes.
fn host_label(s: &str) -> bool {
    alnum_run(s, |b| b.is_ascii_alphanumeric() || b == b'-') && !s.starts_with('-') && !s.ends_with('-')
}

/// `host[:port]`, the host a domain name or a bracketed IPv6 address.
fn valid_registry(s: &str) -> bool {
    let (host, port) = match s.rfind(':') {
        Some(i) if !s[i..].contains(']') => (&s[..i], Some(&s[i + 1..])),
        _ => (s, None),
    };
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(ipv6) => alnum_run(ipv6, |b| b.is_ascii_hexdigit() || b == b':'),
        None => host.split('.').all(host_label),
    };
    host_ok && port.is_none_or(|p| alnum_run(p, |b| b.is_ascii_digit()))
}

/// A path component: `[a-z0-9]+` runs separated by `.`, `_`, `__` or one or more `-`.
fn valid_component(s: &str) -> bool {
    let lower_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = s.as_bytes();
    let (mut i, mut expect_run) = (0, true);
    while i < bytes.len() {
        let start = i;
        if expect_run {
            while i < bytes.len() && lower_alnum(bytes[i]) {
                i += 1;
            }
            if i == start {
                return false;
            }
        } else {
            while i < bytes.len() && !lower_alnum(bytes[i]) {
                i += 1;
            }
            let sep = &s[start..i];
            if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-')) {
                return false;
            }
        }
        expect_run = !expect_run;
    }
    !expect_run
}

fn valid_tag(s: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    s.len() <= 128 && s.bytes().next().is_some_and(word) && s.bytes().all(|b| word(b) || b == b'.' || b == b'-')
}

/// A parsed reference, normalized.
struct ImageRef<'a> {
    registry: &'a str,
    repository: String,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

/// The reference, or what is wrong with it.
fn parse(s: &str) -> Result<ImageRef<'_>, String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    let (named, digest) = match s.split_once('@') {
        Some((named, digest)) if is_digest(digest) => (named, Some(digest)),
        Some((_, digest)) => {
            return Err(format!("{} is not a `sha256:` (64 lowercase hex) or `sha512:` (128) digest", quoted(digest)));
        }
        None => (s, None),
    };
    let (name, tag) = match named.rfind(':') {
        Some(i) if !named[i..].contains('/') => (&named[..i], Some(&named[i + 1..])),
        _ => (named, None),
    };
    if let Some(tag) = tag.filter(|t| !valid_tag(t)) {
        return Err(format!("{} is not a valid tag", quoted(tag)));
    }
    if name.len() > NAME_MAX {
        return Err(format!("the name is longer than {NAME_MAX} characters"));
    }
    let (registry, path) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':']) || first == "localhost" || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (first, rest)
        }
        _ => ("docker.io", name),
    };
    if !valid_registry(registry) {
        return Err(format!("{} is not a valid registry", quoted(registry)));
    }
    if let Some(bad) = path.split('/').find(|c| !valid_component(c)) {
        let why = if bad.bytes().any(|b| b.is_ascii_uppercase()) { " (repository names are lowercase)" } else { "" };
        return Err(format!("{} is not a valid repository path component{why}", quoted(bad)));
    }
    let registry = if registry == "index.docker.io" { "docker.io" } else { registry };
    let repository =
        if registry == "docker.io" && !path.contains('/') { format!("library/{path}") } else { path.to_owned() };
    Ok(ImageRef { registry, repository, tag, digest })
}

fn image_ref(args: &[&Value]) -> Result<Value, String> {
    let s = text(args, 0);
    let ImageRef { registry, repository, tag, digest } =
        parse(s).map_err(|why| format!("`image_ref`: {} is not an image reference: {why}", quoted(s)))?;
    let opt = |x: Option<&str>| x.map(Value::from).unwrap_or_default();
    Ok(Value::object_from([
        ("name", Value::from(format!("{registry}/{repository}"))),
        ("registry", Value::from(registry)),
        ("repository", Value::from(repository)),
        ("tag", opt(tag)),
        ("digest", opt(digest)),
    ]))
}

pub(super) fn functions() -> Vec<Function> {
    vec![
        Function::new("image_ref", &[Ty::STRING], Ty::OBJECT, image_ref).doc(
            "`image_ref(s)`: `{name, registry, repository, tag, digest}` of a container \
                image reference, normalized as Docker does (`python:3.12`: `docker.io`, \
                `library/python`); tag and digest null when absent.",
        ),
        Function::new("is_digest", &[Ty::STRING], Ty::BOOL, |a| Ok(Value::Bool(is_digest(text(a, 0))))).doc(
            "`is_digest(s)`: whether `s` is `sha256:` and 64 lowercase hex digits, or \
                `sha512:` and 128.",
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

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn references() {
        let pinned = format!("ghcr.io/org/img@{SHA}");
        let both = format!("nvcr.io/nvidia/tritonserver:24.05-py3@{SHA}");
        // input, (registry, repository, tag, digest)
        type Case<'a> = (&'a str, (&'a str, &'a str, Option<&'a str>, Option<&'a str>));
        let cases: Vec<Case> = vec![
            ("python", ("docker.io", "library/python", None, None)),
            ("python:3.12", ("docker.io", "library/python", Some("3.12"), None)),
            ("python:3.12-slim", ("docker.io", "library/python", Some("3.12-slim"), None)),
            (
                "pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime",
                ("docker.io", "pytorch/pytorch", Some("2.3.0-cuda12.1-cudnn8-runtime"), None),
            ),
            ("docker.io/python", ("docker.io", "library/python", None, None)),
            ("index.docker.io/library/python:3", ("docker.io", "library/python", Some("3"), None)),
            (&pinned, ("ghcr.io", "org/img", None, Some(SHA))),
            (&both, ("nvcr.io", "nvidia/tritonserver", Some("24.05-py3"), Some(SHA))),
            ("localhost:5000/x:1", ("localhost:5000", "x", Some("1"), None)),
            ("localhost/x", ("localhost", "x", None, None)),
            ("localhost:5000/x", ("localhost:5000", "x", None, None)),
            ("registry.example.com:443/a/b/c:v1.2", ("registry.example.com:443", "a/b/c", Some("v1.2"), None)),
            ("[::1]:5000/img:tag", ("[::1]:5000", "img", Some("tag"), None)),
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/model-server:latest",
                ("123456789012.dkr.ecr.us-east-1.amazonaws.com", "model-server", Some("latest"), None),
            ),
            ("Registry/img", ("Registry", "img", None, None)),
            ("a__b/c--d/e.f_g:T_1", ("docker.io", "a__b/c--d/e.f_g", Some("T_1"), None)),
        ];
        for (input, (registry, repository, tag, digest)) in cases {
            let opt = |x: Option<&str>| x.map(Value::from).unwrap_or_default();
            let expected = Value::object_from([
                ("name", Value::from(format!("{registry}/{repository}"))),
                ("registry", Value::from(registry)),
                ("repository", Value::from(repository)),
                ("tag", opt(tag)),
                ("digest", opt(digest)),
            ]);
            assert_eq!(call("image_ref", input), Ok(expected), "{input}");
        }
    }

    #[test]
    fn bad_references() {
        let long = format!("ghcr.io/{}", "a".repeat(250));
        let long_tag = format!("img:{}", "t".repeat(129));
        let cases = [
            ("", "it is empty"),
            ("Python:3", "`Python` is not a valid repository path component (repository names are lowercase)"),
            ("ghcr.io/Org/img", "(repository names are lowercase)"),
            ("img@sha256:abc", "`sha256:abc` is not a `sha256:` (64 lowercase hex) or `sha512:` (128) digest"),
            ("img@md5:0123456789abcdef0123456789abcdef", "is not a `sha256:`"),
            ("img@", "is not a `sha256:`"),
            ("img:", "`` is not a valid tag"),
            ("img:-x", "`-x` is not a valid tag"),
            ("img:a/b", "`img:a` is not a valid registry"),
            ("img:1:2", "is not a valid repository path component"),
            (&long_tag, "is not a valid tag"),
            (&long, "longer than 255"),
            ("docker://python:3.12", "is not a valid registry"),
            ("https://ghcr.io/org/img", "is not a valid registry"),
            ("ghcr.io/", "`` is not a valid repository path component"),
            ("ghcr.io//img", "`` is not a valid repository path component"),
            ("/img", "`` is not a valid repository path component"),
            ("-img", "`-img` is not a valid repository path component"),
            ("img-", "`img-` is not a valid repository path component"),
            ("a___b", "`a___b`"),
            ("a..b", "`a..b`"),
            ("my img", "`my img`"),
            (" python", "` python`"),
            ("python ", "`python `"),
            ("pythön", "`pythön`"),
            ("ghcr.io:/img", "`ghcr.io:` is not a valid registry"),
            ("ghcr.io:abc/img", "is not a valid registry"),
            ("-ghcr.io/img", "is not a valid registry"),
            ("ghcr..io/img", "is not a valid registry"),
            ("[zz]:5000/img", "is not a valid registry"),
        ];
        for (input, why) in cases {
            let err = call("image_ref", input).unwrap_err();
            assert!(err.starts_with("`image_ref`: `"), "{input}: {err}");
            assert!(err.contains("is not an image reference: "), "{input}: {err}");
            assert!(err.contains(why), "{input}: {err}");
        }
    }

    #[test]
    fn digests() {
        let sha512 = format!("sha512:{}", "ab".repeat(64));
        let cases = [
            (SHA.to_owned(), true),
            (sha512, true),
            (SHA.to_uppercase(), false),
            (SHA.replace("sha256", "SHA256"), false),
            (format!("{SHA}0"), false),
            (SHA[..SHA.len() - 1].to_owned(), false),
            (SHA.replace('a', "g"), false),
            (format!("sha512:{}", "a".repeat(64)), false),
            (format!("sha384:{}", "a".repeat(96)), false),
            ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".to_owned(), false),
            ("sha256:".to_owned(), false),
            (String::new(), false),
            (format!(" {SHA}"), false),
        ];
        for (input, expected) in cases {
            assert_eq!(call("is_digest", &input), Ok(Value::Bool(expected)), "{input}");
        }
    }
}
