//! The shared model-card workload (`<repo>/../shared/bench/modelcard`): finding it, generating documents with
//! its `generate.py`, and reading them back with the ground truth.
//!
//! The generator is the single source of documents for every engine, so all engines see byte-identical input
//! and `expected.json` says exactly how many records each rule must produce.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::engines::{Contender, Parsed, Record};

/// Where the shared workload lives: `$VIGIL_BENCH_WORKLOAD`, else `shared/bench/modelcard` beside the repository.
pub fn workload_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("VIGIL_BENCH_WORKLOAD") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench/modelcard")
}

/// Why the workload cannot be used here, if it cannot (no shared folder, no python3): tests skip on this.
pub fn unavailable() -> Option<String> {
    let dir = workload_dir();
    if !dir.join("generate.py").is_file() || !dir.join("modelcard.rego").is_file() {
        return Some(format!("no workload at {} (set VIGIL_BENCH_WORKLOAD)", dir.display()));
    }
    match Command::new("python3").arg("--version").output() {
        Ok(o) if o.status.success() => None,
        _ => Some("python3 is not available".to_string()),
    }
}

/// The reference Rego policy.
pub fn rego_policy() -> std::io::Result<String> {
    std::fs::read_to_string(workload_dir().join("modelcard.rego"))
}

/// Runs `generate.py --out out --count count` (with `--no-yaml` unless `yaml`).
pub fn generate(out: &Path, count: usize, yaml: bool) -> Result<(), String> {
    let mut cmd = Command::new("python3");
    cmd.arg(workload_dir().join("generate.py")).arg("--out").arg(out).arg("--count").arg(count.to_string());
    if !yaml {
        cmd.arg("--no-yaml");
    }
    let output = cmd.output().map_err(|e| format!("cannot run python3: {e}"))?;
    if !output.status.success() {
        return Err(format!("generate.py failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(())
}

/// One generated data set, read into memory (file reading is never part of a timing).
pub struct Workload {
    /// Document `i` as compact JSON (line `i` of docs.jsonl).
    pub json: Vec<String>,
    /// Document `i` as YAML (`yaml/doc-iiiii.yaml`), when the data set has them.
    pub yaml: Vec<String>,
    /// Ground truth from expected.json.
    pub expected: Expected,
}

/// `expected.json`: how many records each rule produces, and which rules each document breaks.
#[derive(Debug, Default)]
pub struct Expected {
    /// Rule id → number of violation records over all documents.
    pub records_per_rule: BTreeMap<String, usize>,
    /// For document `i`, the distinct rules it violates, in rule order.
    pub rules_per_doc: Vec<Vec<String>>,
}

impl Workload {
    /// Reads `dir/docs.jsonl`, `dir/expected.json` and, if `yaml`, every `dir/yaml/doc-NNNNN.yaml`.
    pub fn read(dir: &Path, yaml: bool) -> Result<Workload, String> {
        let read = |p: PathBuf| std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()));
        let json: Vec<String> = read(dir.join("docs.jsonl"))?.lines().map(str::to_string).collect();
        let expected = Expected::parse(&read(dir.join("expected.json"))?)?;
        let yaml = if yaml {
            (0..json.len()).map(|i| read(dir.join(format!("yaml/doc-{i:05}.yaml")))).collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        if expected.rules_per_doc.len() != json.len() {
            return Err(format!(
                "expected.json describes {} documents, docs.jsonl has {}",
                expected.rules_per_doc.len(),
                json.len()
            ));
        }
        Ok(Workload { json, yaml, expected })
    }
}

impl Expected {
    /// Parses the generator's expected.json.
    pub fn parse(text: &str) -> Result<Expected, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("expected.json: {e}"))?;
        let records_per_rule = v["records_per_rule"]
            .as_object()
            .ok_or("expected.json has no records_per_rule")?
            .iter()
            .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0) as usize))
            .collect();
        let rules_per_doc = v["rules_per_doc"]
            .as_array()
            .ok_or("expected.json has no rules_per_doc")?
            .iter()
            .map(|d| d.as_array().into_iter().flatten().filter_map(|r| r.as_str().map(str::to_string)).collect())
            .collect();
        Ok(Expected { records_per_rule, rules_per_doc })
    }
}

