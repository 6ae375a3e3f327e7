//! Waivers: accountable exceptions. Each names one rule, the files it covers (a glob), optionally one item
//! (a JSON pointer) or one exact file (its SHA-256), and who asked, who approved, why, and until when.
//!
//! A waived finding is never dropped: it stays in every report, marked with its waiver, and stops counting
//! towards the exit code. An expired waiver no longer applies and says so; a waiver that matches nothing is
//! reported, so stale exceptions do not pile up. There are no inline "skip" comments in inputs: exceptions
//! live in one reviewable place.

use std::sync::Arc;

use globset::{GlobBuilder, GlobMatcher};

use crate::diagnostic::{Code, Diagnostic, suggestion};
use crate::input::Document;
use crate::source::{Source, Span};
use crate::value::Value;

/// One accountable exception.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Waiver {
    /// The rule id it waives.
    pub rule: String,
    /// Glob over input paths (as given on the command line, `/`-separated): `models/legacy/*.pkl`.
    pub path: String,
    /// Only the finding at this JSON pointer, or under it (`/artifacts/3`).
    pub pointer: Option<String>,
    /// Only while the input file has this SHA-256 (the reviewed content).
    pub digest: Option<String>,
    /// Why the exception is acceptable.
    pub reason: String,
    /// Who asked for it.
    pub owner: String,
    /// Who approved it.
    pub approver: String,
    /// Last day it applies (inclusive), `YYYY-MM-DD`.
    pub expires: String,
    /// Where it is declared: `waivers.yaml:12`.
    pub declared_at: String,
    #[serde(skip)]
    pub(crate) glob: Option<GlobMatcher>,
    #[serde(skip)]
    pub(crate) expires_on: Option<jiff::civil::Date>,
}

/// How a waiver relates to a finding.
#[derive(Clone, Debug)]
pub struct WaiverMatch {
    /// The waiver.
    pub waiver: Arc<Waiver>,
    /// It matched, but its date has passed: the finding counts again.
    pub expired: bool,
}

impl Waiver {
    /// Whether the waiver covers a finding of `rule` in `file` at `pointer`, for a file whose SHA-256 is
    /// `digest` (when known).
    pub fn covers(&self, rule: &str, file: &str, pointer: &str, digest: Option<&str>) -> bool {
        let file = file.strip_prefix("./").unwrap_or(file);
        self.rule == rule
            && self.glob.as_ref().is_some_and(|g| g.is_match(file))
            && self.pointer.as_deref().is_none_or(|p| pointer == p || pointer.starts_with(&format!("{p}/")))
            && self.digest.as_deref().is_none_or(|d| digest.is_some_and(|got| got.eq_ignore_ascii_case(d)))
    }

    /// Whether the waiver has expired on `today`.
    pub fn expired(&self, today: jiff::civil::Date) -> bool {
        self.expires_on.is_none_or(|d| today > d)
    }
}

const FIELDS: [&str; 8] = ["rule", "path", "pointer", "digest", "reason", "owner", "approver", "expires"];
const REQUIRED: [&str; 6] = ["rule", "path", "reason", "owner", "approver", "expires"];

/// Reads waivers from a YAML (or JSON) file: a list, or `{waivers: [...]}`.
pub fn load_file(path: &std::path::Path) -> Result<Vec<Arc<Waiver>>, Vec<Diagnostic>> {
    let name = path.to_string_lossy();
    let docs = Document::from_path(path).map_err(|e| vec![load_error(&e)])?;
    let Some(doc) = docs.first() else { return Ok(Vec::new()) };
    let list = match doc.data() {
        Value::Object(map) if map.contains_key("waivers") => map.get("waivers").cloned().unwrap_or_default(),
        other => other.clone(),
    };
    parse_list(&list, doc, &name)
}

fn load_error(e: &crate::input::LoadError) -> Diagnostic {
    let source = e.source_text().cloned().unwrap_or_else(|| Source::new(e.file.clone(), ""));
    Diagnostic::new(Code::Waiver, &source, e.span.unwrap_or_default(), e.message.clone())
}

