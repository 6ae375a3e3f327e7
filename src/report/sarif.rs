//! SARIF 2.1.0, for GitHub code scanning and other SARIF consumers (Azure DevOps, VS Code's SARIF viewer).
//!
//! Shaped by what GitHub accepts, which is stricter than the schema:
//! - GitHub rejects a whole upload if one result has no physical location, so every result gets one. Findings
//!   with no line (model files, data given as values) point at line 1, column 1 of their file.
//! - Paths are URI references relative to `%SRCROOT%`, the repository root (`Report::paths`; the working
//!   directory when it is unknown), so they match the paths in the repository whichever folder the check
//!   ran in and whichever runner or checkout folder produced them.
//! - `security-severity` on the rules puts alerts in GitHub's critical/high/medium/low bands; the result `level`
//!   alone would only give error/warning/note.
//! - `partialFingerprints` let GitHub follow an alert across commits even when lines move.
//!
//! Waived findings stay in the log with an accepted external suppression, as in every other report: the
//! exception is visible and reviewable where the alert is.

use std::path::{Component, Path};

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::Report;
use super::paths::Paths;
use crate::input::LoadError;
use crate::ir::{RuleInfo, Severity};
use crate::report::Reported;

/// The base every relative artifact URI is resolved against; declared in `run.originalUriBaseIds`.
const SRCROOT: &str = "%SRCROOT%";

/// Key of the fingerprint in `partialFingerprints`. The `/v1` lets the recipe change without GitHub
/// confusing old and new fingerprints.
const FINGERPRINT: &str = "vigilFindingHash/v2";

/// The SARIF log of a run. `rules` are every loaded rule (GitHub lists them whether or not they fired);
/// `base` is the working directory the input paths are relative to, and the root too unless the report
/// knows the repository root.
pub fn render(report: &Report, rules: &[&RuleInfo], base: &Path, out: &mut impl std::io::Write) -> std::io::Result<()> {
    // Rules by id, in the order given. Rules that only appear on findings are appended so every `ruleId`
    // resolves; duplicates are dropped (the schema wants unique descriptors).
    let mut by_id: IndexMap<&str, &RuleInfo> = IndexMap::new();
    for rule in rules.iter().copied().chain(report.findings.iter().map(|f| &*f.rule)) {
        by_id.entry(rule.id.as_str()).or_insert(rule);
    }
    let base = Base::new(&report.paths, base);
    // Each result (its line and columns, its SHA-256 fingerprint) is built in parallel, in order.
    let results: Vec<Value> = {
        use rayon::prelude::*;
        report.findings.par_iter().map(|f| result(f, by_id.get_index_of(f.rule.id.as_str()), &base)).collect()
    };
    let notifications: Vec<Value> = report.errors.iter().map(|e| notification(e, &base)).collect();

    let mut driver = Map::new();
    driver.insert("name".into(), json!("Vigil"));
    if let Some(uri) = information_uri() {
        driver.insert("informationUri".into(), json!(uri));
    }
    driver.insert("semanticVersion".into(), json!(env!("CARGO_PKG_VERSION")));
    driver.insert("rules".into(), by_id.values().map(|r| descriptor(r)).collect());

    let mut srcroot = Map::new();
    if let Some(dir) = base.paths.root().and_then(|d| url::Url::from_directory_path(d).ok()) {
        srcroot.insert("uri".into(), json!(dir.as_str()));
    }
    let log = json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "originalUriBaseIds": { SRCROOT: srcroot },
            // Columns count characters (`Source::line_col`), i.e. code points; said outright because some
            // consumers otherwise assume UTF-16 code units.
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
}

/// The project's URL from Cargo metadata, when it has one (SARIF wants an absolute URI or nothing).
fn information_uri() -> Option<String> {
    [env!("CARGO_PKG_HOMEPAGE"), env!("CARGO_PKG_REPOSITORY")].into_iter().find_map(absolute_uri)
}

/// `text` as an absolute http(s) URI, normalised; `None` for relative links, which `format: uri` rejects.
fn absolute_uri(text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// GitHub's mapping of levels: critical/high fail code scanning checks by default, medium/low warn.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium | Severity::Low => "warning",
        Severity::Info => "note",
    }
}

