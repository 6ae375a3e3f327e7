//! The whole job of `policy check`: find inputs, load them, evaluate, apply waivers, and gather one report.
//!
//! Files are loaded and evaluated in parallel, and the report keeps input order, so output is deterministic.
//! When no rule reads other documents, each file is loaded, evaluated and dropped on its own, so memory
//! stays flat however many files there are; otherwise every document is loaded first.

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::engine::{PolicySet, Session};
use crate::eval::Finding;
use crate::input::hint::{self, Guess};
use crate::input::{self, Document, Input, Kind, LoadError, LoadOptions, Loaded, Skipped};
use crate::ir::Expr;
use crate::report::{InputRecord, Report};
use crate::waiver::Waiver;

/// What to check and how to load it: [`CheckOptions::new`] with the paths, then `with_*` setters.
///
/// ```
/// use vigil::{CheckOptions, Engine, Kind, Severity};
///
/// # fn main() -> miette::Result<()> {
/// let dir = std::env::temp_dir().join(format!("vigil-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("card.yaml"), "kind: ModelCard\nname: m\n").unwrap();
/// let policy = "package p\nrule \"P-1\" {\n  title = \"licensed\"\n  severity = high\n  applies_to = ModelCard\n  require input.license != null else \"no license\"\n}\n";
/// let policies = Engine::default().compile([("p.policy", policy)])?;
/// let options = CheckOptions::new([&dir]).with_excludes(["*.tmp"]).with_kinds([("cards/*", Kind::ModelCard)]);
/// let report = policies.check(&options);
/// assert_eq!(report.failing(Severity::High), 1);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct CheckOptions {
    /// Files and folders.
    pub paths: Vec<PathBuf>,
    /// gitignore-style globs to leave out of folders.
    pub excludes: Vec<String>,
    /// `(glob, kind)`: documents in matching files are of this kind, whatever their content says.
    pub kinds: Vec<(String, Kind)>,
    /// Load limits.
    pub load: LoadOptions,
    /// Accountable exceptions; an expired one no longer applies. Tool layer (`vigil.toml` waivers): hidden,
    /// not covered by semver.
    #[doc(hidden)]
    pub waivers: Vec<Arc<Waiver>>,
    /// Record the SHA-256 of every input in the report (for the audit log); needed anyway by waivers that
    /// pin a digest.
    pub digests: bool,
    /// Kind overrides from a repository's `vigil.toml` layered under a trusted `[lock]`: they may give a kind
    /// to a file, but not change a locked kind the file is detected as. Tool layer: hidden, not covered by
    /// semver.
    #[doc(hidden)]
    pub locked_kinds: Option<KindLock>,
    /// A file found in a folder that does not parse is an error even when no rule reads its kind (by
    /// default it is skipped with the reason; see `input::hint`).
    pub strict: bool,
    /// Files and folders whose documents rules that read other documents (`documents(...)`) see, without
    /// being checked or reported themselves: a pre-commit run over the changed files still sees the BOM
    /// that a changed model card is compared with.
    pub context: Vec<PathBuf>,
    /// Files named in `paths` are treated like files found in a folder: skipped with the reason when they
    /// are no input of any rule, rather than errors (pre-commit names every changed file).
    pub named_as_found: bool,
    /// Check only this share of the files found (`policy check --shard I/N`); the other files' documents
    /// are still seen by rules that read other documents, so a shard's findings are the whole run's.
    pub shard: Option<crate::shard::Shard>,
    /// Counters a progress display reads while the check runs.
    pub progress: Option<Arc<crate::shard::Progress>>,
}

impl CheckOptions {
    /// Checks these files and folders, with every other option at its default.
    pub fn new(paths: impl IntoIterator<Item = impl Into<PathBuf>>) -> CheckOptions {
        CheckOptions { paths: paths.into_iter().map(Into::into).collect(), ..CheckOptions::default() }
    }

    /// Leaves out of folders what these gitignore-style globs match.
    #[must_use]
    pub fn with_excludes(mut self, globs: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.excludes = globs.into_iter().map(Into::into).collect();
        self
    }

    /// Reads documents of files these globs match as the kind given, whatever their content says.
    #[must_use]
    pub fn with_kinds(mut self, kinds: impl IntoIterator<Item = (impl Into<String>, Kind)>) -> Self {
        self.kinds = kinds.into_iter().map(|(glob, kind)| (glob.into(), kind)).collect();
        self
    }

