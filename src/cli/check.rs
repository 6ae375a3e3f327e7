//! `policy check`: load inputs, evaluate the policies, report, and exit 0 / 1 / 2.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use vigil::pipeline::{CheckOptions, check};
use vigil::report::{human, json};
use vigil::{Kind, Severity};

use super::Outcome;
use super::output::{eprint, print, style_for};
use super::policies::{PolicyArgs, compile, usage};

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
    #[command(flatten)]
    policies: PolicyArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "human")]
    format: Format,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "low", value_name = "SEVERITY")]
    fail_on: FailOn,
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
    let policies = match compile(&args.policies, matches!(args.format, Format::Json)) {
        Ok(p) => p,
        Err(outcome) => return outcome,
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
