//! `policy report merge FILES…`: one report from the JSON reports of several runs, usually the shards of one
//! run (`policy check --shard I/N --format json`), rendered in any format `policy check` writes and with the
//! exit code `policy check` would have given the whole run.
//!
//! It refuses, with exit code 2, what would make the merged verdict wrong without anyone noticing:
//! - reports checked with different policy sets (their `policy_digest` differ, or one does not record it),
//!   unless `--allow-mixed`: the merge of two different gates is no gate;
//! - shard reports with a shard missing, repeated, or of different counts: files would go unchecked;
//! - reports checked with different `--fail-on`, unless `--fail-on` is given here.
//!
//! Errors and skipped files named by several reports are listed once (every shard reports a missing path it
//! was given). A waiver is unused only when no report used it. `--strict-waivers` is therefore decided
//! here, not in the shards.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use vigil::unstable::config::FailOn;
use vigil::unstable::report::read::{Read, read};
use vigil::unstable::report::{Report, human, json};
use vigil::{RuleInfo, Severity};

use super::Outcome;
use super::check::{Format, outcome_of};
use super::output::{eprint, print, style_for};
use super::policies::usage;

/// `policy report …`.
#[derive(Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    command: ReportCommand,
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Merge JSON reports (e.g. of `policy check --shard I/N --format json`) into one, in any format.
    Merge(MergeArgs),
}

#[derive(Args)]
#[command(after_help = "Examples:
  policy report merge shard-*.json                           the whole run's verdict, for people
  policy report merge shard-*.json --format sarif > vigil.sarif
  policy report merge shard-*.json -o json=all.json -o html=report.html")]
pub struct MergeArgs {
    /// JSON reports written by `policy check --format json`.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Output format on standard output.
    #[arg(short, long, value_enum, default_value = "human")]
    format: Format,
    /// Also write the merged report to a file: FORMAT=FILE (repeatable).
    #[arg(short, long = "output", value_name = "FORMAT=FILE")]
    outputs: Vec<String>,
    /// Exit 1 when a finding is at or above this severity [default: the reports' own, which must agree].
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<FailOn>,
    /// Merge reports of different policy sets (their verdicts then answer different questions).
    #[arg(long)]
    allow_mixed: bool,
    /// Pass when no report checked any document.
    #[arg(long)]
    allow_empty: bool,
    /// A waiver that matched no finding in any report is an error.
    #[arg(long)]
    strict_waivers: bool,
    /// The repository root SARIF and JUnit name files from [default: as for `policy check`]. Run the merge
    /// in the folder the checks ran in, so that the files the reports name are found.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
}

pub fn run(args: ReportArgs) -> Outcome {
    match args.command {
        ReportCommand::Merge(args) => merge(&args),
    }
}

fn merge(args: &MergeArgs) -> Outcome {
    let mut outputs = Vec::new();
    for spec in &args.outputs {
        match spec.split_once('=').and_then(|(f, file)| Some((Format::from_str(f, true).ok()?, PathBuf::from(file)))) {
            Some(output) => outputs.push(output),
            None => return usage(format!("`--output {spec}` needs the form FORMAT=FILE")),
        }
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let paths = vigil::unstable::report::paths::Paths::detect(&cwd, args.root.as_deref());
    let mut reads = Vec::new();
    for file in &args.files {
        let text = match read_text(file) {
            Ok(t) => t,
            Err(e) => return usage(format!("cannot read {}: {e}", file.display())),
        };
        match read(&text, &paths) {
            Ok(r) => reads.push((file.display().to_string(), r)),
            Err(e) => return usage(format!("{}: {e}", file.display())),
        }
    }
    let digest = match policy_digest(&reads, args.allow_mixed) {
        Ok(d) => d,
        Err(outcome) => return outcome,
    };
    if let Err(message) = check_shards(&mut reads) {
        return usage(message);
    }
    let fail_on = match fail_on(args, &reads) {
        Ok(f) => f,
        Err(outcome) => return outcome,
    };
    let mut report = combine(reads.into_iter().map(|(_, r)| r).collect());
    report.paths = paths;
    let mut rules: Vec<&RuleInfo> = Vec::new();
    for f in &report.findings {
        if !rules.iter().any(|r| r.id == f.rule.id) {
            rules.push(&f.rule);
        }
    }
    let render = |format: Format, color: bool| -> String {
        match format {
            Format::Human => {
                let style =
                    if color { style_for(&std::io::stdout()) } else { human::Style { color: false, width: 100 } };
                human::render(&report, style)
            }
            Format::Json => {
                json::render_run(&report, fail_on, json::Run { policy_digest: digest.as_deref(), ..Default::default() })
            }
            Format::Sarif => vigil::unstable::report::sarif::render(&report, &rules, &cwd),
            Format::Junit => vigil::unstable::report::junit::render(&report, &rules),
            Format::Github => vigil::unstable::report::github::render(&report),
            Format::Html => vigil::unstable::report::html::render(
                &report,
                &vigil::unstable::report::html::Run {
                    rules: &rules,
                    policy_digest: digest.as_deref().unwrap_or("mixed"),
                    now: jiff::Timestamp::now(),
                    profile: None,
                    fail_on,
                },
            ),
        }
    };
    let mut outcome = outcome_of(&report, fail_on);
    for (format, file) in &outputs {
        let written = vigil::unstable::confine::open_for_write(file, false).and_then(|mut f| {
            use std::io::Write;
            f.write_all(render(*format, false).as_bytes())?;
            f.flush()
        });
        if let Err(e) = written {
            eprint(&format!("error: cannot write {}: {e}\n", file.display()));
            outcome = Outcome::Error;
        }
    }
    if args.format == Format::Human {
        let style = style_for(&std::io::stderr());
        for e in &report.errors {
            eprint(&style.render(e));
        }
    }
    print(&render(args.format, true));
    if report.documents() == 0 && !args.allow_empty {
        eprint("error: no report checked any document; pass --allow-empty to accept an empty run\n");
        outcome = Outcome::Error;
    }
    if args.strict_waivers && !report.unused_waivers.is_empty() {
        for w in &report.unused_waivers {
            eprint(&format!("error: waiver for {} on `{}` ({}) matches no finding\n", w.rule, w.path, w.declared_at));
        }
        outcome = Outcome::Error;
    }
    outcome
}

/// A report file, through no symbolic link and at most 1 GiB (a report is text; more is not one).
fn read_text(file: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut text = String::new();
    vigil::unstable::confine::open_regular(file)?.take(1 << 30).read_to_string(&mut text)?;
    Ok(text)
}

/// The policy set all reports were checked with, or exit 2 when they differ (unless `allow_mixed`, which
/// gives `None`: the merged report then records no digest).
fn policy_digest(reads: &[(String, Read)], allow_mixed: bool) -> Result<Option<String>, Outcome> {
    let first = reads.first().and_then(|(_, r)| r.policy_digest.clone());
    let same = first.is_some() && reads.iter().all(|(_, r)| r.policy_digest == first);
    if same {
        return Ok(first);
    }
    if allow_mixed {
        return Ok(None);
    }
    let listed: Vec<String> = reads
        .iter()
        .map(|(name, r)| format!("  {name}: {}", r.policy_digest.as_deref().unwrap_or("no policy digest recorded")))
        .collect();
    eprint(&format!(
        "error: the reports were not checked with one policy set:\n{}\npass --allow-mixed to merge them anyway\n",
        listed.join("\n")
    ));
    Err(Outcome::Error)
}

/// Shard reports must be every shard of one run, once each; they are put in shard order.
fn check_shards(reads: &mut [(String, Read)]) -> Result<(), String> {
    let Some(count) = reads.iter().find_map(|(_, r)| r.shard.map(|s| s.1)) else { return Ok(()) };
    if let Some((name, _)) = reads.iter().find(|(_, r)| r.shard.is_none_or(|s| s.1 != count)) {
        return Err(format!("{name} is not one of the {count} shards the other reports are (--shard I/{count})"));
    }
    reads.sort_by_key(|(_, r)| r.shard.map(|s| s.0));
    let mut seen: Vec<u64> = reads.iter().filter_map(|(_, r)| r.shard.map(|s| s.0)).collect();
    if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("shard {}/{count} is given twice", w[0]));
    }
    seen.dedup();
    let missing: Vec<String> = (0..count).filter(|i| !seen.contains(i)).map(|i| format!("{i}/{count}")).collect();
    if !missing.is_empty() {
        return Err(format!("shard {} missing: its files would go unchecked", missing.join(", ")));
    }
    Ok(())
}

