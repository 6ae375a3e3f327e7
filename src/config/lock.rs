//! `[lock]`: what a repository's `vigil.toml` may not loosen when it is layered on a trusted configuration.
//!
//! In CI the gate's own settings come from outside the repository (`policy check --config /ci/vigil.toml .`).
//! With a `[lock]` in that file the repository's `vigil.toml` is still read, on top, so a project can add its
//! policies, raise severities, enable more rules and give kinds to files nothing recognises, but it cannot:
//!
//! - switch off a locked rule, lower its severity, drop it (`builtin = false`) or waive it (`rules`);
//! - set a locked parameter, such as an allowlist (`params`);
//! - raise `fail_on`, in its base settings or the profile in use (`fail_on`);
//! - change the kind of a file detected as a locked kind, such as forcing `*.pkl` to `Unknown` (`kinds`);
//! - choose what is checked (`paths`) or leave files out (`exclude`): those belong to the trusted file;
//! - name the key policy bundles must be signed with (`bundle_key`): a key the repository chose would let it
//!   sign its own bundle and call it approved. Its `bundles` still load, verified with the trusted key.
//!
//! Everything is locked unless the lock says otherwise, so an empty `[lock]` is the strictest. A violation is
//! an error naming both files (exit code 2), never a silent fallback.
//!
//! ```toml
//! [lock]
//! rules = ["*"]             # rule ids or globs the repository may not weaken (default: all)
//! params = ["*"]            # parameters it may not set (default: all; [] lets it set any)
//! kinds = ["*"]             # detected kinds it may not change (default: all but Unknown)
//! fail_on = true            # it may not raise fail_on (default: true)
//! ```

use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::{Config, FailOn, Reader};
use crate::diagnostic::{Code, Diagnostic};
use crate::input::Kind;
use crate::ir::Severity;
use crate::settings::RuleState;
use crate::source::Source;
use crate::value::Value;
use crate::waiver::Waiver;

/// What a layered repository configuration may not loosen.
#[derive(Clone, Debug)]
pub struct Lock {
    /// Rule ids or globs.
    pub rules: Vec<String>,
    /// Parameter names or globs.
    pub params: Vec<String>,
    /// Detected kinds a repository's `[kinds]` may not change.
    pub kinds: Vec<Kind>,
    /// The repository may not raise `fail_on`.
    pub fail_on: bool,
    rule_globs: GlobSet,
    param_globs: GlobSet,
}

impl Default for Lock {
    fn default() -> Lock {
        let all = vec!["*".to_string()];
        Lock {
            rule_globs: globs(&all).unwrap_or_default(),
            param_globs: globs(&all).unwrap_or_default(),
            rules: all.clone(),
            params: all,
            kinds: every_kind(),
            fail_on: true,
        }
    }
}

impl Lock {
    /// Whether the rule with this id is locked.
    pub fn locks_rule(&self, id: &str) -> bool {
        self.rule_globs.is_match(id)
    }

    /// Whether the parameter with this name is locked.
    pub fn locks_param(&self, name: &str) -> bool {
        self.param_globs.is_match(name)
    }
}

/// Every kind but `Unknown`: giving a kind to a file nothing recognises only adds checks.
fn every_kind() -> Vec<Kind> {
    Kind::ALL.iter().copied().filter(|k| *k != Kind::Unknown).collect()
}

fn globs(patterns: &[String]) -> Result<GlobSet, String> {
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        set.add(Glob::new(p).map_err(|e| format!("invalid pattern `{p}`: {e}"))?);
    }
    set.build().map_err(|e| e.to_string())
}

const LOCK_KEYS: [&str; 4] = ["rules", "params", "kinds", "fail_on"];

