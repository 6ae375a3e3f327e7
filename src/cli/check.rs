//! `policy check`: load inputs, evaluate the policies, apply waivers, report, and exit 0 / 1 / 2.
//!
//! Settings come from `vigil.toml` (found from the working directory upward), then the chosen `--profile`,
//! then the command line, which wins.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use vigil::unstable::config::{self, Config, FailOn, Profile};
use vigil::unstable::pipeline::{CheckOptions, KindLock, check};
use vigil::unstable::report::{Report, human, json};
use vigil::{Kind, PolicySet, RuleSettings, Severity};

use super::layers::{read_configs, show, shown};
use super::output::{eprint, print, style_for};
use super::policies::{PolicyArgs, compile_with, usage};
use super::{Outcome, attest, baseline};

const EXAMPLES: &str = "Examples:
  policy check .                                  check the current folder with the bundled policies
  policy check models/ .github/workflows/         check several places at once
  policy check --policy policies/ --no-builtin .  use only your own policies
  policy check --format json . > report.json      machine-readable report (docs/output.md)
  policy check --output sarif=vigil.sarif .       SARIF for code scanning, human report on the terminal
  policy check --output html=report.html .        a self-contained page for reviewers and auditors
  policy check --profile prod .                   apply the `prod` profile of vigil.toml
  policy check --fail-on high .                   fail only on high and critical findings
  policy check --param trusted_base_model_orgs='[\"acme\"]' .   override a parameter (JSON, or a bare string)
  policy check --waivers waivers.yaml --strict-waivers .   accountable exceptions; unused ones fail
  policy check --audit-log .vigil/audit.jsonl .   append a tamper-evident record of the run
  policy check --kind 'boms/*.json=MLBom' .       set the kind of matching files
  policy check --now 2026-01-01 .                 pin \"today\" for date rules and waiver expiry
  policy check --list-skipped .                   also list every file left out, and why
  policy check --write-baseline .vigil/baseline.json .   record today's findings ...
  policy check --baseline .vigil/baseline.json .         ... and fail only on new ones
  policy check --shard 1/4 --format json . > 1.json   shard 1 of 0..3; `policy report merge` joins them
  policy check --context . models/card.md         check one file; cross-document rules see the whole tree
  policy check --config /ci/vigil.toml .          a trusted configuration; with [lock], the repository's
                                                  vigil.toml is layered on top and cannot loosen it (docs/ci.md)";

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
    /// One self-contained HTML page for reviewers: verdict, compliance matrix, findings, waivers, inputs.
    Html,
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
    pub(super) config: Option<PathBuf>,
    /// Do not read vigil.toml.
    #[arg(long)]
    pub(super) no_config: bool,
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
    #[command(flatten)]
    evidence: attest::EvidenceArgs,
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
    /// After the human report, list every file left out and why (excluded, unknown format, a symbolic link
    /// leaving the checked folder, a FIFO ...). The JSON report always lists them in `skipped`.
    #[arg(long)]
    list_skipped: bool,
    /// A file found in a folder that does not parse is an error even when no rule reads files like it
    /// (by default it is skipped with the reason: JSON with comments, templates, binary files ...).
    #[arg(long)]
    strict: bool,
    /// Add to each finding why its rule failed: the tree of `policy explain` (human and JSON formats).
    #[arg(long)]
    explain: bool,
    /// Pass when no document was checked (by default an empty run is an error: exit 2).
    #[arg(long)]
    allow_empty: bool,
    /// The repository root SARIF, JUnit and fingerprints name files from [default: the nearest folder
    /// above holding `.git`, else the working directory].
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Report only findings this baseline file does not record, and list the recorded ones now fixed.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    baseline: Option<PathBuf>,
    /// Record every current finding in a baseline file (for `--baseline`); the run then passes unless an
    /// input could not be read.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Files or folders whose documents rules that compare documents (`documents(...)`) also see, without
    /// checking or reporting them: `policy check --context . CHANGED-FILES` (repeatable).
    #[arg(long, value_name = "PATH")]
    context: Vec<PathBuf>,
    /// For pre-commit, which names every changed file: named files are treated like files found in a
    /// folder (one that is no input of any rule is skipped with the reason, not an error), and a commit with
    /// nothing to check passes (implies --allow-empty).
    #[arg(long)]
    pre_commit: bool,
    /// Check only shard I of N (I from 0 to N-1): a stable share of the files, by a hash of each file's path
    /// relative to the root. Merge the shards' JSON reports with `policy report merge` (docs/ci.md).
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Show no progress bar (one appears on a terminal when a run takes more than a moment).
    #[arg(short, long)]
    quiet: bool,
}