/// A score inside GitHub's band for the severity (critical ≥ 9.0, high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// A rule's `reportingDescriptor`.
fn descriptor(rule: &RuleInfo) -> Value {
    // Tags must be unique (the schema says so); controls first, since they are what people filter by.
    let mut tags: Vec<&str> = Vec::new();
    let all = rule.controls.iter().map(String::as_str).chain(["security"]).chain(rule.tags.iter().map(String::as_str));
    for tag in all {
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let description = if rule.description.trim().is_empty() { &rule.title } else { &rule.description };
    let help = rule.remediation.as_deref().unwrap_or(description);
    let mut markdown = help.to_string();
    if !rule.controls.is_empty() {
        let controls: Vec<String> = rule.controls.iter().map(|c| format!("`{c}`")).collect();
        markdown.push_str(&format!("\n\n**Controls:** {}", controls.join(", ")));
    }
    let mut d = Map::new();
    d.insert("id".into(), json!(rule.id));
    d.insert("name".into(), json!(pascal_case(&rule.title, &rule.id)));
    d.insert("shortDescription".into(), json!({ "text": rule.title }));
    d.insert("fullDescription".into(), json!({ "text": description }));
    d.insert("help".into(), json!({ "text": help, "markdown": markdown }));
    if let Some(url) = rule.url.as_deref().and_then(absolute_uri) {
        d.insert("helpUri".into(), json!(url));
    }
    d.insert("defaultConfiguration".into(), json!({ "level": level(rule.severity) }));
    d.insert(
        "properties".into(),
        json!({
            "tags": tags,
            "security-severity": security_severity(rule.severity),
            // Rules test exact conditions on parsed data: no heuristics, so no expected false positives.
            "precision": "high",
            "policy": format!("{}:{}", rule.file, rule.line),
        }),
    );
    Value::Object(d)
}

/// "Model file does not import dangerous Python globals" → "ModelFileDoesNotImportDangerousPythonGlobals".
/// SARIF wants an identifier; the id itself (`ART-001`) is not one.
fn pascal_case(title: &str, id: &str) -> String {
    let words = |text: &str| {
        let mut name = String::new();
        // Apostrophes join ("model's" → "Models"); every other non-alphanumeric character separates words.
        let text: String = text.chars().filter(|c| !matches!(c, '\'' | '’')).collect();
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                name.extend(first.to_uppercase());
                name.push_str(chars.as_str());
            }
        }
        name
    };
    let mut name = words(title);
    if name.is_empty() {
        name = words(id);
    }
    if !name.starts_with(char::is_alphabetic) {
        name.insert_str(0, "Rule");
    }
    name
}

/// One finding as a `result`.
fn result(f: &Reported, rule_index: Option<usize>, base: &Base) -> Value {
    let artifact = base.artifact(f.file());
    let region = match f.span() {
        Some(span) => {
            let (start_line, start_column) = f.source.line_col(span.start);
            let (end_line, end_column) = f.source.line_col(span.end);
            json!({ "startLine": start_line, "startColumn": start_column, "endLine": end_line, "endColumn": end_column })
        }
        // GitHub drops the whole upload for a result without a region; the file itself is still the place.
        None => json!({ "startLine": 1, "startColumn": 1 }),
    };
    let message = if f.message.trim().is_empty() { &f.rule.title } else { &f.message };
    let mut properties = Map::new();
    properties.insert("cause".into(), json!(f.cause.name()));
    properties.insert("pointer".into(), json!(f.pointer()));
    properties.insert("kind".into(), json!(f.kind.name()));
    properties.insert("severity".into(), json!(f.severity.name()));
    properties.insert("document".into(), json!(f.document));

    let mut r = Map::new();
    r.insert("ruleId".into(), json!(f.rule.id));
    if let Some(index) = rule_index {
        r.insert("ruleIndex".into(), json!(index));
    }
    r.insert("level".into(), json!(level(f.severity)));
    r.insert("message".into(), json!({ "text": message }));
    r.insert(
        "locations".into(),
        json!([{ "physicalLocation": { "artifactLocation": artifact.json(), "region": region } }]),
    );
    r.insert("partialFingerprints".into(), json!({ FINGERPRINT: super::baseline::fingerprint(f, &base.paths) }));
    if let Some(m) = f.waiver() {
        let w = &m.waiver;
        if m.expired {
            // An expired waiver no longer suppresses anything, but whoever reads the alert should know it existed.
            let note =
                format!("waiver {} ({}) expired on {}; the finding counts again", w.declared_at, w.reason, w.expires);
            properties.insert("expiredWaiver".into(), json!(note));
        } else {
            let justification = format!(
                "{} (owner {}, approved by {}, until {}; {})",
                w.reason, w.owner, w.approver, w.expires, w.declared_at
            );
            r.insert(
                "suppressions".into(),
                json!([{ "kind": "external", "status": "accepted", "justification": justification }]),
            );
        }
    }
    r.insert("properties".into(), Value::Object(properties));
    Value::Object(r)
}