/// Reads a `[lock]` table of a trusted file.
pub(super) fn read(reader: &mut Reader, value: &Value) -> Option<Lock> {
    let mut lock = Lock::default();
    for (key, v) in reader.table(value, &LOCK_KEYS, "lock key") {
        match key.as_str() {
            "rules" | "params" => {
                let patterns = reader.strings(v);
                match globs(&patterns) {
                    Ok(set) if key == "rules" => (lock.rules, lock.rule_globs) = (patterns, set),
                    Ok(set) => (lock.params, lock.param_globs) = (patterns, set),
                    Err(e) => {
                        reader.error(v, e);
                    }
                }
            }
            "kinds" => {
                let mut kinds = Vec::new();
                for name in reader.strings(v) {
                    if name == "*" {
                        kinds.extend(every_kind());
                    } else {
                        match name.parse::<Kind>() {
                            Ok(k) => kinds.push(k),
                            Err(e) => {
                                reader.error(v, e);
                            }
                        }
                    }
                }
                lock.kinds = kinds;
            }
            "fail_on" => lock.fail_on = reader.boolean(v).unwrap_or(true),
            _ => {}
        }
    }
    Some(lock)
}

/// An error pointing at the repository file's value under `keys` (or at its start), naming the trusted file.
fn violation(repo: &Config, trusted: &Config, keys: &[&str], message: String) -> Diagnostic {
    let help =
        format!("{} locks this ([lock]); change it there, or drop the setting from {}", shown(trusted), shown(repo));
    let Some(doc) = &repo.doc else {
        return Diagnostic::new(Code::Lock, &Source::new(shown(repo), ""), Default::default(), message).with_help(help);
    };
    let mut node = Some(doc.data());
    for key in keys {
        node = node.and_then(|n| n.get(key));
    }
    let source = doc.source().clone();
    let span = node.and_then(|n| doc.locate(n)).map(|l| l.label_span(source.text())).unwrap_or_default();
    Diagnostic::new(Code::Lock, &source, span, message).with_help(help)
}

fn shown(config: &Config) -> String {
    config.file.display().to_string()
}

fn looser(a: FailOn, b: FailOn) -> bool {
    match (a, b) {
        (FailOn::Never, FailOn::Never) => false,
        (FailOn::Never, _) => true,
        (FailOn::At(_), FailOn::Never) => false,
        (FailOn::At(x), FailOn::At(y)) => x > y,
    }
}

/// Checks that need only the two files: `paths`, `exclude`, parameters and `fail_on` (for the profile in use).
pub fn check_layers(trusted: &Config, repo: &Config, profile: Option<&str>) -> Vec<Diagnostic> {
    let Some(lock) = &trusted.lock else { return Vec::new() };
    let mut errors = Vec::new();
    let repo_name = shown(repo);
    if !repo.paths.is_empty() {
        let message = format!(
            "{repo_name} sets `paths`, but what is checked is chosen by {} or the command line",
            shown(trusted)
        );
        errors.push(violation(repo, trusted, &["paths"], message));
    }
    if !repo.exclude.is_empty() {
        let message = format!("{repo_name} sets `exclude`, but only {} may leave files out", shown(trusted));
        errors.push(violation(repo, trusted, &["exclude"], message));
    }
    if repo.bundle_key.is_some() {
        let message = format!(
            "{repo_name} sets `bundle_key`, but the key bundles must be signed with is chosen by {} or the command line",
            shown(trusted)
        );
        errors.push(violation(repo, trusted, &["bundle_key"], message));
    }
    let repo_profile = profile.and_then(|p| repo.profiles.get(p));
    let mut params: Vec<(&str, Vec<&str>)> = repo.params.iter().map(|(k, _)| (k.as_str(), vec!["params", k])).collect();
    if let (Some(p), Some(name)) = (repo_profile, profile) {
        params.extend(p.params.iter().map(|(k, _)| (k.as_str(), vec!["profiles", name, "params", k])));
    }
    for (name, keys) in params {
        if lock.locks_param(name) {
            let message = format!("{repo_name} sets the parameter `{name}`, which {} locks", shown(trusted));
            errors.push(violation(repo, trusted, &keys, message));
        }
    }
    if lock.fail_on {
        let trusted_profile = profile.and_then(|p| trusted.profiles.get(p));
        let limit = trusted_profile.and_then(|p| p.fail_on).or(trusted.fail_on).unwrap_or(FailOn::At(Severity::Low));
        let mut settings: Vec<(FailOn, Vec<&str>)> = repo.fail_on.map(|f| (f, vec!["fail_on"])).into_iter().collect();
        if let (Some(f), Some(name)) = (repo_profile.and_then(|p| p.fail_on), profile) {
            settings.push((f, vec!["profiles", name, "fail_on"]));
        }
        for (f, keys) in settings {
            if looser(f, limit) {
                let message = format!(
                    "{repo_name} raises `fail_on` to {}, above {}, which {} locks",
                    name(f),
                    name(limit),
                    shown(trusted)
                );
                errors.push(violation(repo, trusted, &keys, message));
            }
        }
    }
    errors
}