impl CheckArgs {
    /// Whether problems are reported as a JSON report on standard output.
    pub(super) fn json(&self) -> bool {
        self.format == Format::Json
    }
}

/// Everything a run needs, merged from vigil.toml, the profile and the command line.
struct Plan {
    policies: PolicySet,
    options: CheckOptions,
    fail_on: Option<Severity>,
    strict_waivers: bool,
    audit_log: Option<PathBuf>,
    /// What an attestation records of the plan: parameters, profile, threshold, bundles.
    attest: vigil::unstable::evidence::attest::RunContext,
    /// The configuration files and policy paths the plan was read from (`policy serve` reloads when they
    /// change).
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    watch: Vec<PathBuf>,
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
                    "`--output {spec}` needs the form FORMAT=FILE, FORMAT one of human, json, sarif, junit, github, html"
                ));
            }
        }
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let paths = vigil::unstable::report::paths::Paths::detect(&cwd, args.root.as_deref());
    let shard = match super::shard::parse(args.shard.as_deref(), &paths) {
        Ok(s) => s,
        Err(outcome) => return outcome,
    };
    let mut plan = match plan(&args) {
        Ok(p) => p,
        Err(outcome) => return outcome,
    };
    plan.options.shard = shard;
    let sign_key = match args.evidence.signing_key(plan.audit_log.is_some()) {
        Ok(k) => k,
        Err(outcome) => return outcome,
    };
    let display = super::progress::start(args.quiet).map(|(counters, display)| {
        plan.options.progress = Some(counters);
        display
    });
    let mut report = check(&plan.policies, &plan.options);
    if let Some(display) = display {
        display.finish();
    }
    report.paths = paths;
    if let Some(file) = &args.write_baseline {
        return baseline::write(&report, file, args.format == Format::Human);
    }
    if let Some(file) = &args.baseline
        && let Err(outcome) = baseline::apply(&mut report, file)
    {
        return outcome;
    }
    if let Some(cache) = &plan.options.load.hash_cache
        && let Err(e) = cache.save()
    {
        eprint(&format!("warning: could not save the hash cache: {e}\n"));
    }
    // The audit entry is appended before the reports are written, so they can carry the log's new head.
    let audit_failed =
        plan.audit_log.as_ref().is_some_and(|log| !super::audit::append(log, &mut report, &plan.policies, &sign_key));
    let rules: Vec<&vigil::RuleInfo> = plan.policies.rules().map(|r| &**r).collect();
    let render = |format: Format, color: bool| -> String {
        match format {
            Format::Human => {
                let style =
                    if color { style_for(&std::io::stdout()) } else { human::Style { color: false, width: 100 } };
                human::render(&report, style)
            }
            Format::Json => json::render_run(
                &report,
                plan.fail_on,
                json::Run {
                    policy_digest: Some(plan.policies.digest()),
                    shard: super::shard::recorded(plan.options.shard.as_ref()),
                    warnings: plan.policies.warnings(),
                },
            ),
            Format::Sarif => {
                vigil::unstable::report::sarif::render(&report, &rules, &std::env::current_dir().unwrap_or_default())
            }
            Format::Junit => vigil::unstable::report::junit::render(&report, &rules),
            Format::Github => vigil::unstable::report::github::render(&report),
            Format::Html => vigil::unstable::report::html::render(
                &report,
                &vigil::unstable::report::html::Run {
                    rules: &rules,
                    policy_digest: plan.policies.digest(),
                    now: plan.policies.now(),
                    profile: args.profile.as_deref(),
                    fail_on: plan.fail_on,
                },
            ),
        }
    };
    let mut failed_outputs = false;
    for (format, file) in &outputs {
        // Never through a symbolic link: the checkout may have planted one where the report goes.
        let written = vigil::unstable::confine::open_for_write(file, false).and_then(|mut f| {
            use std::io::Write;
            f.write_all(render(*format, false).as_bytes())?;
            f.flush()
        });
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
    if args.explain && matches!(args.format, Format::Human | Format::Json) {
        let (explained, index) = super::explain::for_findings(&plan.policies, &report);
        if args.format == Format::Json {
            print(&super::explain::add_to_json(&render(args.format, true), &explained, &index));
        } else {
            print(&render(args.format, true));
            if !explained.is_empty() {
                print(&format!("\nWhy:\n\n{}", vigil::unstable::explain::render(&explained)));
            }
        }
    } else {
        print(&render(args.format, true));
    }
    if let Some(diff) = report.baseline.as_ref().filter(|_| args.format == Format::Human) {
        print(&baseline::lines(diff));
    }
    if args.list_skipped && args.format == Format::Human {
        print(&super::output::skipped_list(&report));
    }
    let mut outcome = outcome_of(&report, plan.fail_on);
    // A shard may be empty (more shards than files): the merge of all shards decides "nothing was checked".
    if report.documents() == 0 && !(args.allow_empty || args.pre_commit || plan.options.shard.is_some()) {
        eprint(
            "error: no document was checked (no input of a known kind was found); pass --allow-empty to accept an empty run\n",
        );
        outcome = Outcome::Error;
    }
    if plan.strict_waivers && !report.unused_waivers.is_empty() {
        for w in &report.unused_waivers {
            eprint(&format!("error: waiver for {} on `{}` ({}) matches no finding\n", w.rule, w.path, w.declared_at));
        }
        outcome = Outcome::Error;
    }
    if audit_failed || failed_outputs {
        outcome = Outcome::Error;
    }
    attest::finish(&args.evidence, &sign_key, outcome, &report, &plan.policies, plan.attest).err().unwrap_or(outcome)
}

