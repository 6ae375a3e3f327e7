//! Rule settings: which rules run and at what severity. Configuration files and profiles change these
//! without editing a policy; a pattern that names no loaded rule is an error, so a typo cannot silently
//! leave a rule on (or off).

use std::sync::Arc;

use globset::Glob;

use crate::ir::{Program, Severity};

/// Rule ids or globs (`MC-*`) to switch off or back on, and severities to override.
///
/// ```
/// use vigil::{RuleSettings, Severity};
/// let settings = RuleSettings::default().with_disable(["MC-*"]).with_enable(["MC-001"]).with_severity("ART-*", Severity::Critical);
/// assert_eq!(settings.severity, vec![("ART-*".to_string(), Severity::Critical)]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct RuleSettings {
    /// Rules to switch off.
    pub disable: Vec<String>,
    /// Rules to switch back on (applied after `disable`, so a profile can re-enable what the base config disabled).
    pub enable: Vec<String>,
    /// `(rule id or glob, severity)`: later entries win.
    pub severity: Vec<(String, Severity)>,
}

impl RuleSettings {
    /// Switches these rules (ids or globs) off, after those already listed.
    #[must_use]
    pub fn with_disable(mut self, rules: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.disable.extend(rules.into_iter().map(Into::into));
        self
    }

    /// Switches these rules (ids or globs) back on, after those already listed.
    #[must_use]
    pub fn with_enable(mut self, rules: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.enable.extend(rules.into_iter().map(Into::into));
        self
    }

    /// Gives the rules `pattern` (an id or a glob) matches this severity; later entries win.
    #[must_use]
    pub fn with_severity(mut self, pattern: impl Into<String>, severity: Severity) -> Self {
        self.severity.push((pattern.into(), severity));
        self
    }

    /// These settings followed by `other`'s (a profile on top of the base configuration).
    pub fn then(&self, other: &RuleSettings) -> RuleSettings {
        RuleSettings {
            disable: self.disable.iter().chain(&other.disable).cloned().collect(),
            enable: self.enable.iter().chain(&other.enable).cloned().collect(),
            severity: self.severity.iter().chain(&other.severity).cloned().collect(),
        }
    }
}

/// Per-rule state, indexed like `Program::rules`.
#[derive(Debug)]
pub(crate) struct RuleTable {
    pub enabled: Vec<bool>,
    pub severity: Vec<Severity>,
}

impl RuleTable {
    pub(crate) fn defaults(program: &Program) -> Arc<RuleTable> {
        Arc::new(RuleTable {
            enabled: vec![true; program.rules.len()],
            severity: program.rules.iter().map(|r| r.info.severity).collect(),
        })
    }

    /// Applies `settings`; every pattern must match at least one rule.
    pub(crate) fn with(program: &Program, settings: &RuleSettings) -> Result<Arc<RuleTable>, String> {
        let ids: Vec<&str> = program.rules.iter().map(|r| r.info.id.as_str()).collect();
        let matching = |pattern: &str| -> Result<Vec<usize>, String> {
            let glob =
                Glob::new(pattern).map_err(|e| format!("invalid rule pattern `{pattern}`: {e}"))?.compile_matcher();
            let hits: Vec<usize> = ids.iter().enumerate().filter(|(_, id)| glob.is_match(id)).map(|(i, _)| i).collect();
            if hits.is_empty() {
                let help = crate::diagnostic::suggestion(pattern, ids.iter().copied())
                    .map_or(String::new(), |s| format!(" ({s})"));
                return Err(format!("no loaded rule matches `{pattern}`{help}"));
            }
            Ok(hits)
        };
        let mut table = RuleTable {
            enabled: vec![true; ids.len()],
            severity: program.rules.iter().map(|r| r.info.severity).collect(),
        };
        for pattern in &settings.disable {
            for i in matching(pattern)? {
                table.enabled[i] = false;
            }
        }
        for pattern in &settings.enable {
            for i in matching(pattern)? {
                table.enabled[i] = true;
            }
        }
        for (pattern, severity) in &settings.severity {
            for i in matching(pattern)? {
                table.severity[i] = *severity;
            }
        }
        Ok(Arc::new(table))
    }
}

/// One rule's effective state under some settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleState {
    /// The rule id.
    pub id: String,
    /// Whether it runs.
    pub enabled: bool,
    /// The severity of its findings.
    pub severity: Severity,
}

/// Every rule of `policies` as `settings` leave it (compared before and after a repository's configuration
/// is layered on, to enforce a trusted `[lock]`).
pub fn rule_states(policies: &crate::PolicySet, settings: &RuleSettings) -> Result<Vec<RuleState>, String> {
    let table = RuleTable::with(&policies.program, settings)?;
    Ok(policies
        .program
        .rules
        .iter()
        .zip(table.enabled.iter().zip(&table.severity))
        .map(|(r, (on, s))| RuleState { id: r.info.id.clone(), enabled: *on, severity: *s })
        .collect())
}
