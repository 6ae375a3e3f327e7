//! `policy inspect`: show documents exactly as policies see them (`input` and `doc`), for policy authors.
//! Model files come out as their static-inspection facts; nothing is ever loaded or executed.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use rayon::prelude::*;
use vigil::input::{self, LoadOptions, Loaded};
use vigil::report::yaml;
use vigil::{Kind, Value};

use super::Outcome;
use super::output::{eprint, print, style_for};

const EXAMPLES: &str = "Examples:
  policy inspect models/pytorch_model.bin        what Vigil sees in a weights file (never loaded)
  policy inspect --format yaml README.md          a model card's front matter and sections
  policy inspect --no-hash big.safetensors        skip the SHA-256 of a large file
  policy inspect --format jsonl models/           one compact JSON object per document";

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// A pretty JSON array.
    Json,
    /// One compact JSON object per line.
    Jsonl,
    /// A YAML stream, one document each.
    Yaml,
}

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct InspectArgs {
    /// Files and folders to inspect.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "json")]
    format: Format,
    /// Do not compute SHA-256 digests of model files.
    #[arg(long)]
    no_hash: bool,
    /// Treat every document as this kind.
    #[arg(long, value_name = "KIND")]
    kind: Option<Kind>,
}

pub fn run(args: InspectArgs) -> Outcome {
    let mut options = LoadOptions { kind: args.kind, ..LoadOptions::default() };
    options.artifacts.hash = !args.no_hash;
    let collected = input::collect(&args.paths, &[]);
    let mut errors = collected.errors;
    // Files are inspected in parallel; rayon's ordered collect keeps the output in input order.
    let loaded: Vec<_> = collected.inputs.par_iter().map(|i| input::load(i, &options)).collect();
    let mut entries = Vec::new();
    for result in loaded {
        match result {
            Ok(Loaded::Documents(docs)) => entries.extend(docs.iter().map(entry)),
            Ok(Loaded::Skipped(_)) => {}
            Err(e) => errors.push(e),
        }
    }
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&entries).unwrap_or_default() + "\n",
        Format::Jsonl => entries.par_iter().map(|e| e.to_json() + "\n").collect(),
        Format::Yaml => yaml::render(&entries),
    };
    print(&text);
    let style = style_for(&std::io::stderr());
    for e in &errors {
        eprint(&style.render(e));
    }
    if errors.is_empty() { Outcome::Pass } else { Outcome::Error }
}

/// One output record: where the document came from, what policies see as `input` and as `doc`.
fn entry(d: &vigil::Document) -> Value {
    Value::object_from([
        ("path", Value::from(d.name())),
        ("index", Value::Int(i64::try_from(d.index()).unwrap_or(i64::MAX))),
        ("kind", Value::from(d.kind().name())),
        ("input", d.data().clone()),
        ("doc", d.meta().clone()),
    ])
}