pub(super) fn outcome_of(report: &Report, fail_on: Option<Severity>) -> Outcome {
    match report.exit_code(fail_on) {
        0 => Outcome::Pass,
        1 => Outcome::Findings,
        _ => Outcome::Error,
    }
}

/// Merges the configurations, the profile and the flags, and compiles the policies. Order, later winning:
/// the trusted file (`--config`), its profile, the repository's vigil.toml, its profile, the command line.
fn plan(args: &CheckArgs) -> Result<Plan, Outcome> {
    let as_json = args.format == Format::Json;
    let (trusted, repo) = read_configs(args)?;
    let layers: Vec<&Config> = std::iter::once(&trusted).chain(repo.as_ref()).collect();
    let profiles: Vec<Option<&Profile>> = match &args.profile {
        None => vec![None; layers.len()],
        Some(name) => {
            let found: Vec<Option<&Profile>> = layers.iter().map(|c| c.profiles.get(name)).collect();
            if found.iter().all(Option::is_none) {
                let mut names: Vec<&str> = layers.iter().flat_map(|c| c.profiles.keys()).map(String::as_str).collect();
                names.dedup();
                let known = if names.is_empty() { "none are defined".to_string() } else { names.join(", ") };
                let mut files: Vec<String> =
                    layers.iter().filter(|c| !c.file.as_os_str().is_empty()).map(|c| shown(c)).collect();
                if files.is_empty() {
                    files.push(shown(&trusted));
                }
                return Err(usage(format!("no profile `{name}` in {} (profiles: {known})", files.join(" or "))));
            }
            found
        }
    };
    let locked = repo.as_ref().filter(|_| trusted.lock.is_some());
    if let Some(repo) = locked {
        let errors = config::check_layers(&trusted, repo, args.profile.as_deref());
        if !errors.is_empty() {
            return Err(show(&errors, as_json));
        }
    }

    let (bundled, modules, bundles) = super::bundle::for_check(&layers, &args.evidence)?;
    // Policies and parameters: each layer in turn, then the flags, so the command line wins.
    let mut policy_args = args.policies.clone();
    policy_args.bundled = bundled.clone();
    policy_args.no_builtin = args.policies.no_builtin || layers.iter().any(|c| c.builtin == Some(false));
    let layer_params = |n: usize| -> Vec<String> {
        let mut out = Vec::new();
        for (config, profile) in layers.iter().zip(&profiles).take(n) {
            let params = config.params.iter().chain(profile.iter().flat_map(|p| &p.params));
            out.extend(params.map(|(k, v)| format!("{k}={}", v.to_json())));
        }
        out.extend(args.policies.params.iter().cloned());
        out
    };
    policy_args.params = layer_params(layers.len());
    // `[plugins]` (limits, pins, the unpinned opt-in) of the nearest file, except that under a trusted
    // `[lock]` only the trusted file's count: a repository may not loosen the sandbox of its own checks.
    let plugin_layer = if trusted.lock.is_some() { &trusted } else { layers.last().copied().unwrap_or(&trusted) };
    policy_args.plugins = plugin_layer.plugins.clone();
    policy_args.plugins.modules = modules;
    policy_args.schemas = layers.iter().flat_map(|c| c.schemas.iter().cloned()).collect();
    let configured = |n: usize| -> Vec<(PathBuf, Option<PathBuf>)> {
        layers.iter().take(n).flat_map(|c| c.policies.iter().map(|p| (p.clone(), c.root.clone()))).collect()
    };
    // A parameter problem points at the `[params]` entry of the file that set it, unless the command line
    // (which wins) set it too.
    let relocate = |d: &vigil::Diagnostic| -> Option<vigil::Diagnostic> {
        if d.code != vigil::Code::Param {
            return None;
        }
        let name = d.message.split('`').nth(1)?;
        if args.policies.params.iter().any(|p| p.split_once('=').is_some_and(|(n, _)| n.trim() == name)) {
            return None;
        }
        let sets = |params: &[(String, vigil::Value)]| params.iter().any(|(n, _)| n == name);
        let (config, profile) =
            layers.iter().zip(&profiles).rev().find(|(c, p)| sets(&c.params) || p.is_some_and(|p| sets(&p.params)))?;
        let (profile_name, in_profile) = match (profile, &args.profile) {
            (Some(p), Some(n)) if sets(&p.params) => (n.as_str(), true),
            _ => ("", false),
        };
        let section: Vec<&str> = if in_profile { vec!["profiles", profile_name, "params"] } else { vec!["params"] };
        let mut at = config.point_at(&section, name, d.message.clone())?.with_help_opt(d.help.clone());
        if d.source.name() != "<parameters>" {
            let declared = format!("`{name}` is declared here");
            let mut here = d.clone().with_label("here");
            (here.message, here.help) = (declared, None);
            at = at.with_related(here);
        }
        Some(at)
    };
    let policies = compile_with(&policy_args, &configured(layers.len()), as_json, &relocate)?;

    let cli = cli_settings(args)?;
    let layer_settings = |n: usize| -> RuleSettings {
        let mut settings = RuleSettings::default();
        for (config, profile) in layers.iter().zip(&profiles).take(n) {
            settings = settings.then(&config.rules);
            if let Some(p) = profile {
                settings = settings.then(&p.rules);
            }
        }
        settings.then(&cli)
    };
    let settings = layer_settings(layers.len());
    // A rule pattern of a configuration file that matches no rule is shown in that file.
    for (config, profile) in layers.iter().zip(&profiles) {
        let mut own = vec![(vec!["rules"], &config.rules)];
        if let (Some(p), Some(name)) = (profile, &args.profile) {
            own.push((vec!["profiles", name.as_str()], &p.rules));
        }
        for (section, rules) in own {
            if let Err(e) = policies.with_settings(rules) {
                let message = e.to_string();
                let pattern = message.split('`').nth(1).unwrap_or("");
                if let Some(d) = config.point_at(&section, pattern, message.clone()) {
                    return Err(show(&[d], as_json));
                }
            }
        }
    }
    let policies = policies.with_settings(&settings).map_err(|e| usage(e.to_string()))?;

    let mut waivers = Vec::new();
    for config in &layers {
        waivers.extend(config.waivers.iter().cloned());
    }
    for file in &args.waivers {
        match vigil::unstable::waiver::load_file(file) {
            Ok(w) => waivers.extend(w),
            Err(errors) => return Err(show(&errors, as_json)),
        }
    }
    let unknown: Vec<_> = waivers.iter().filter(|w| !policies.rules().any(|r| r.id == w.rule)).collect();
    if let Some(w) = unknown.first() {
        let ids: Vec<&str> = policies.rules().map(|r| r.id.as_str()).collect();
        let help = vigil::unstable::suggestion(&w.rule, ids).map_or(String::new(), |s| format!(" ({s})"));
        return Err(usage(format!(
            "the waiver at {} names rule `{}`, which is not loaded{help}",
            w.declared_at, w.rule
        )));
    }

    // The lock's rules: each locked rule as the trusted layer alone leaves it, against the full result.
    if let Some(repo) = locked {
        let mut trusted_args = args.policies.clone();
        trusted_args.bundled = bundled.clone();
        trusted_args.plugins = policy_args.plugins.clone();
        trusted_args.no_builtin = args.policies.no_builtin || trusted.builtin == Some(false);
        trusted_args.params = layer_params(1);
        let alone = compile_with(&trusted_args, &configured(1), as_json, &relocate)?;
        let states = |set: &PolicySet, settings: &RuleSettings| {
            vigil::unstable::settings::rule_states(set, settings).map_err(usage)
        };
        let before = states(&alone, &layer_settings(1))?;
        let after = states(&policies, &settings)?;
        let errors = config::check_rules(&trusted, repo, &before, &after, &repo.waivers);
        if !errors.is_empty() {
            for e in &errors {
                eprint(&format!("error: {e}\n"));
            }
            return Err(Outcome::Error);
        }
    }

    let mut kinds: Vec<(String, Kind)> = trusted.kinds.clone();
    let mut locked_kinds = None;
    if let Some(repo) = &repo {
        match (locked, &trusted.lock) {
            (Some(_), Some(lock)) => {
                locked_kinds = Some(KindLock {
                    kinds: repo.kinds.clone(),
                    locked: lock.kinds.clone(),
                    trusted: shown(&trusted),
                    repository: shown(repo),
                });
            }
            _ => kinds.extend(repo.kinds.iter().cloned()),
        }
    }
    for spec in &args.kinds {
        let Some((glob, kind)) = spec.rsplit_once('=') else {
            return Err(usage(format!("`--kind {spec}` needs the form GLOB=KIND")));
        };
        kinds.push((glob.to_string(), kind.parse::<Kind>().map_err(usage)?));
    }

    let mut load = vigil::unstable::input::LoadOptions::default();
    load.artifacts.hash = !args.no_hash;
    load.hash_cache = args.hash_cache.as_ref().map(|f| std::sync::Arc::new(vigil::unstable::input::HashCache::open(f)));
    let audit_log = args.audit_log.clone().or_else(|| layers.iter().find_map(|c| c.audit_log.clone()));
    let configured_paths = layers.iter().map(|c| &c.paths).find(|p| !p.is_empty());
    let paths = if !args.paths.is_empty() {
        args.paths.clone()
    } else if let Some(paths) = configured_paths {
        paths.clone()
    } else {
        vec![PathBuf::from(".")]
    };
    let options = CheckOptions {
        paths,
        excludes: layers.iter().flat_map(|c| &c.exclude).chain(&args.excludes).cloned().collect(),
        kinds,
        load,
        waivers,
        // The HTML report lists every input with its SHA-256, and so does an attestation.
        digests: audit_log.is_some() || args.evidence.attest.is_some() || wants(args, Format::Html),
        locked_kinds,
        strict: args.strict,
        context: args.context.clone(),
        named_as_found: args.pre_commit,
        shard: None,
        progress: None,
    };
    let mut fail_on = FailOn::At(Severity::Low);
    for (config, profile) in layers.iter().zip(&profiles) {
        fail_on = profile.and_then(|p| p.fail_on).or(config.fail_on).unwrap_or(fail_on);
    }
    let fail_on = args.fail_on.unwrap_or(fail_on);
    let mut watch: Vec<PathBuf> =
        layers.iter().filter(|c| !c.file.as_os_str().is_empty()).map(|c| c.file.clone()).collect();
    watch.extend(configured(layers.len()).into_iter().map(|(p, _)| p));
    watch.extend(args.policies.policies.iter().cloned());
    Ok(Plan {
        watch,
        policies,
        options,
        fail_on: fail_on.severity(),
        strict_waivers: args.strict_waivers || layers.iter().any(|c| c.strict_waivers == Some(true)),
        audit_log,
        attest: vigil::unstable::evidence::attest::RunContext {
            params: attest::params(&policy_args.params),
            profile: args.profile.clone(),
            fail_on: fail_on.severity(),
            bundles,
            ..Default::default()
        },
    })
}

