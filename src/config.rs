//! `vigil.toml`: the project's settings, found from the working directory upward. Every key can also be
//! given on the command line, which wins. Unknown keys and wrong types are errors pointing into the file, so
//! a typo never silently changes what is checked.
//!
//! ```toml
//! policies = ["policies/"]              # added to the bundled ones
//! builtin = true                        # false: only `policies`
//! paths = ["models/", "deploy/"]        # what `policy check` checks by default
//! exclude = ["**/testdata/**"]
//! fail_on = "low"                       # info | low | medium | high | critical | never
//! waivers = "waivers.yaml"              # a file (or a list); `[[waiver]]` tables work too
//! audit_log = ".vigil/audit.jsonl"
//! bundles = ["acme-policies.vbundle"]  # signed policy bundles (docs/evidence.md) ...
//! bundle_key = "acme-policies.pub"      # ... and the key they must be signed with
//!
//! [kinds]                               # glob = kind
//! "boms/*.json" = "MLBom"
//!
//! [params]                              # policy parameters
//! trusted_base_model_orgs = ["meta-llama", "acme"]
//!
//! [rules]
//! disable = ["MC-ENV-001"]
//! severity = { "GHA-PIN-001" = "critical" }
//!
//! [plugins]                             # WASM plugins (docs/plugins.md)
//! timeout_ms = 500                      # also fuel, memory_mb, max_result_kb, stack_kb
//! sha256 = { "plugins/secrets.wasm" = "…" }   # pins for imports written without one
//!
//! [profiles.dev]                        # policy check --profile dev
//! fail_on = "critical"
//! disable = ["K8S-*"]
//!
//! [lock]                                # only in a trusted file given with --config: see `lock`
//! rules = ["*"]
//! ```
//!
//! Two levels of trust. A file named with `--config` is the operator's: its paths go anywhere. A `vigil.toml`
//! found from the working directory belongs to the repository under check, which may be hostile: every path
//! it names must stay inside its folder (no absolute paths, no `..`, no link leading out), so it cannot make
//! the gate read, and print, a file from elsewhere on the machine. A trusted file with a `[lock]` layers the
//! repository's file on top, which may then tighten but not loosen what the lock names (`lock.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic, suggestion};
use crate::input::{Document, Kind};
use crate::ir::Severity;
use crate::settings::RuleSettings;
use crate::source::Source;
use crate::value::Value;
use crate::waiver::{self, Waiver};

mod lock;

pub use lock::{Lock, check_layers, check_rules};

/// The file name looked for.
pub const FILE_NAME: &str = "vigil.toml";

/// When a run fails: at or above a severity, or never.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    /// Findings at or above this severity fail the run.
    At(Severity),
    /// Findings never fail the run (input and policy errors still do).
    Never,
}

impl FailOn {
    /// The threshold, if any.
    pub fn severity(self) -> Option<Severity> {
        match self {
            FailOn::At(s) => Some(s),
            FailOn::Never => None,
        }
    }
}

impl std::str::FromStr for FailOn {
    type Err = String;

    fn from_str(s: &str) -> Result<FailOn, String> {
        if s == "never" {
            return Ok(FailOn::Never);
        }
        s.parse::<Severity>()
            .map(FailOn::At)
            .map_err(|_| format!("`{s}` is not info, low, medium, high, critical or never"))
    }
}

/// A named set of changes: `policy check --profile prod`.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// Overrides `fail_on`.
    pub fail_on: Option<FailOn>,
    /// Rules to switch off, back on, or re-rate.
    pub rules: RuleSettings,
    /// Parameter values for this profile.
    pub params: Vec<(String, Value)>,
}

