//! `policy explain --rule ID INPUT...`: why a rule passed, failed, did not apply or could not be evaluated
//! on each document, as a tree of its statements with the values of their sub-expressions (docs/explain.md).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use vigil::Kind;
use vigil::unstable::input::{self, LoadOptions, Loaded};

use super::Outcome;
use super::output::{eprint, print, style_for};
use super::policies::{PolicyArgs, compile, usage};

const EXAMPLES: &str = "Examples:
  policy explain --rule MC-SC-001 README.md          why the rule passed or failed on this card
  policy explain --rule K8S-001 deploy/ --format json   the same as JSON, for every document under deploy/
  policy explain --rule MY-001 -p policies/ card.md  a rule of your own";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A tree for the terminal.
    Human,
    /// A JSON array, one explanation per document.
    Json,
}

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct ExplainArgs {
    /// The rule to explain.
    #[arg(long, value_name = "ID")]
    rule: String,
    /// Files and folders to explain the rule on.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    policies: PolicyArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "human")]
    format: Format,
    /// Treat every document as this kind.
    #[arg(long, value_name = "KIND")]
    kind: Option<Kind>,
    /// Explain documents the rule does not apply to as well (by default they are only counted).
    #[arg(long)]
    all: bool,
}

pub fn run(args: ExplainArgs) -> Outcome {
    let as_json = args.format == Format::Json;
    let policies = match compile(&args.policies, as_json) {
        Ok(p) => p,
        Err(outcome) => return outcome,
    };
    let options = LoadOptions::default().with_kind(args.kind);
    let collected = input::collect(&args.paths, &[]);
    let mut errors = collected.errors;
    let mut docs = Vec::new();
    for i in &collected.inputs {
        match input::load(i, &options) {
            Ok(Loaded::Documents(d)) => docs.extend(d),
            Ok(Loaded::Skipped(_)) => {}
            Err(e) => errors.push(e),
        }
    }
    let style = style_for(&std::io::stderr());
    for e in &errors {
        eprint(&style.render(e));
    }
    let explained = match vigil::unstable::explain::explain(&policies, &args.rule, &docs) {
        Ok(e) => e,
        Err(message) => return usage(message),
    };
    let total = explained.len();
    let shown: Vec<_> = explained
        .into_iter()
        .filter(|e| args.all || e.verdict != vigil::unstable::explain::Verdict::NotApplicable)
        .collect();
    if as_json {
        print(&format!("{}\n", serde_json::to_string_pretty(&shown).unwrap_or_default()));
    } else {
        print(&vigil::unstable::explain::render(&shown));
        if shown.len() < total {
            let n = total - shown.len();
            print(&format!(
                "{n} document{} of other kinds not shown (`--all` shows them)\n",
                if n == 1 { "" } else { "s" }
            ));
        }
        if total == 0 {
            eprint("error: no document to explain the rule on\n");
        }
    }
    if !errors.is_empty() || total == 0 { Outcome::Error } else { Outcome::Pass }
}

/// `policy check --explain`: the explanation of each finding's rule on its document, one per (rule,
/// document), and for each finding the index of its explanation. The documents are read again from the
/// text the report holds (model files are inspected again); a rule comparing documents (`documents(...)`)
/// is explained against that one document.
pub fn for_findings(
    policies: &vigil::PolicySet,
    report: &vigil::Report,
) -> (Vec<vigil::unstable::explain::Explanation>, Vec<Option<usize>>) {
    let mut explained = Vec::new();
    let mut keys: Vec<(String, String, usize)> = Vec::new();
    let mut index = Vec::new();
    for f in &report.findings {
        let key = (f.rule.id.clone(), f.source.name().to_string(), f.document);
        if let Some(i) = keys.iter().position(|k| *k == key) {
            index.push(Some(i));
            continue;
        }
        let options = LoadOptions::default().with_kind(f.kind);
        let docs = if f.kind == Kind::ModelArtifact {
            vigil::Document::from_artifact(std::path::Path::new(f.source.name()), &options).map(|d| vec![d])
        } else {
            vigil::Document::parse(f.source.name(), f.source.text(), &options)
        };
        let doc = docs.ok().and_then(|d| d.into_iter().nth(f.document));
        let explanation = doc.and_then(|d| vigil::unstable::explain::explain(policies, &f.rule.id, &[d]).ok());
        match explanation.and_then(|mut e| e.pop()) {
            Some(e) => {
                explained.push(e);
                keys.push(key);
                index.push(Some(explained.len() - 1));
            }
            None => index.push(None),
        }
    }
    (explained, index)
}

/// Adds `"explain"` to each finding of a JSON report.
pub fn add_to_json(json: &str, explained: &[vigil::unstable::explain::Explanation], index: &[Option<usize>]) -> String {
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(json) else { return json.to_string() };
    if let Some(findings) = value.get_mut("findings").and_then(|f| f.as_array_mut()) {
        for (finding, i) in findings.iter_mut().zip(index) {
            if let (Some(object), Some(e)) = (finding.as_object_mut(), i.and_then(|i| explained.get(i))) {
                object.insert("explain".into(), serde_json::to_value(e).unwrap_or_default());
            }
        }
    }
    serde_json::to_string_pretty(&value).map_or_else(|_| json.to_string(), |s| s + "\n")
}