/// The arguments of a check that `policy serve` compiles its policies with: the same configuration
/// layers, profile, parameters and rule settings, no inputs.
#[cfg(feature = "serve")]
#[allow(clippy::too_many_arguments)]
pub(super) fn for_serve(
    policies: PolicyArgs,
    config: Option<PathBuf>,
    no_config: bool,
    profile: Option<String>,
    fail_on: Option<FailOn>,
    disable: Vec<String>,
    enable: Vec<String>,
    severities: Vec<String>,
) -> CheckArgs {
    CheckArgs {
        paths: Vec::new(),
        policies,
        format: Format::Human,
        outputs: Vec::new(),
        fail_on,
        profile,
        config,
        no_config,
        disable,
        enable,
        severities,
        waivers: Vec::new(),
        strict_waivers: false,
        audit_log: None,
        evidence: attest::EvidenceArgs { attest: None, sign_key: None, bundles: Vec::new(), bundle_key: None },
        kinds: Vec::new(),
        excludes: Vec::new(),
        no_hash: false,
        hash_cache: None,
        list_skipped: false,
        strict: false,
        allow_empty: true,
        root: None,
        baseline: None,
        write_baseline: None,
        context: Vec::new(),
        pre_commit: false,
        explain: false,
        shard: None,
        quiet: true,
    }
}