/// A generated data set in a temporary directory (or a given one), kept alive while in use.
pub struct DataDir {
    /// The directory holding docs.jsonl and friends.
    pub path: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl DataDir {
    /// Uses `given` as is, or generates `count` documents into a fresh temporary directory.
    pub fn prepare(given: Option<PathBuf>, count: usize, yaml: bool) -> Result<DataDir, String> {
        if let Some(path) = given {
            return Ok(DataDir { path, _temp: None });
        }
        let temp = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        generate(temp.path(), count, yaml)?;
        Ok(DataDir { path: temp.path().to_path_buf(), _temp: Some(temp) })
    }
}

/// Rule ids as a sorted multiset, the form in which engines are compared.
pub fn multiset<S: AsRef<str>>(ids: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut v: Vec<String> = ids.into_iter().map(|s| s.as_ref().to_string()).collect();
    v.sort_by_key(|id| rule_order(id));
    v
}

/// `R2` sorts before `R10`; other ids after, alphabetically.
pub fn rule_order(id: &str) -> (u32, String) {
    (id.strip_prefix('R').and_then(|n| n.parse().ok()).unwrap_or(u32::MAX), id.to_string())
}

/// What [`agreement`] established.
#[derive(Debug, Default)]
pub struct Agreement {
    /// Documents checked.
    pub documents: usize,
    /// Rule id → records, from the first engine (all engines agree on it).
    pub records_per_rule: BTreeMap<String, usize>,
}

/// Checks, document by document, that every engine reports the same multiset of rule ids; that the Rego
/// engines and the baseline (all but the first engine, Vigil, whose messages are its own) report identical
/// `{rule, message}` records; and, when `expected` is given, that the rules match the generator's ground
/// truth. Returns the first few differences as the error.
pub fn agreement(
    engines: &mut [Box<dyn Contender>],
    inputs: &[Vec<Parsed>],
    expected: Option<&Expected>,
) -> Result<Agreement, String> {
    let mut problems = Vec::new();
    let mut totals = BTreeMap::new();
    let documents = inputs.first().map_or(0, Vec::len);
    for i in 0..documents {
        let mut per_engine = Vec::new();
        for (engine, input) in engines.iter_mut().zip(inputs) {
            let mut records =
                engine.records(&input[i]).map_err(|err| format!("{}: document {i}: {err}", engine.name()))?;
            records.sort_by(|a, b| (rule_order(&a.0), &a.1).cmp(&(rule_order(&b.0), &b.1)));
            per_engine.push(records);
        }
        let ids = |records: &[Record]| multiset(records.iter().map(|r| r.0.as_str()));
        let first = ids(&per_engine[0]);
        for (e, records) in per_engine.iter().enumerate().skip(1) {
            if ids(records) != first {
                problems.push(format!(
                    "document {i}: {} reports {:?}, {} reports {:?}",
                    engines[0].name(),
                    first,
                    engines[e].name(),
                    ids(records)
                ));
            } else if e > 1 && records != &per_engine[1] {
                problems.push(format!(
                    "document {i}: {} records {:?}, {} records {:?}",
                    engines[1].name(),
                    per_engine[1],
                    engines[e].name(),
                    records
                ));
            }
        }
        if let Some(expected) = expected {
            let mut distinct = first.clone();
            distinct.dedup();
            if expected.rules_per_doc.get(i) != Some(&distinct) {
                problems.push(format!(
                    "document {i}: engines report rules {distinct:?}, expected.json says {:?}",
                    expected.rules_per_doc.get(i)
                ));
            }
        }
        for id in first {
            *totals.entry(id).or_insert(0) += 1;
        }
    }
    if let Some(expected) = expected {
        let wanted: BTreeMap<_, _> =
            expected.records_per_rule.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.clone(), *n)).collect();
        if wanted != totals {
            problems.push(format!("records per rule {totals:?}, expected.json says {wanted:?}"));
        }
    }
    if problems.is_empty() {
        Ok(Agreement { documents, records_per_rule: totals })
    } else {
        let shown = problems.len().min(10);
        Err(format!("{} disagreement(s); the first {shown}:\n  {}", problems.len(), problems[..shown].join("\n  ")))
    }
}