    /// Lets rules that read other documents see these files and folders, which are not checked themselves.
    #[must_use]
    pub fn with_context(mut self, paths: impl IntoIterator<Item = impl Into<PathBuf>>) -> Self {
        self.context = paths.into_iter().map(Into::into).collect();
        self
    }
}

setters!(CheckOptions {
    /// Sets how inputs are loaded.
    with_load => load: LoadOptions,
    /// Sets whether the SHA-256 of every input is recorded in the report.
    with_digests => digests: bool,
    /// Sets whether a file found in a folder that does not parse is an error.
    with_strict => strict: bool,
    /// Sets whether files named in `paths` are treated like files found in a folder.
    with_named_as_found => named_as_found: bool,
    /// Sets the share of the files found to check (`policy check --shard`).
    with_shard => shard: Option<crate::shard::Shard>,
    /// Sets the counters a progress display reads while the check runs.
    with_progress => progress: Option<Arc<crate::shard::Progress>>,
    /// Sets the waivers applied to the report. Tool layer: hidden, not covered by semver.
    #[doc(hidden)]
    with_waivers => waivers: Vec<Arc<Waiver>>,
    /// Sets the kind overrides of a repository under a trusted lock. Tool layer: hidden, not covered by semver.
    #[doc(hidden)]
    with_locked_kinds => locked_kinds: Option<KindLock>,
});

/// A repository's `[kinds]` under a trusted lock.
#[derive(Clone, Debug, Default)]
pub struct KindLock {
    /// The repository's `(glob, kind)` overrides.
    pub kinds: Vec<(String, Kind)>,
    /// Detected kinds they may not change.
    pub locked: Vec<Kind>,
    /// The trusted file, for errors.
    pub trusted: String,
    /// The repository's file, for errors.
    pub repository: String,
}

/// One file's outcome.
pub(crate) enum FileResult {
    Checked { documents: Vec<(Kind, usize)>, findings: Vec<Finding>, input: InputRecord },
    Skipped(Skipped),
    Failed(LoadError),
}

/// Runs a check. Input problems are in the report, never a panic or an early exit.
pub fn check(policies: &PolicySet, options: &CheckOptions) -> Report {
    let mut collected = input::collect(&options.paths, &options.excludes);
    if options.named_as_found {
        for input in &mut collected.inputs {
            input.explicit = false;
        }
    }
    let mut report = Report { errors: collected.errors, skipped: collected.skipped, ..Report::default() };
    // Errors of the paths named (missing, unreadable) stay in every shard: each shard must fail on them.
    let all_inputs = collected.inputs;
    let (mine, others) = crate::shard::split(options.shard.as_ref(), all_inputs.clone(), &mut report.skipped);
    let collected = input::Collected { inputs: mine, ..Default::default() };
    if let Some(progress) = &options.progress {
        progress.start(collected.inputs.len());
    }
    let globs = |kinds: &[(String, Kind)]| kind_globs(kinds);
    let lock = options.locked_kinds.clone().unwrap_or_default();
    let (kinds, repo_kinds) = match globs(&options.kinds).and_then(|k| Ok((k, globs(&lock.kinds)?))) {
        Ok(k) => k,
        Err(e) => {
            report.errors.push(e);
            return report;
        }
    };
    let load = |input: &Input| -> Result<Loaded, LoadError> {
        let mut opts = options.load.clone();
        // Globs are written relative to the project (`boms/*.json`), as waivers are: `./` never counts.
        let path = input.path.strip_prefix(".").unwrap_or(&input.path);
        let mut forced = None;
        let loaded = if let Some(kind) = kinds.iter().find(|(g, _)| g.is_match(path)).map(|(_, k)| *k) {
            opts.kind = Some(kind);
            forced = opts.kind;
            input::load(input, &opts)
        } else if let Some(i) = repo_kinds.iter().position(|(g, _)| g.is_match(path)) {
            forced = Some(lock.kinds[i].1);
            load_locked(input, &opts, &lock, i)
        } else {
            input::load(input, &opts)
        };
        match loaded {
            Err(e) if !input.explicit && !options.strict => unparsed(policies, input, forced, e),
            other => other,
        }
    };
    let digests = options.digests || options.waivers.iter().any(|w| w.digest.is_some());
    let file = FileContext { digests };
    let results: Vec<FileResult> = if policies.cross_document() {
        // Every document must be in memory before any is evaluated.
        let loaded: Vec<Result<Loaded, LoadError>> = collected.inputs.par_iter().map(load).collect();
        let (context, context_errors) = load_context(policies, options, &all_inputs, &load);
        report.errors.extend(context_errors);
        // Another shard's files: their documents, for `documents(...)`; their errors are that shard's.
        // Model files are hashed when loaded: only when a rule compares them across documents.
        let artifacts = read_by_documents(policies, Kind::ModelArtifact);
        let others: Vec<Result<Loaded, LoadError>> = others
            .par_iter()
            .filter(|i| artifacts || input::Format::from_path(&i.path).is_some())
            .map(load)
            .filter(Result::is_ok)
            .collect();
        let all: Vec<Document> = loaded
            .iter()
            .chain(&context)
            .chain(&others)
            .filter_map(|l| match l {
                Ok(Loaded::Documents(d)) => Some(d.iter().cloned()),
                _ => None,
            })
            .flatten()
            .collect();
        let session = policies.session(&all);
        let evaluate = |(l, i)| crate::shard::counted(options, i, file.evaluate(&session, i, l));
        loaded.into_par_iter().zip(&collected.inputs).map(evaluate).collect()
    } else {
        let session = policies.session(&[]);
        let evaluate = |i| crate::shard::counted(options, i, file.evaluate(&session, i, load(i)));
        collected.inputs.par_iter().map(evaluate).collect()
    };
    for result in results {
        match result {
            FileResult::Checked { documents, findings, input } => {
                report.files += 1;
                for (kind, n) in documents {
                    *report.kinds.entry(kind).or_default() += n;
                }
                report.findings.extend(findings.into_iter().map(crate::report::Reported::from));
                report.inputs.push(input);
            }
            FileResult::Skipped(s) => report.skipped.push(s),
            FileResult::Failed(e) => report.errors.push(e),
        }
    }
    apply_waivers(policies, &mut report, &options.waivers);
    report
}