/// What `policy serve` takes from a plan: the compiled policies, the deny threshold (`--fail-on`, the
/// profile's or vigil.toml's `fail_on`) and the files to watch. Problems are printed, as for a check.
#[cfg(feature = "serve")]
pub(super) fn serve_plan(args: &CheckArgs) -> Result<(PolicySet, Option<Severity>, Vec<PathBuf>), Outcome> {
    let plan = plan(args)?;
    Ok((plan.policies, plan.fail_on, plan.watch))
}

/// Whether the run writes a report in `format`, on standard output or with `--output`.
fn wants(args: &CheckArgs, format: Format) -> bool {
    args.format == format
        || args
            .outputs
            .iter()
            .any(|o| o.split_once('=').and_then(|(f, _)| Format::from_str(f, true).ok()) == Some(format))
}

/// `--disable`, `--enable` and `--severity`.
fn cli_settings(args: &CheckArgs) -> Result<RuleSettings, Outcome> {
    let mut cli = RuleSettings { disable: args.disable.clone(), enable: args.enable.clone(), severity: Vec::new() };
    for spec in &args.severities {
        let Some((rule, level)) = spec.rsplit_once('=') else {
            return Err(usage(format!("`--severity {spec}` needs the form RULE=SEVERITY")));
        };
        cli.severity.push((rule.to_string(), level.parse::<Severity>().map_err(usage)?));
    }
    Ok(cli)
}