/// Everything `vigil.toml` may set.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file it came from.
    pub file: PathBuf,
    /// Extra policy files or folders.
    pub policies: Vec<PathBuf>,
    /// Whether the bundled policies are on.
    pub builtin: Option<bool>,
    /// What to check when no path is given.
    pub paths: Vec<PathBuf>,
    /// Globs to leave out.
    pub exclude: Vec<String>,
    /// `(glob, kind)` overrides.
    pub kinds: Vec<(String, Kind)>,
    /// Policy parameters.
    pub params: Vec<(String, Value)>,
    /// When the run fails.
    pub fail_on: Option<FailOn>,
    /// Rule settings for every run.
    pub rules: RuleSettings,
    /// Waivers from `waivers` files and `[[waiver]]` tables.
    pub waivers: Vec<Arc<Waiver>>,
    /// The `waivers` files named (`policy serve` reloads when one changes, even an empty one).
    pub waiver_files: Vec<PathBuf>,
    /// An unused waiver is an error.
    pub strict_waivers: Option<bool>,
    /// Where to append the audit log.
    pub audit_log: Option<PathBuf>,
    /// Signed policy bundles to load (`docs/evidence.md`).
    pub bundles: Vec<PathBuf>,
    /// The public key the bundles must be signed with.
    pub bundle_key: Option<PathBuf>,
    /// Named profiles.
    pub profiles: BTreeMap<String, Profile>,
    /// `[plugins]`: limits, pins and the compile cache.
    pub plugins: crate::plugins::PluginOptions,
    /// `[schemas]`: JSON Schema files for the data of a kind (`ModelCard = "schemas/card.json"`).
    pub schemas: Vec<(Kind, PathBuf)>,
    /// For a repository's file: the folder every path it names must stay inside (canonical).
    pub root: Option<PathBuf>,
    /// What a repository's file layered on top may not loosen (trusted files only).
    pub lock: Option<Lock>,
    /// The parsed file, to point at values in later errors (lock violations).
    pub(crate) doc: Option<Document>,
}

impl Config {
    /// An error pointing into this file at `needle` under the table `section` (`["params"]`,
    /// `["profiles", "prod", "rules"]`): a key of that name, or else a string value equal to it, at any depth.
    /// `None` when the file does not hold it (the setting came from elsewhere). Settings are only checked
    /// once policies are compiled, and the error must still say which line of which file to fix.
    pub fn point_at(&self, section: &[&str], needle: &str, message: impl Into<String>) -> Option<Diagnostic> {
        let doc = self.doc.as_ref()?;
        let mut node = doc.data();
        for key in section {
            node = node.get(key)?;
        }
        let (found, is_key) = find_in(node, needle)?;
        let location = doc.locate(found)?;
        let source = doc.source().clone();
        let span = match location.key_span {
            Some(key) if is_key && !key.is_empty() => key,
            _ => location.label_span(source.text()),
        };
        Some(Diagnostic::new(Code::Config, &source, span, message))
    }
}

/// A member named `needle` (its value, and `true`), else a string equal to it, depth first.
fn find_in<'v>(node: &'v Value, needle: &str) -> Option<(&'v Value, bool)> {
    match node {
        Value::Object(map) => {
            if let Some((_, v)) = map.iter().find(|(k, _)| &***k == needle) {
                return Some((v, true));
            }
            map.iter().find_map(|(_, v)| find_in(v, needle))
        }
        Value::Array(items) => items.iter().find_map(|v| find_in(v, needle)),
        Value::String(s) if &**s == needle => Some((node, false)),
        _ => None,
    }
}

/// Finds `vigil.toml` in `start` or the nearest folder above it.
pub fn find(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    start.ancestors().map(|dir| dir.join(FILE_NAME)).find(|p| p.is_file())
}

const KEYS: [&str; 18] = [
    "policies",
    "builtin",
    "paths",
    "exclude",
    "fail_on",
    "waivers",
    "waiver",
    "strict_waivers",
    "audit_log",
    "bundles",
    "bundle_key",
    "kinds",
    "params",
    "rules",
    "profiles",
    "lock",
    "plugins",
    "schemas",
];
const PLUGIN_KEYS: [&str; 9] =
    ["allow_unpinned", "cache", "cache_dir", "sha256", "fuel", "timeout_ms", "memory_mb", "max_result_kb", "stack_kb"];