/// Validates a list of waiver entries from a loaded document (a waivers file or the `[[waiver]]` tables of
/// `vigil.toml`), reporting every problem with its location.
pub fn parse_list(list: &Value, doc: &Document, name: &str) -> Result<Vec<Arc<Waiver>>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let source = doc.source().clone();
    let at = |v: &Value| doc.locate(v).map(|l| l.label_span(source.text())).unwrap_or_default();
    let Some(items) = list.as_array() else {
        errors.push(Diagnostic::new(Code::Waiver, &source, at(list), "waivers must be a list of entries"));
        return Err(errors);
    };
    let mut out = Vec::new();
    for item in items {
        let Some(map) = item.as_object() else {
            errors.push(Diagnostic::new(Code::Waiver, &source, at(item), "a waiver must be a mapping of fields"));
            continue;
        };
        let line = source.line_col(at(item).start).0;
        let mut problems = Vec::new();
        for (key, value) in map.iter() {
            if !FIELDS.contains(&&**key) {
                let d = Diagnostic::new(Code::Waiver, &source, at(value), format!("unknown waiver field `{key}`"));
                problems.push(d.with_help_opt(suggestion(key, FIELDS)));
            } else if !matches!(value, Value::String(_)) {
                problems.push(Diagnostic::new(Code::Waiver, &source, at(value), format!("`{key}` must be a string")));
            }
        }
        for field in REQUIRED {
            match map.get(field) {
                None => {
                    let message = format!("waiver has no `{field}` (every waiver needs {})", REQUIRED.join(", "));
                    problems.push(Diagnostic::new(Code::Waiver, &source, at(item), message));
                }
                Some(v) if v.as_str().is_some_and(|s| s.trim().is_empty()) => {
                    problems.push(Diagnostic::new(Code::Waiver, &source, at(v), format!("`{field}` is empty")));
                }
                Some(_) => {}
            }
        }
        let text = |k: &str| map.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let path = text("path");
        let glob = GlobBuilder::new(path.trim_start_matches("./")).literal_separator(true).build();
        if let Err(e) = &glob {
            let span = map.get("path").map(at).unwrap_or_default();
            problems.push(Diagnostic::new(Code::Waiver, &source, span, format!("invalid path glob: {e}")));
        }
        let expires_on = text("expires").parse::<jiff::civil::Date>().ok();
        if expires_on.is_none() && map.contains_key("expires") {
            let span = map.get("expires").map(at).unwrap_or_default();
            problems.push(Diagnostic::new(Code::Waiver, &source, span, "`expires` must be a date, YYYY-MM-DD"));
        }
        if !problems.is_empty() {
            errors.extend(problems);
            continue;
        }
        out.push(Arc::new(Waiver {
            rule: text("rule"),
            path,
            pointer: map.get("pointer").and_then(Value::as_str).map(str::to_string),
            digest: map.get("digest").and_then(Value::as_str).map(|d| d.trim_start_matches("sha256:").to_string()),
            reason: text("reason"),
            owner: text("owner"),
            approver: text("approver"),
            expires: text("expires"),
            declared_at: format!("{name}:{line}"),
            glob: glob.ok().map(|g| g.compile_matcher()),
            expires_on,
        }));
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Applies `waivers` to a report: marks each finding with the first waiver covering it (a current one if any,
/// else an expired one, which says so) and lists in `report.unused_waivers` the waivers that matched nothing.
/// Digest-pinned waivers compare the SHA-256 recorded for the finding's file in `report.inputs`: a file with
/// no recorded digest is not covered by them (fail closed). `today` decides expiry (the run's clock, so
/// `--now` pins it). The one place waivers meet findings: `policy check`, `policy report merge` and
/// `policy serve` all call it.
pub fn apply(report: &mut crate::report::Report, waivers: &[Arc<Waiver>], today: jiff::civil::Date) {
    let digests: std::collections::HashMap<&str, &str> =
        report.inputs.iter().filter_map(|i| Some((i.path.as_str(), i.sha256.as_deref()?))).collect();
    let mut used = vec![false; waivers.len()];
    for finding in &mut report.findings {
        let digest = digests.get(finding.file()).copied();
        let mut chosen: Option<(usize, bool)> = None;
        for (i, w) in waivers.iter().enumerate() {
            if !w.covers(&finding.rule.id, finding.file(), finding.pointer(), digest) {
                continue;
            }
            if !w.expired(today) {
                chosen = Some((i, false));
                break;
            }
            chosen.get_or_insert((i, true));
        }
        finding.waiver = chosen.map(|(i, expired)| {
            used[i] = true;
            WaiverMatch { waiver: waivers[i].clone(), expired }
        });
    }
    report.unused_waivers = waivers.iter().zip(used).filter(|(_, u)| !u).map(|(w, _)| w.clone()).collect();
}

/// A span-less diagnostic about a waiver (unknown rule ids, unused waivers under `--strict-waivers`).
pub fn problem(waiver: &Waiver, message: impl Into<String>) -> Diagnostic {
    let source = Source::new(waiver.declared_at.clone(), "");
    Diagnostic::new(Code::Waiver, &source, Span::default(), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waivers(yaml: &str) -> Result<Vec<Arc<Waiver>>, Vec<Diagnostic>> {
        let docs = Document::from_str("waivers.yaml", yaml).unwrap();
        parse_list(docs[0].data(), &docs[0], "waivers.yaml")
    }

    const ONE: &str = "- rule: ART-003\n  path: models/legacy/*.pkl\n  pointer: /format\n  reason: migrating\n  owner: ml-team\n  approver: security\n  expires: '2026-12-31'\n";

    #[test]
    fn a_waiver_covers_its_rule_files_and_items() {
        let w = &waivers(ONE).unwrap()[0];
        assert!(w.covers("ART-003", "models/legacy/opt.pkl", "/format", None));
        assert!(w.covers("ART-003", "./models/legacy/opt.pkl", "/format/x", None));
        assert!(!w.covers("ART-003", "models/legacy/sub/opt.pkl", "/format", None), "`*` does not cross `/`");
        assert!(!w.covers("ART-001", "models/legacy/opt.pkl", "/format", None));
        assert!(!w.covers("ART-003", "models/legacy/opt.pkl", "/formatted", None));
        assert_eq!(w.declared_at, "waivers.yaml:1");
        assert!(!w.expired("2026-12-31".parse().unwrap()));
        assert!(w.expired("2027-01-01".parse().unwrap()));
    }

    #[test]
    fn digests_pin_the_reviewed_content() {
        let yaml = ONE.replace("  pointer: /format\n", "  digest: sha256:ABCD\n");
        let w = &waivers(&yaml).unwrap()[0];
        assert!(w.covers("ART-003", "models/legacy/a.pkl", "", Some("abcd")));
        assert!(!w.covers("ART-003", "models/legacy/a.pkl", "", Some("ef01")));
        assert!(!w.covers("ART-003", "models/legacy/a.pkl", "", None));
    }

    /// A report of one finding (rule T-1 on `models/a.yaml`, at `/name`) and one input whose digest is `sha256`.
    fn report(sha256: Option<&str>) -> crate::report::Report {
        let policy = "package t\nrule \"T-1\" {\n  title = \"t\"\n  severity = high\n  applies_to = ModelCard\n  require input.name == \"ok\" else \"bad\" at input.name\n}\n";
        let policies = crate::Engine::default().compile([("t.policy", policy)]).unwrap();
        let docs = Document::from_str("models/a.yaml", "kind: ModelCard\nname: x\n").unwrap();
        let mut report = policies.evaluate(&docs);
        report.inputs[0].sha256 = sha256.map(str::to_string);
        report
    }

    fn entry(rule: &str, expires: &str, extra: &str) -> String {
        format!(
            "- rule: {rule}\n  path: models/*.yaml\n{extra}  reason: r\n  owner: o\n  approver: a\n  expires: '{expires}'\n"
        )
    }

    #[test]
    fn apply_puts_the_waiver_beside_the_finding_preferring_a_current_one() {
        let today: jiff::civil::Date = "2026-06-01".parse().unwrap();
        let yaml = [entry("T-1", "2026-01-01", ""), entry("T-1", "2026-12-31", ""), entry("T-2", "2026-12-31", "")];
        let list = waivers(&yaml.concat()).unwrap();
        let mut report = report(None);
        apply(&mut report, &list, today);
        let m = report.findings[0].waiver().expect("waived");
        assert!(!m.expired && Arc::ptr_eq(&m.waiver, &list[1]), "the current waiver wins over the expired one");
        assert!(report.findings[0].waived());
        let unused: Vec<&str> = report.unused_waivers.iter().map(|w| w.declared_at.as_str()).collect();
        assert_eq!(unused, ["waivers.yaml:1", "waivers.yaml:13"], "an expired match that lost is unused too");
        // Only an expired one: the finding says so and counts again.
        apply(&mut report, &list[..1], today);
        assert!(report.findings[0].waiver().is_some_and(|m| m.expired) && !report.findings[0].waived());
        assert!(report.unused_waivers.is_empty());
        // Applying none clears what an earlier call set.
        apply(&mut report, &[], today);
        assert!(report.findings[0].waiver().is_none() && report.unused_waivers.is_empty());
    }

    #[test]
    fn apply_compares_pinned_digests_with_the_inputs_and_fails_closed() {
        let today: jiff::civil::Date = "2026-06-01".parse().unwrap();
        let list = waivers(&entry("T-1", "2026-12-31", "  digest: sha256:ABCD\n")).unwrap();
        for (digest, waived) in [(Some("abcd"), true), (Some("ef01"), false), (None, false)] {
            let mut report = report(digest);
            apply(&mut report, &list, today);
            assert_eq!(report.findings[0].waived(), waived, "input digest {digest:?}");
            assert_eq!(report.unused_waivers.len(), usize::from(!waived));
        }
    }

    #[test]
    fn problems_are_located() {
        let errors =
            waivers("- rule: X\n  path: '['\n  reson: typo\n  owner: a\n  approver: b\n  expires: soon\n").unwrap_err();
        let messages: Vec<String> = errors.iter().map(|d| format!("{}: {}", d.location(), d.message)).collect();
        assert!(
            messages.iter().any(|m| m.starts_with("waivers.yaml:3:10: unknown waiver field `reson`")),
            "{messages:?}"
        );
        assert!(messages.iter().any(|m| m.contains("waiver has no `reason`")), "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("invalid path glob")), "{messages:?}");
        assert!(messages.iter().any(|m| m.starts_with("waivers.yaml:6:12: `expires` must be a date")), "{messages:?}");
    }
}