/// Applies waivers to a report as `policy check` does ([`crate::waiver::apply`]), judging expiry on the
/// policies' clock (UTC), so `policy serve` and the CLI give one verdict.
pub fn apply_waivers(policies: &PolicySet, report: &mut Report, waivers: &[Arc<Waiver>]) {
    crate::waiver::apply(report, waivers, waiver_day(policies));
}

/// The day waiver expiry is judged on: the policies' "now" (pinned by `--now`), in UTC.
fn waiver_day(policies: &PolicySet) -> jiff::civil::Date {
    jiff::tz::TimeZone::UTC.to_datetime(policies.now()).date()
}

/// A file found in a folder failed to load: an error when rules read what it seems to be (fail closed),
/// else skipped with the reason (`input::hint`). A kind forced with `--kind` counts as what it is.
fn unparsed(policies: &PolicySet, input: &Input, forced: Option<Kind>, e: LoadError) -> Result<Loaded, LoadError> {
    let guess = match hint::guess(&input.path, &e) {
        None => return Err(e),
        Some(guess) => forced.map_or(guess, Guess::Kind),
    };
    let reason = match guess {
        Guess::Kind(kind) if reads(policies, kind) => return Err(e),
        Guess::Kind(_) => hint::reason::UNREAD_KIND,
        Guess::Unknown(reason) => reason,
    };
    Ok(Loaded::Skipped(Skipped { path: input.path.clone(), reason }))
}

/// Whether a loaded, enabled rule checks documents of `kind`, or some rule reads them with `documents(...)`.
fn reads(policies: &PolicySet, kind: Kind) -> bool {
    policies.rules().any(|r| r.kinds.iter().any(|k| k.covers(kind)) && policies.is_enabled(&r.id))
        || read_by_documents(policies, kind)
}

fn read_by_documents(policies: &PolicySet, kind: Kind) -> bool {
    policies.program.exprs.iter().any(|e| matches!(e, Expr::Documents(kinds) if kinds.iter().any(|k| k.covers(kind))))
}