/// An input error as a `notification` of the invocation.
fn notification(e: &LoadError, base: &Base) -> Value {
    let mut physical = Map::new();
    physical.insert("artifactLocation".into(), base.artifact(&e.file).json());
    if let Some((line, column)) = e.line_col() {
        physical.insert("region".into(), json!({ "startLine": line, "startColumn": column }));
    }
    json!({
        "level": "error",
        "message": { "text": e.message },
        "descriptor": { "id": crate::diagnostic::Code::Input.as_str() },
        "locations": [{ "physicalLocation": physical }],
    })
}

/// The repository root inputs are named from, and the working directory they were named in.
struct Base {
    paths: Paths,
}

/// Where an input is, as a SARIF `artifactLocation`.
struct Artifact {
    uri: String,
    /// Relative to `%SRCROOT%` (else `uri` is an absolute `file:` URI).
    relative: bool,
}

impl Artifact {
    fn json(&self) -> Value {
        if self.relative { json!({ "uri": self.uri, "uriBaseId": SRCROOT }) } else { json!({ "uri": self.uri }) }
    }
}

impl Base {
    fn new(paths: &Paths, cwd: &Path) -> Base {
        let paths = if paths.root().is_some() { paths.clone() } else { Paths::new(cwd, cwd) };
        Base { paths }
    }

    /// The input path (relative to the working directory, or absolute) as an artifact location: relative to
    /// the root when it is inside it, else an absolute `file:` URI.
    fn artifact(&self, file: &str) -> Artifact {
        if let Some(relative) = self.paths.relative(file) {
            return Artifact { uri: relative_uri(Path::new(&relative)), relative: true };
        }
        if let Some(url) = self.paths.absolute(file).and_then(|f| url::Url::from_file_path(f).ok()) {
            return Artifact { uri: url.to_string(), relative: false };
        }
        // Nothing absolute to resolve against: `../x` is still a valid relative reference.
        Artifact { uri: relative_uri(&super::paths::clean(Path::new(file))), relative: true }
    }
}

/// A relative path as a `/`-separated, percent-encoded URI reference.
fn relative_uri(path: &Path) -> String {
    let segments: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(encode_segment(&s.to_string_lossy())),
            Component::ParentDir => Some("..".to_string()),
            _ => None,
        })
        .collect();
    segments.join("/")
}

/// Percent-encodes a path segment: RFC 3986 `pchar` minus `:` (which would read as a scheme in a first
/// segment); everything else, spaces and non-ASCII included, as UTF-8 `%XX`.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_identifiers() {
        assert_eq!(
            pascal_case("Model file does not import dangerous Python globals", "X"),
            "ModelFileDoesNotImportDangerousPythonGlobals"
        );
        assert_eq!(pascal_case("safetensors header is well-formed", "X"), "SafetensorsHeaderIsWellFormed");
        assert_eq!(pascal_case("The model's card", "X"), "TheModelsCard");
        assert_eq!(pascal_case("2FA on deploys", "X"), "Rule2FAOnDeploys");
        assert_eq!(pascal_case("", "MC-SC-001"), "MCSC001");
    }

    #[test]
    fn paths_become_uri_references_under_the_base() {
        let base = Base::new(&Paths::default(), Path::new("/repo/work"));
        let rel = |f: &str| {
            let a = base.artifact(f);
            (a.uri, a.relative)
        };
        assert_eq!(rel("models/card.yaml"), ("models/card.yaml".into(), true));
        assert_eq!(rel("./models/../card.yaml"), ("card.yaml".into(), true));
        assert_eq!(rel("/repo/work/a b/ç:1.yaml"), ("a%20b/%C3%A7%3A1.yaml".into(), true));
        assert_eq!(rel("../other/x.json"), ("file:///repo/other/x.json".into(), false));
        assert_eq!(rel("/etc/x.yaml"), ("file:///etc/x.yaml".into(), false));
        assert_eq!(rel("100%.yaml"), ("100%25.yaml".into(), true));
    }
}
