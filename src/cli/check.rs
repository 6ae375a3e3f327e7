//! `policy check`: load inputs, evaluate the policies, apply waivers, report, and exit 0 / 1 / 2.
//!
//! Settings come from `vigil.toml` (found from the working directory upward), then the chosen `--profile`,
//! then the command line, which wins.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use vigil::config::{self, Config, FailOn};
use vigil::pipeline::{CheckOptions, check};
use vigil::report::{Report, human, json};
use vigil::{Kind, PolicySet, RuleSettings, Severity};

use super::Outcome;
use super::output::{eprint, print, style_for};
use super::policies::{PolicyArgs, compile, usage};

const EXAMPLES: &str = "Examples:
  policy check .                                  check the current folder with the bundled policies
  policy check models/ .github/workflows/         check several places at once
  policy check --policy policies/ --no-builtin .  use only your own policies
  policy check --format json . > report.json      machine-readable report (docs/output.md)
  policy check --output sarif=vigil.sarif .       SARIF for code scanning, human report on the terminal
  policy check --profile prod .                   apply the `prod` profile of vigil.toml
  policy check --fail-on high .                   fail only on high and critical findings
  policy check --param trusted_orgs='[\"acme\"]' .  override a policy parameter (JSON, or a bare string)
  policy check --waivers waivers.yaml --strict-waivers .   accountable exceptions; unused ones fail
  policy check --audit-log .vigil/audit.jsonl .   append a tamper-evident record of the run
  policy check --kind 'boms/*.json=MLBom' .       set the kind of matching files
  policy check --now 2026-01-01 .                 pin \"today\" for date rules and waiver expiry";

/// Report formats.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Diagnostics for people, with the offending line of each input.
    Human,
    /// One JSON object (docs/output.md).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// JUnit XML, for CI test reports (GitLab, Jenkins, Azure DevOps).
    Junit,
    /// GitHub Actions workflow commands: annotations on the pull request.
    Github,
}

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct CheckArgs {
    /// Files and folders to check [default: `paths` of vigil.toml, else .]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    policies: PolicyArgs,
    /// Output format on standard output.
    #[arg(short, long, value_enum, default_value = "human")]
    format: Format,
    /// Also write a report to a file: FORMAT=FILE, e.g. `sarif=vigil.sarif` (repeatable).
    #[arg(short, long = "output", value_name = "FORMAT=FILE")]
    outputs: Vec<String>,
    /// Exit 1 when a finding is at or above this severity: info, low (default), medium, high, critical or never.
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<FailOn>,
    /// Apply a profile of vigil.toml.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Read settings from this file instead of looking for vigil.toml.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    config: Option<PathBuf>,
    /// Do not read vigil.toml.
    #[arg(long)]
    no_config: bool,
    /// Switch a rule off: id or glob such as `MC-*` (repeatable).
    #[arg(long, value_name = "RULE")]
    disable: Vec<String>,
    /// Switch a rule back on (repeatable).
    #[arg(long, value_name = "RULE")]
    enable: Vec<String>,
    /// Change a rule's severity: RULE=SEVERITY (repeatable).
    #[arg(long = "severity", value_name = "RULE=SEVERITY")]
    severities: Vec<String>,
    /// A waivers file (YAML or JSON; repeatable).
    #[arg(long, value_name = "FILE")]
    waivers: Vec<PathBuf>,
    /// A waiver that matches no finding is an error.
    #[arg(long)]
    strict_waivers: bool,
    /// Append a record of this run to a hash-chained audit log (`policy audit verify` checks it).
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
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

/// Everything a run needs, merged from vigil.toml, the profile and the command line.
struct Plan {
    policies: PolicySet,
    options: CheckOptions,
    fail_on: Option<Severity>,
    strict_waivers: bool,
    audit_log: Option<PathBuf>,
}

pub fn run(args: CheckArgs) -> Outcome {
    let mut outputs = Vec::new();
    for spec in &args.outputs {
        let parsed =
            spec.split_once('=').and_then(|(f, file)| Some((Format::from_str(f, true).ok()?, PathBuf::from(file))));
        match parsed {
            Some(output) => outputs.push(output),
            None => {
                return usage(format!(
                    "`--output {spec}` needs the form FORMAT=FILE, FORMAT one of human, json, sarif, junit, github"
                ));
            }
        }
    }
    let plan = match plan(&args) {
        Ok(p) => p,
        Err(outcome) => return outcome,
    };
    let report = check(&plan.policies, &plan.options);
    if let Some(cache) = &plan.options.load.hash_cache
        && let Err(e) = cache.save()
    {
        eprint(&format!("warning: could not save the hash cache: {e}\n"));
    }
    let rules: Vec<&vigil::RuleInfo> = plan.policies.rules().map(|r| &**r).collect();
    let render = |format: Format, color: bool| -> String {
        match format {
            Format::Human => {
                let style =
                    if color { style_for(&std::io::stdout()) } else { human::Style { color: false, width: 100 } };
                human::render(&report, style)
            }
            Format::Json => json::render(&report, plan.fail_on),
            Format::Sarif => {
                vigil::report::sarif::render(&report, &rules, &std::env::current_dir().unwrap_or_default())
            }
            Format::Junit => vigil::report::junit::render(&report, &rules),
            Format::Github => vigil::report::github::render(&report),
        }
    };
    let mut failed_outputs = false;
    for (format, file) in &outputs {
        let written = file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(file, render(*format, false)));
        if let Err(e) = written {
            eprint(&format!("error: cannot write {}: {e}\n", file.display()));
            failed_outputs = true;
        }
    }
    if args.format == Format::Human {
        let style = style_for(&std::io::stderr());
        for e in &report.errors {
            eprint(&style.render(e));
        }
    }
    print(&render(args.format, true));
    let mut outcome = outcome_of(&report, plan.fail_on);
    if plan.strict_waivers && !report.unused_waivers.is_empty() {
        for w in &report.unused_waivers {
            eprint(&format!("error: waiver for {} on `{}` ({}) matches no finding\n", w.rule, w.path, w.declared_at));
        }
        outcome = Outcome::Error;
    }
    if let Some(log) = &plan.audit_log {
        let entry = vigil::audit::entry(&report, plan.policies.digest(), jiff::Timestamp::now());
        if let Err(e) = vigil::audit::append(log, entry) {
            eprint(&format!("error: cannot append to the audit log {}: {e}\n", log.display()));
            outcome = Outcome::Error;
        }
    }
    if failed_outputs { Outcome::Error } else { outcome }
}

