//! The whole job of `policy check`: find inputs, load them, evaluate, and gather one report.
//!
//! Files are loaded and evaluated in parallel, and the report keeps input order, so output is deterministic.
//! When no rule reads other documents, each file is loaded, evaluated and dropped on its own, so memory
//! stays flat however many files there are; otherwise every document is loaded first.

use std::path::PathBuf;

use rayon::prelude::*;

use crate::engine::{PolicySet, Session};
use crate::eval::Finding;
use crate::input::{self, Document, Input, Kind, LoadError, LoadOptions, Loaded, Skipped};
use crate::report::Report;

/// What to check and how to load it.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Files and folders.
    pub paths: Vec<PathBuf>,
    /// gitignore-style globs to leave out of folders.
    pub excludes: Vec<String>,
    /// `(glob, kind)`: documents in matching files are of this kind, whatever their content says.
    pub kinds: Vec<(String, Kind)>,
    /// Load limits.
    pub load: LoadOptions,
}

/// One file's outcome.
enum FileResult {
    Checked { documents: Vec<(Kind, usize)>, findings: Vec<Finding> },
    Skipped(Skipped),
    Failed(LoadError),
}

/// Runs a check. Input problems are in the report, never a panic or an early exit.
pub fn check(policies: &PolicySet, options: &CheckOptions) -> Report {
    let collected = input::collect(&options.paths, &options.excludes);
    let mut report = Report { errors: collected.errors, skipped: collected.skipped, ..Report::default() };
    let kinds = match kind_globs(&options.kinds) {
        Ok(k) => k,
        Err(e) => {
            report.errors.push(e);
            return report;
        }
    };
    let load = |input: &Input| -> Result<Loaded, LoadError> {
        let mut opts = options.load.clone();
        if let Some(kind) = kinds.iter().find(|(g, _)| g.is_match(&input.path)).map(|(_, k)| *k) {
            opts.kind = Some(kind);
        }
        input::load(input, &opts)
    };
    let results: Vec<FileResult> = if policies.cross_document() {
        // Every document must be in memory before any is evaluated.
        let loaded: Vec<Result<Loaded, LoadError>> = collected.inputs.par_iter().map(load).collect();
        let all: Vec<Document> = loaded
            .iter()
            .filter_map(|l| match l {
                Ok(Loaded::Documents(d)) => Some(d.iter().cloned()),
                _ => None,
            })
            .flatten()
            .collect();
        let session = policies.session(&all);
        loaded.into_par_iter().map(|l| evaluate(&session, l)).collect()
    } else {
        let session = policies.session(&[]);
        collected.inputs.par_iter().map(|i| evaluate(&session, load(i))).collect()
    };
    for result in results {
        match result {
            FileResult::Checked { documents, findings } => {
                report.files += 1;
                for (kind, n) in documents {
                    *report.kinds.entry(kind).or_default() += n;
                }
                report.findings.extend(findings);
            }
            FileResult::Skipped(s) => report.skipped.push(s),
            FileResult::Failed(e) => report.errors.push(e),
        }
    }
    report
}

fn evaluate(session: &Session, loaded: Result<Loaded, LoadError>) -> FileResult {
    match loaded {
        Ok(Loaded::Documents(docs)) => {
            let mut findings = Vec::new();
            let mut documents: Vec<(Kind, usize)> = Vec::new();
            for doc in &docs {
                findings.extend(session.evaluate(doc));
                match documents.iter_mut().find(|(k, _)| *k == doc.kind()) {
                    Some((_, n)) => *n += 1,
                    None => documents.push((doc.kind(), 1)),
                }
            }
            FileResult::Checked { documents, findings }
        }
        Ok(Loaded::Skipped(s)) => FileResult::Skipped(s),
        Err(e) => FileResult::Failed(e),
    }
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
