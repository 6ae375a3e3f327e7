//! `policy check`: load inputs, evaluate the policies, report, and exit 0 / 1 / 2.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use vigil::pipeline::{CheckOptions, check};
use vigil::report::{human, json};
use vigil::{Engine, Kind, Severity, Value};

use super::Outcome;
use super::output::{eprint, print, style_for};

const EXAMPLES: &str = "Examples:
  policy check .                                  check the current folder with the bundled policies
  policy check models/ .github/workflows/         check several places at once
  policy check --policy policies/ --no-builtin .  use only your own policies
  policy check --format json . > report.json      machine-readable report (docs/output.md)
  policy check --fail-on high .                   fail only on high and critical findings
  policy check --param trusted_orgs='[\"acme\"]' .  override a policy parameter (JSON, or a bare string)
  policy check --kind 'boms/*.json=MLBom' .       set the kind of matching files
  policy check --now 2026-01-01 .                 pin \"today\" for date rules
  policy check --hash-cache .vigil/hashes.json models/   hash large weights once, not on every run";

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// Diagnostics for people, with the offending line of each input.
    Human,
    /// One JSON object (docs/output.md).
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum FailOn {
    Info,
    Low,
    Medium,
    High,
    Critical,
    /// Never fail because of findings (input and policy errors still exit 2).
    Never,
}

impl FailOn {
    fn severity(self) -> Option<Severity> {
        match self {
            FailOn::Info => Some(Severity::Info),
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Never => None,
        }
    }
}

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct CheckArgs {
    /// Files and folders to check [default: .]
    paths: Vec<PathBuf>,
    /// Policy file or folder of `.policy` files to add (repeatable).
    #[arg(short = 'p', long = "policy", value_name = "PATH")]
    policies: Vec<PathBuf>,
    /// Leave out the bundled policies.
    #[arg(long)]
    no_builtin: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "human")]
    format: Format,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "low", value_name = "SEVERITY")]
    fail_on: FailOn,
    /// Override a policy `param`: NAME=VALUE, VALUE as JSON or a bare string (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Pin "now" for date rules: YYYY-MM-DD or an RFC 3339 timestamp.
    #[arg(long, value_name = "DATE")]
    now: Option<String>,
    /// Force the kind of documents in matching files: GLOB=KIND (repeatable).
    #[arg(long = "kind", value_name = "GLOB=KIND")]
    kinds: Vec<String>,
    /// Leave matching files and folders out (gitignore-style glob, repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    excludes: Vec<String>,
    /// Do not compute SHA-256 digests of model files (digest rules then report that they cannot verify).
    #[arg(long)]
    no_hash: bool,
    /// Reuse model-file digests across runs while a file's size and modification time are unchanged.
    #[arg(long, value_name = "FILE")]
    hash_cache: Option<PathBuf>,
}

pub fn run(args: CheckArgs) -> Outcome {
    let style = style_for(&std::io::stderr());
    let usage = |message: String| {
        eprint(&format!("error: {message}\n"));
        Outcome::Error
    };
    let mut builder = Engine::builder();
    for param in &args.params {
        let Some((name, value)) = param.split_once('=') else {
            return usage(format!("`--param {param}` needs the form NAME=VALUE"));
        };
        // JSON when it parses (`["a"]`, `3`, `true`), otherwise the text itself.
        let value = Value::from_json(value).unwrap_or_else(|_| Value::from(value));
        builder = builder.param(name.trim(), value);
    }
    if let Some(now) = &args.now {
        match parse_now(now) {
            Ok(ts) => builder = builder.now(ts),
            Err(e) => return usage(e),
        }
    }
    let mut kinds = Vec::new();
    for spec in &args.kinds {
        let Some((glob, kind)) = spec.rsplit_once('=') else {
            return usage(format!("`--kind {spec}` needs the form GLOB=KIND"));
        };
        match kind.parse::<Kind>() {
            Ok(k) => kinds.push((glob.to_string(), k)),
            Err(e) => return usage(e),
        }
    }
    let mut sources: Vec<(String, String)> = Vec::new();
    if !args.no_builtin {
        sources.extend(vigil::bundled::BUNDLED.iter().map(|(n, t)| (format!("<bundled>/{n}"), t.to_string())));
    }
    for path in &args.policies {
        if let Err(e) = read_policies(path, &mut sources) {
            return usage(e);
        }
    }
    if sources.is_empty() {
        return usage("no policies: `--no-builtin` needs at least one `--policy PATH`".into());
    }
    let engine = builder.build();
    let policies = match engine.compile(sources) {
        Ok(p) => p,
        Err(diagnostics) => {
            match args.format {
                Format::Json => print(&json::render_policy_errors(&diagnostics)),
                Format::Human => {
                    for d in diagnostics.iter() {
                        eprint(&style.render(d));
                    }
                    let n = diagnostics.len();
                    eprint(&format!("error: {n} problem{} in the policies\n", if n == 1 { "" } else { "s" }));
                }
            }
            return Outcome::Error;
        }
    };
    let mut load = vigil::input::LoadOptions::default();
    load.artifacts.hash = !args.no_hash;
    load.hash_cache = args.hash_cache.as_ref().map(|f| std::sync::Arc::new(vigil::input::HashCache::open(f)));
    let options = CheckOptions {
        paths: if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() },
        excludes: args.excludes.clone(),
        kinds,
        load,
    };
    let report = check(&policies, &options);
    if let Some(cache) = &options.load.hash_cache
        && let Err(e) = cache.save()
    {
        eprint(&format!("warning: could not save the hash cache: {e}\n"));
    }
    let fail_on = args.fail_on.severity();
    match args.format {
        Format::Json => print(&json::render(&report, fail_on)),
        Format::Human => {
            let out_style = style_for(&std::io::stdout());
            for e in &report.errors {
                eprint(&style.render(e));
            }
            print(&human::render(&report, out_style));
        }
    }
    if !report.errors.is_empty() {
        Outcome::Error
    } else if fail_on.is_some_and(|s| report.failing(s) > 0) {
        Outcome::Findings
    } else {
        Outcome::Pass
    }
}

fn parse_now(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts);
    }
    text.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| jiff::tz::TimeZone::UTC.to_timestamp(d.to_datetime(jiff::civil::Time::midnight())).ok())
        .ok_or_else(|| format!("`--now {text}` is not a date (YYYY-MM-DD) or an RFC 3339 timestamp"))
}

/// Reads a policy file, or every `.policy` file under a folder (sorted, so order is stable).
fn read_policies(path: &Path, out: &mut Vec<(String, String)>) -> Result<(), String> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| format!("{name}: {e}"))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{name}: {e}"))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "policy"))
            .collect();
        entries.sort();
        for entry in entries {
            read_policies(&entry, out)?;
        }
        return Ok(());
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    out.push((name, text));
    Ok(())
}