const RULE_KEYS: [&str; 3] = ["disable", "enable", "severity"];
const PROFILE_KEYS: [&str; 5] = ["fail_on", "disable", "enable", "severity", "params"];

/// Loads and validates a trusted configuration file (`--config`); every problem is reported with its place
/// in the file.
pub fn load(path: &Path) -> Result<Config, Vec<Diagnostic>> {
    load_as(path, None)
}

/// Loads a repository's `vigil.toml`: like `load`, but every path it names must stay inside its folder, and
/// it may not carry a `[lock]` (a lock the repository writes for itself would lock nothing).
pub fn load_repository(path: &Path) -> Result<Config, Vec<Diagnostic>> {
    let shown = path.to_string_lossy();
    let folder = crate::confine::lexical_absolute(path).parent().map(Path::to_path_buf).unwrap_or_default();
    let root = std::fs::canonicalize(&folder).unwrap_or(folder);
    // The file itself first: a `vigil.toml` linked to a file elsewhere would have its text quoted in errors.
    if !crate::confine::inside(&root, path) {
        let message = format!("{shown} is a symbolic link leading outside {}: not read", root.display());
        return Err(vec![Diagnostic::new(
            Code::Config,
            &Source::new(shown.to_string(), ""),
            Default::default(),
            message,
        )]);
    }
    load_as(path, Some(root))
}

fn load_as(path: &Path, root: Option<PathBuf>) -> Result<Config, Vec<Diagnostic>> {
    let shown = path.to_string_lossy();
    let options = crate::input::LoadOptions::default();
    let docs = Document::load(path, &options).map_err(|e| {
        let source = e.source_text().cloned().unwrap_or_else(|| Source::new(e.file.clone(), ""));
        vec![Diagnostic::new(Code::Config, &source, e.span.unwrap_or_default(), e.message)]
    })?;
    let empty = Config { file: path.to_path_buf(), root: root.clone(), ..Config::default() };
    let Some(doc) = docs.first() else { return Ok(empty) };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut reader = Reader { doc, base, root, errors: Vec::new() };
    let mut config = Config { doc: Some(doc.clone()), ..empty };
    let root = doc.data().clone();
    for (key, value) in reader.table(&root, &KEYS, "top-level key") {
        match key.as_str() {
            "policies" => config.policies = reader.paths(value),
            "builtin" => config.builtin = reader.boolean(value),
            "paths" => config.paths = reader.paths(value),
            "exclude" => config.exclude = reader.strings(value),
            "fail_on" => config.fail_on = reader.fail_on(value),
            "strict_waivers" => config.strict_waivers = reader.boolean(value),
            "audit_log" => {
                config.audit_log = reader.string(value).and_then(|p| reader.path(value, &p));
            }
            "bundles" => config.bundles = reader.paths(value),
            "bundle_key" => config.bundle_key = reader.string(value).and_then(|p| reader.path(value, &p)),
            "params" => config.params = reader.params(value),
            "rules" => config.rules = reader.rules(value, &RULE_KEYS),
            "kinds" => config.kinds = reader.kinds(value),
            "plugins" => config.plugins = reader.plugins(value),
            "schemas" => config.schemas = reader.schemas(value),
            "waivers" => {
                for file in reader.paths(value) {
                    config.waiver_files.push(file.clone());
                    match waiver::load_file(&file) {
                        Ok(w) => config.waivers.extend(w),
                        Err(e) => reader.errors.extend(e),
                    }
                }
            }
            "waiver" => match waiver::parse_list(value, doc, &shown) {
                Ok(w) => config.waivers.extend(w),
                Err(e) => reader.errors.extend(e),
            },
            "lock" if reader.root.is_some() => {
                reader.error(value, "a `[lock]` only has effect in a trusted configuration given with --config").help =
                    Some(
                        "a repository's own vigil.toml cannot lock itself; put the lock in the CI's configuration"
                            .into(),
                    );
            }
            "lock" => config.lock = lock::read(&mut reader, value),
            "profiles" => {
                for (name, table) in reader.table(value, &[], "") {
                    let mut profile = Profile { rules: reader.rules(table, &PROFILE_KEYS), ..Profile::default() };
                    if let Some(v) = table.get("fail_on") {
                        profile.fail_on = reader.fail_on(v);
                    }
                    if let Some(v) = table.get("params") {
                        profile.params = reader.params(v);
                    }
                    config.profiles.insert(name, profile);
                }
            }
            _ => {}
        }
    }
    if reader.errors.is_empty() { Ok(config) } else { Err(reader.errors) }
}