/// The documents of `options.context` that some `documents(...)` reads, for cross-document rules only.
/// Files also named as inputs are left to them. A context file that does not load is an error only when
/// `documents(...)` reads what it seems to be: otherwise it could not have mattered.
fn load_context(
    policies: &PolicySet,
    options: &CheckOptions,
    inputs: &[Input],
    load: &(dyn Fn(&Input) -> Result<Loaded, LoadError> + Sync),
) -> (Vec<Result<Loaded, LoadError>>, Vec<LoadError>) {
    if options.context.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let named: std::collections::HashSet<PathBuf> =
        inputs.iter().filter_map(|i| std::fs::canonicalize(&i.path).ok()).collect();
    let collected = input::collect(&options.context, &options.excludes);
    let artifacts = read_by_documents(policies, Kind::ModelArtifact);
    let wanted: Vec<Input> = collected
        .inputs
        .into_iter()
        .filter(|i| std::fs::canonicalize(&i.path).is_ok_and(|p| !named.contains(&p)))
        // Model files are hashed when loaded: only when a rule compares them across documents.
        .filter(|i| artifacts || input::Format::from_path(&i.path).is_some())
        .map(|i| Input { explicit: false, ..i })
        .collect();
    let loaded: Vec<Result<Loaded, LoadError>> = wanted.par_iter().map(load).collect();
    let read: Vec<Kind> = Kind::ALL.iter().copied().filter(|k| read_by_documents(policies, *k)).collect();
    let mut errors = collected.errors;
    let mut documents = Vec::new();
    for (result, input) in loaded.into_iter().zip(&wanted) {
        match result {
            Err(e) => match hint::guess(&input.path, &e) {
                Some(Guess::Kind(kind)) if !read.contains(&kind) => {}
                Some(Guess::Unknown(_)) => {}
                _ => errors.push(e),
            },
            // Only what `documents(...)` can return is kept: the rest of the tree need not stay in memory.
            Ok(Loaded::Documents(docs)) => {
                let kept: Vec<Document> = docs.into_iter().filter(|d| read.contains(&d.kind())).collect();
                documents.push(Ok(Loaded::Documents(kept)));
            }
            Ok(Loaded::Skipped(_)) => {}
        }
    }
    (documents, errors)
}

/// Loads a file a repository's `[kinds]` entry `i` matches: as detected first, and again with the kind it asks
/// for only when no document was detected as a locked kind. Changing a locked kind is an error naming both
/// files, not a silent fallback, so the repository learns that its setting was refused.
fn load_locked(input: &Input, opts: &LoadOptions, lock: &KindLock, i: usize) -> Result<Loaded, LoadError> {
    let (glob, kind) = &lock.kinds[i];
    let natural = input::load(input, opts)?;
    if let Loaded::Documents(docs) = &natural
        && let Some(doc) = docs.iter().find(|d| d.kind() != *kind && lock.locked.contains(&d.kind()))
    {
        return Err(LoadError::file(
            &input.path.to_string_lossy(),
            format!(
                "{}'s [kinds] entry `{glob}` = {} would change this {} file, a kind {} locks",
                lock.repository,
                kind.name(),
                doc.kind().name(),
                lock.trusted
            ),
        ));
    }
    let mut opts = opts.clone();
    opts.kind = Some(*kind);
    input::load(input, &opts)
}

/// What evaluating one file needs besides the policies.
struct FileContext {
    digests: bool,
}

impl FileContext {
    fn evaluate(&self, session: &Session, input: &Input, loaded: Result<Loaded, LoadError>) -> FileResult {
        let docs = match loaded {
            Ok(Loaded::Documents(docs)) => docs,
            Ok(Loaded::Skipped(s)) => return FileResult::Skipped(s),
            Err(e) => return FileResult::Failed(e),
        };
        let mut findings = Vec::new();
        let mut documents: Vec<(Kind, usize)> = Vec::new();
        for doc in &docs {
            findings.extend(session.evaluate(doc));
            match documents.iter_mut().find(|(k, _)| *k == doc.kind()) {
                Some((_, n)) => *n += 1,
                None => documents.push((doc.kind(), 1)),
            }
        }
        let path = input.path.to_string_lossy().into_owned();
        let sha256 = if !self.digests {
            None
        } else if let Some(doc) = docs.first() {
            file_digest(doc)
        } else {
            std::fs::read(&input.path).ok().map(|bytes| crate::hex::sha256(&bytes))
        };
        FileResult::Checked { documents, findings, input: InputRecord { path, sha256 } }
    }
}

/// The SHA-256 of the file a document came from: of its text, or the digest a model file's inspection took.
fn file_digest(doc: &Document) -> Option<String> {
    if doc.format().is_some() {
        return Some(crate::hex::sha256(doc.source().text().as_bytes()));
    }
    doc.data().get("sha256").and_then(|v| v.as_str()).map(str::to_string)
}

fn kind_globs(kinds: &[(String, Kind)]) -> Result<Vec<(globset::GlobMatcher, Kind)>, LoadError> {
    kinds
        .iter()
        .map(|(glob, kind)| {
            globset::GlobBuilder::new(glob)
                .literal_separator(true)
                .build()
                .map(|g| (g.compile_matcher(), *kind))
                .map_err(|e| LoadError::file(glob, format!("invalid glob: {e}")))
        })
        .collect()
}