/// `--fail-on`, else the threshold every report recorded, else `low` (check's default).
fn fail_on(args: &MergeArgs, reads: &[(String, Read)]) -> Result<Option<Severity>, Outcome> {
    if let Some(f) = args.fail_on {
        return Ok(f.severity());
    }
    let recorded: Vec<(&String, Option<Severity>)> =
        reads.iter().filter_map(|(name, r)| r.fail_on.map(|f| (name, f))).collect();
    match recorded.first() {
        None => Ok(Some(Severity::Low)),
        Some((_, first)) if recorded.iter().all(|(_, f)| f == first) => Ok(*first),
        Some(_) => {
            let shown = |f: Option<Severity>| f.map_or("never", |s| s.name());
            let listed: Vec<String> = recorded.iter().map(|(name, f)| format!("{name}: {}", shown(*f))).collect();
            Err(usage(format!(
                "the reports were checked with different --fail-on ({}); pass --fail-on to choose",
                listed.join(", ")
            )))
        }
    }
}

/// One report of many: findings in report order, counts summed, errors and skipped files once each.
fn combine(reads: Vec<Read>) -> Report {
    let single = reads.len() == 1;
    let mut out = Report::default();
    let mut unused: Option<Vec<std::sync::Arc<vigil::unstable::waiver::Waiver>>> = None;
    let mut baseline: Option<vigil::unstable::report::baseline::Diff> = None;
    for Read { report, .. } in reads {
        out.findings.extend(report.findings);
        out.files += report.files;
        for (kind, n) in report.kinds {
            *out.kinds.entry(kind).or_default() += n;
        }
        for e in report.errors {
            let same =
                |o: &vigil::LoadError| o.file == e.file && o.message == e.message && o.line_col() == e.line_col();
            if !out.errors.iter().any(same) {
                out.errors.push(e);
            }
        }
        for s in report.skipped {
            if !out.skipped.iter().any(|o| o.path == s.path) {
                out.skipped.push(s);
            }
        }
        // Unused in the merged run: unused in every report.
        let key = |w: &vigil::unstable::waiver::Waiver| serde_json::to_string(w).unwrap_or_default();
        unused = Some(match unused {
            None => report.unused_waivers,
            Some(before) => {
                before.into_iter().filter(|w| report.unused_waivers.iter().any(|u| key(u) == key(w))).collect()
            }
        });
        if let Some(diff) = report.baseline {
            let merged = baseline.get_or_insert_with(|| vigil::unstable::report::baseline::Diff {
                file: diff.file.clone(),
                ..Default::default()
            });
            merged.unchanged += diff.unchanged;
            merged.fixed.extend(diff.fixed);
        }
        // An audit log head belongs to one run: kept only when there is one report.
        if single {
            out.audit = report.audit;
        }
    }
    out.unused_waivers = unused.unwrap_or_default();
    out.baseline = baseline;
    out
}