fn outcome_of(report: &Report, fail_on: Option<Severity>) -> Outcome {
    if !report.errors.is_empty() {
        Outcome::Error
    } else if fail_on.is_some_and(|s| report.failing(s) > 0) {
        Outcome::Findings
    } else if fail_on.is_some() && report.findings.iter().any(|f| f.cause == vigil::Cause::Error && !f.waived()) {
        // A rule that could not be evaluated (a plugin that trapped, a step budget) is not a pass, whatever
        // its severity: not knowing is not clean.
        Outcome::Findings
    } else {
        Outcome::Pass
    }
}

/// Merges vigil.toml, the profile and the flags, and compiles the policies.
fn plan(args: &CheckArgs) -> Result<Plan, Outcome> {
    let config = read_config(args)?;
    let profile = match &args.profile {
        None => None,
        Some(name) => match config.profiles.get(name) {
            Some(p) => Some(p.clone()),
            None => {
                let names: Vec<&str> = config.profiles.keys().map(String::as_str).collect();
                let known = if names.is_empty() { "none are defined".to_string() } else { names.join(", ") };
                return Err(usage(format!("no profile `{name}` in {} (profiles: {known})", shown(&config))));
            }
        },
    };
    let as_json = args.format == Format::Json;

    // Policies: the config's, then the flags'; parameters likewise, so the command line wins.
    let mut policy_args = args.policies.clone();
    policy_args.policies = config.policies.iter().chain(&args.policies.policies).cloned().collect();
    policy_args.no_builtin = args.policies.no_builtin || config.builtin == Some(false);
    let params = config.params.iter().chain(profile.iter().flat_map(|p| &p.params));
    let mut extra: Vec<String> = params.map(|(k, v)| format!("{k}={}", v.to_json())).collect();
    extra.extend(args.policies.params.iter().cloned());
    policy_args.params = extra;
    policy_args.plugins = config.plugins.clone();
    let policies = compile(&policy_args, as_json)?;

    let mut settings = config.rules.clone();
    if let Some(p) = &profile {
        settings = settings.then(&p.rules);
    }
    let mut cli = RuleSettings { disable: args.disable.clone(), enable: args.enable.clone(), severity: Vec::new() };
    for spec in &args.severities {
        let Some((rule, level)) = spec.rsplit_once('=') else {
            return Err(usage(format!("`--severity {spec}` needs the form RULE=SEVERITY")));
        };
        cli.severity.push((rule.to_string(), level.parse::<Severity>().map_err(usage)?));
    }
    let policies = policies.with_settings(&settings.then(&cli)).map_err(usage)?;

    let mut kinds = config.kinds.clone();
    for spec in &args.kinds {
        let Some((glob, kind)) = spec.rsplit_once('=') else {
            return Err(usage(format!("`--kind {spec}` needs the form GLOB=KIND")));
        };
        kinds.push((glob.to_string(), kind.parse::<Kind>().map_err(usage)?));
    }
    let mut waivers = config.waivers.clone();
    for file in &args.waivers {
        match vigil::waiver::load_file(file) {
            Ok(w) => waivers.extend(w),
            Err(errors) => return Err(show(&errors, as_json)),
        }
    }
    let unknown: Vec<_> = waivers.iter().filter(|w| !policies.rules().any(|r| r.id == w.rule)).collect();
    if let Some(w) = unknown.first() {
        let ids: Vec<&str> = policies.rules().map(|r| r.id.as_str()).collect();
        let help = vigil::diagnostic::suggestion(&w.rule, ids).map_or(String::new(), |s| format!(" ({s})"));
        return Err(usage(format!(
            "the waiver at {} names rule `{}`, which is not loaded{help}",
            w.declared_at, w.rule
        )));
    }

    let mut load = vigil::input::LoadOptions::default();
    load.artifacts.hash = !args.no_hash;
    load.hash_cache = args.hash_cache.as_ref().map(|f| std::sync::Arc::new(vigil::input::HashCache::open(f)));
    let audit_log = args.audit_log.clone().or(config.audit_log.clone());
    let paths = if !args.paths.is_empty() {
        args.paths.clone()
    } else if !config.paths.is_empty() {
        config.paths.clone()
    } else {
        vec![PathBuf::from(".")]
    };
    let options = CheckOptions {
        paths,
        excludes: config.exclude.iter().chain(&args.excludes).cloned().collect(),
        kinds,
        load,
        waivers,
        digests: audit_log.is_some(),
    };
    let fail_on =
        args.fail_on.or(profile.and_then(|p| p.fail_on)).or(config.fail_on).unwrap_or(FailOn::At(Severity::Low));
    Ok(Plan {
        policies,
        options,
        fail_on: fail_on.severity(),
        strict_waivers: args.strict_waivers || config.strict_waivers == Some(true),
        audit_log,
    })
}

fn read_config(args: &CheckArgs) -> Result<Config, Outcome> {
    if args.no_config {
        return Ok(Config::default());
    }
    let path = match &args.config {
        Some(p) => p.clone(),
        None => match config::find(&std::env::current_dir().unwrap_or_default()) {
            Some(p) => p,
            None => return Ok(Config::default()),
        },
    };
    config::load(&path).map_err(|errors| show(&errors, args.format == Format::Json))
}

fn shown(config: &Config) -> String {
    if config.file.as_os_str().is_empty() {
        "vigil.toml (none found)".into()
    } else {
        config.file.display().to_string()
    }
}

/// Prints configuration or waiver problems; exit code 2.
fn show(errors: &[vigil::Diagnostic], as_json: bool) -> Outcome {
    if as_json {
        print(&json::render_policy_errors(&vigil::Diagnostics(errors.to_vec())));
    } else {
        let style = style_for(&std::io::stderr());
        for e in errors {
            eprint(&style.render(e));
        }
    }
    Outcome::Error
}