fn name(f: FailOn) -> &'static str {
    f.severity().map_or("never", Severity::name)
}

/// Compares every locked rule as the trusted settings leave it (`before`) with the same rule once the
/// repository's file is layered on (`after`), and refuses the repository's waivers of locked rules.
pub fn check_rules(
    trusted: &Config,
    repo: &Config,
    before: &[RuleState],
    after: &[RuleState],
    repo_waivers: &[Arc<Waiver>],
) -> Vec<String> {
    let Some(lock) = &trusted.lock else { return Vec::new() };
    let (t, r) = (shown(trusted), shown(repo));
    let mut errors = Vec::new();
    for rule in before.iter().filter(|s| s.enabled && lock.locks_rule(&s.id)) {
        let id = &rule.id;
        match after.iter().find(|s| s.id == rule.id) {
            None => errors.push(format!("{r} leaves out rule {id} (`builtin = false`?), which {t} locks")),
            Some(s) if !s.enabled => errors.push(format!("{r} switches off rule {id}, which {t} locks")),
            Some(s) if s.severity < rule.severity => errors.push(format!(
                "{r} lowers rule {id} from {} to {}, which {t} locks",
                rule.severity.name(),
                s.severity.name()
            )),
            Some(_) => {}
        }
    }
    for w in repo_waivers {
        if lock.locks_rule(&w.rule) && before.iter().any(|s| s.id == w.rule) {
            errors.push(format!(
                "the waiver at {} (from {r}) waives rule {}, which {t} locks; waivers of locked rules belong in the trusted configuration",
                w.declared_at, w.rule
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock_of(text: &str) -> Result<Option<Lock>, Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trusted.toml");
        std::fs::write(&path, text).unwrap();
        super::super::load(&path).map(|c| c.lock).map_err(|e| e.iter().map(|d| d.message.clone()).collect())
    }

    #[test]
    fn an_empty_lock_locks_everything_but_unknown_kinds() {
        let lock = lock_of("[lock]\n").unwrap().expect("a lock");
        assert!(lock.locks_rule("ART-001") && lock.locks_param("trusted_orgs") && lock.fail_on);
        assert!(lock.kinds.contains(&Kind::ModelArtifact) && !lock.kinds.contains(&Kind::Unknown));
        assert!(lock_of("fail_on = \"high\"\n").unwrap().is_none(), "no [lock], no layering");
    }

    #[test]
    fn a_lock_opens_only_what_it_says() {
        let lock = lock_of("[lock]\nrules = [\"ART-*\"]\nparams = []\nkinds = [\"ModelArtifact\"]\nfail_on = false\n")
            .unwrap()
            .expect("a lock");
        assert!(lock.locks_rule("ART-004") && !lock.locks_rule("GHA-PIN-001"));
        assert!(!lock.locks_param("trusted_orgs") && !lock.fail_on);
        assert_eq!(lock.kinds, [Kind::ModelArtifact]);
    }

    #[test]
    fn lock_mistakes_are_errors() {
        let errors = lock_of("[lock]\nrule = [\"*\"]\nkinds = [\"Pickle\"]\nparams = [\"[\"]\n").unwrap_err();
        assert!(errors.iter().any(|m| m.contains("unknown lock key `rule`")), "{errors:?}");
        assert!(errors.iter().any(|m| m.contains("unknown document kind `Pickle`")), "{errors:?}");
        assert!(errors.iter().any(|m| m.contains("invalid pattern `[`")), "{errors:?}");
    }

    #[test]
    fn never_is_the_loosest_fail_on() {
        let at = FailOn::At;
        assert!(looser(FailOn::Never, at(Severity::Critical)));
        assert!(looser(at(Severity::Critical), at(Severity::High)));
        assert!(!looser(at(Severity::Medium), at(Severity::High)));
        assert!(!looser(at(Severity::High), FailOn::Never));
    }
}
