//! `policy check` over the real third-party corpus in `../shared/corpus/` (when present): every file loads,
//! except the three its README lists as invalid as published. The two ML-BOMs get a clear error naming them;
//! the third is YAML that nothing marks as a workflow (a linter's fixture outside `.github/workflows/`), so
//! the folder walk skips it with the reason.

use std::path::{Path, PathBuf};

use vigil::Engine;
use vigil::unstable::pipeline::{CheckOptions, check};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    dir.is_dir().then_some(dir)
}

#[test]
fn every_corpus_file_loads_except_the_invalid_ones() {
    let Some(dir) = corpus() else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let policies =
        Engine::default().compile(vigil::unstable::bundled::BUNDLED.iter().copied()).expect("bundled policies compile");
    let report = check(&policies, &CheckOptions::new([dir.clone()]));

    let mut errors: Vec<(String, String)> = report
        .errors
        .iter()
        .map(|e| (e.file.trim_start_matches(&*dir.to_string_lossy()).to_string(), e.to_string()))
        .collect();
    errors.sort();
    let files: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(files, ["/ml_bom/Dataset_bom.json", "/ml_bom/OpenSource_bom.json"], "{errors:#?}");
    for (_, message) in &errors {
        assert!(
            message.contains(":") && (message.contains("invalid JSON") || message.contains("invalid YAML")),
            "{message}"
        );
    }
    // 318 data files and the folders' READMEs: every other file is a document or deliberately skipped.
    let skipped: Vec<String> = report.skipped.iter().map(|s| s.path.to_string_lossy().into_owned()).collect();
    let (markdown, data): (Vec<&String>, Vec<&String>) = skipped.iter().partition(|s| s.ends_with(".md"));
    assert!(
        data.len() == 1 && data[0].ends_with("/bad-yaml-2.yml"),
        "only READMEs, SOURCES.md and bad YAML: {skipped:?}"
    );
    assert!(!markdown.is_empty());
    assert_eq!(report.files + report.errors.len() + data.len(), 318, "every data file is read");
    assert!(report.documents() >= 330, "multi-document files count each document: {}", report.documents());
    let kinds: Vec<String> = report.kinds.iter().map(|(k, n)| format!("{k}={n}")).collect();
    println!("{} documents: {}; {} findings", report.documents(), kinds.join(" "), report.findings.len());
    assert!(report.kinds.len() >= 12, "the corpus covers most kinds: {kinds:?}");
}

/// docs/corpus-findings.md records the review of every finding on the corpus, rule by rule
/// (scripts/corpus_findings.py writes it). A rule change that moves the counts on real files must come with a
/// fresh review: this test compares the counts of a run with the file's per-rule table.
#[test]
fn corpus_findings_match_the_reviewed_counts() {
    let Some(dir) = corpus() else {
        println!("skipped: ../shared/corpus not found");
        return;
    };
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/corpus-findings.md");
    let doc = std::fs::read_to_string(&doc_path).expect("docs/corpus-findings.md exists");
    let table = doc.split("## Per rule").nth(1).and_then(|t| t.split("\n## ").next()).expect("a per-rule table");
    let recorded: std::collections::BTreeMap<String, usize> = table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let rule = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((rule.to_string(), cells.get(2)?.parse().ok()?))
        })
        .collect();
    assert!(recorded.len() >= 30, "the per-rule table of docs/corpus-findings.md could not be read");

    let policies =
        Engine::default().compile(vigil::unstable::bundled::BUNDLED.iter().copied()).expect("bundled policies compile");
    let report = check(&policies, &CheckOptions::new([dir]));
    let mut counted = std::collections::BTreeMap::new();
    for finding in &report.findings {
        *counted.entry(finding.rule.id.to_string()).or_insert(0usize) += 1;
    }
    assert_eq!(
        counted, recorded,
        "findings on ../shared/corpus changed: review them and run `cargo build && python3 scripts/corpus_findings.py`"
    );
}