/// Reads typed values out of the TOML document, collecting located errors.
struct Reader<'a> {
    doc: &'a Document,
    base: PathBuf,
    /// Set for a repository's file: paths must stay inside.
    root: Option<PathBuf>,
    errors: Vec<Diagnostic>,
}

impl Reader<'_> {
    fn error(&mut self, at: &Value, message: impl Into<String>) -> &mut Diagnostic {
        let source = self.doc.source().clone();
        let span = self.doc.locate(at).map(|l| l.label_span(source.text())).unwrap_or_default();
        self.errors.push(Diagnostic::new(Code::Config, &source, span, message));
        self.errors.last_mut().expect("just pushed")
    }

    /// The entries of a table; with `known`, other keys are errors (with "did you mean").
    fn table<'v>(&mut self, value: &'v Value, known: &[&str], what: &str) -> Vec<(String, &'v Value)> {
        let Some(map) = value.as_object() else {
            self.error(value, "expected a table");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, v) in map.iter() {
            if !known.is_empty() && !known.contains(&&**key) {
                let help = suggestion(key, known.iter().copied())
                    .or_else(|| Some(format!("known keys: {}", known.join(", "))));
                self.error(v, format!("unknown {what} `{key}`")).help = help;
                continue;
            }
            out.push((key.to_string(), v));
        }
        out
    }

    fn string(&mut self, value: &Value) -> Option<String> {
        match value.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.error(value, "expected a string");
                None
            }
        }
    }

    fn strings(&mut self, value: &Value) -> Vec<String> {
        match value {
            Value::String(s) => vec![s.to_string()],
            Value::Array(items) => items.iter().filter_map(|i| self.string(i)).collect(),
            _ => {
                self.error(value, "expected a string or a list of strings");
                Vec::new()
            }
        }
    }

    fn boolean(&mut self, value: &Value) -> Option<bool> {
        match value.as_bool() {
            Some(b) => Some(b),
            None => {
                self.error(value, "expected true or false");
                None
            }
        }
    }

    fn fail_on(&mut self, value: &Value) -> Option<FailOn> {
        let text = self.string(value)?;
        match text.parse() {
            Ok(f) => Some(f),
            Err(e) => {
                self.error(value, e);
                None
            }
        }
    }

    /// Paths from a string or a list of strings.
    fn paths(&mut self, value: &Value) -> Vec<PathBuf> {
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        let mut out = Vec::new();
        for item in items {
            if let Some(text) = self.string(item)
                && let Some(path) = self.path(item, &text)
            {
                out.push(path);
            }
        }
        out
    }

    /// A path relative to the configuration file's folder (kept relative when that is the current folder).
    /// In a repository's file it must stay inside the repository: `None` (and an error at `at`) otherwise.
    fn path(&mut self, at: &Value, relative: &str) -> Option<PathBuf> {
        let path = Path::new(relative);
        let here = std::env::current_dir().ok().and_then(|d| std::fs::canonicalize(d).ok());
        let base = std::fs::canonicalize(&self.base).ok();
        let resolved = if path.is_absolute() || self.base.as_os_str().is_empty() || (here.is_some() && here == base) {
            path.to_path_buf()
        } else {
            self.base.join(path)
        };
        if let Some(root) = self.root.clone() {
            let climbs = path.components().any(|c| matches!(c, std::path::Component::ParentDir));
            let why = if path.is_absolute() || path.has_root() {
                Some("is absolute")
            } else if climbs {
                Some("climbs out with `..`")
            } else if !crate::confine::inside(&root, &resolved) {
                Some("leads outside it through a symbolic link")
            } else {
                None
            };
            if let Some(why) = why {
                let message =
                    format!("`{relative}` {why}: paths in the repository's vigil.toml stay inside {}", root.display());
                self.error(at, message).help =
                    Some("name files outside the repository in the trusted configuration (--config) instead".into());
                return None;
            }
        }
        Some(resolved)
    }

    /// `[plugins]`. Sizes are given in convenient units (MiB, KiB) and stored in bytes.
    fn plugins(&mut self, value: &Value) -> crate::plugins::PluginOptions {
        let mut options = crate::plugins::PluginOptions::default();
        for (key, v) in self.table(value, &PLUGIN_KEYS, "key") {
            match key.as_str() {
                "allow_unpinned" => options.allow_unpinned = self.boolean(v).unwrap_or(false),
                "cache" => options.no_cache = !self.boolean(v).unwrap_or(true),
                "cache_dir" => options.cache_dir = self.string(v).and_then(|p| self.path(v, &p)),
                "sha256" => {
                    for (file, digest) in self.table(v, &[], "") {
                        if let (Some(d), Some(path)) = (self.string(digest), self.path(digest, &file)) {
                            options.pins.insert(path, d);
                        }
                    }
                }
                limit => {
                    let Some(n) = v.as_i64().filter(|n| *n > 0) else {
                        self.error(v, "expected a whole number above 0");
                        continue;
                    };
                    let n = n as u64;
                    let limits = &mut options.limits;
                    match limit {
                        "fuel" => limits.fuel = n,
                        "timeout_ms" => limits.timeout_ms = n,
                        "memory_mb" => limits.memory_bytes = n.saturating_mul(1 << 20),
                        "max_result_kb" => {
                            limits.max_result_bytes = n.saturating_mul(1 << 10).min(u32::MAX as u64) as u32
                        }
                        _ => limits.max_stack_bytes = n.saturating_mul(1 << 10).min(64 << 20) as usize,
                    }
                }
            }
        }
        options
    }

    fn params(&mut self, value: &Value) -> Vec<(String, Value)> {
        self.table(value, &[], "").into_iter().map(|(k, v)| (k, v.clone())).collect()
    }

    fn kinds(&mut self, value: &Value) -> Vec<(String, Kind)> {
        let mut out = Vec::new();
        for (glob, kind) in self.table(value, &[], "") {
            let Some(name) = self.string(kind) else { continue };
            match name.parse::<Kind>() {
                Ok(k) => out.push((glob, k)),
                Err(e) => {
                    let help = suggestion(&name, Kind::ALL.iter().map(|k| k.name()));
                    self.error(kind, e).help = help;
                }
            }
        }
        out
    }

    /// `[schemas]`: kind → a schema file or a list of them.
    fn schemas(&mut self, value: &Value) -> Vec<(Kind, PathBuf)> {
        let mut out = Vec::new();
        for (name, files) in self.table(value, &[], "") {
            match name.parse::<Kind>() {
                Ok(kind) => out.extend(self.paths(files).into_iter().map(|p| (kind, p))),
                Err(e) => {
                    let help = suggestion(&name, Kind::ALL.iter().map(|k| k.name()));
                    self.error(files, e).help = help;
                }
            }
        }
        out
    }

    fn rules(&mut self, value: &Value, known: &[&str]) -> RuleSettings {
        let mut settings = RuleSettings::default();
        for (key, v) in self.table(value, known, "key") {
            match key.as_str() {
                "disable" => settings.disable = self.strings(v),
                "enable" => settings.enable = self.strings(v),
                "severity" => {
                    for (rule, level) in self.table(v, &[], "") {
                        let Some(text) = self.string(level) else { continue };
                        match text.parse::<Severity>() {
                            Ok(s) => settings.severity.push((rule, s)),
                            Err(e) => {
                                self.error(level, e);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Config, Vec<Diagnostic>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, text).unwrap();
        std::fs::write(dir.path().join("waivers.yaml"), "[]\n").unwrap();
        load(&path)
    }

    #[test]
    fn every_key_is_read() {
        let config = load_text(
            "policies = [\"p/\"]\nbuiltin = false\nfail_on = \"high\"\nwaivers = \"waivers.yaml\"\nexclude = [\"x/**\"]\n\
             [kinds]\n\"b/*.json\" = \"MLBom\"\n[params]\ntrusted = [\"acme\"]\n[rules]\ndisable = [\"MC-*\"]\n\
             severity = { \"GHA-PIN-001\" = \"critical\" }\n[profiles.prod]\nfail_on = \"never\"\nenable = [\"MC-LIC-001\"]\n",
        )
        .unwrap();
        assert_eq!(config.builtin, Some(false));
        assert_eq!(config.fail_on, Some(FailOn::At(Severity::High)));
        assert_eq!(config.kinds, vec![("b/*.json".to_string(), Kind::MLBom)]);
        assert_eq!(config.rules.disable, vec!["MC-*"]);
        assert_eq!(config.rules.severity, vec![("GHA-PIN-001".to_string(), Severity::Critical)]);
        assert_eq!(config.profiles["prod"].fail_on, Some(FailOn::Never));
        assert_eq!(config.params[0].0, "trusted");
    }

    #[test]
    fn plugin_settings_are_read() {
        let config = load_text(
            "[plugins]\ntimeout_ms = 250\nmemory_mb = 8\nfuel = 1000\nmax_result_kb = 4\nstack_kb = 256\n\
             allow_unpinned = true\ncache = false\nsha256 = { \"p.wasm\" = \"ab\" }\n",
        )
        .unwrap();
        let p = &config.plugins;
        assert_eq!((p.limits.timeout_ms, p.limits.memory_bytes, p.limits.fuel), (250, 8 << 20, 1000));
        assert_eq!((p.limits.max_result_bytes, p.limits.max_stack_bytes), (4096, 256 << 10));
        assert!(p.allow_unpinned && p.no_cache);
        assert_eq!(p.pins.values().collect::<Vec<_>>(), vec!["ab"]);
        let errors = load_text("[plugins]\nfuel = -1\ntimeout = 3\n").unwrap_err();
        assert!(errors.iter().any(|d| d.message == "expected a whole number above 0"));
        assert!(errors.iter().any(|d| d.message == "unknown key `timeout`"));
    }

    #[test]
    fn unknown_keys_and_bad_values_point_into_the_file() {
        let errors = load_text("fail_onn = \"high\"\n[rules]\ndisabel = []\n[profiles.dev]\nfail_on = \"loud\"\n[kinds]\n\"*.json\" = \"MLBOM\"\n")
            .unwrap_err();
        let got: Vec<String> = errors
            .iter()
            .map(|d| format!("{}: {} ({:?})", d.location().rsplit('/').next().unwrap_or(""), d.message, d.help))
            .collect();
        assert!(
            got.iter()
                .any(|m| m.starts_with("vigil.toml:1:12: unknown top-level key `fail_onn`") && m.contains("fail_on")),
            "{got:?}"
        );
        assert!(got.iter().any(|m| m.starts_with("vigil.toml:3:11: unknown key `disabel`")), "{got:?}");
        assert!(got.iter().any(|m| m.contains("`loud` is not info")), "{got:?}");
        assert!(got.iter().any(|m| m.contains("unknown document kind `MLBOM`") && m.contains("MLBom")), "{got:?}");
    }
}
