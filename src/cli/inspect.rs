//! `policy inspect`: show documents exactly as policies see them (`input` and `doc`), for policy authors.
//! Model files come out as their static-inspection facts; nothing is ever loaded or executed.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use rayon::prelude::*;
use vigil::unstable::input::{self, LoadOptions, Loaded};
use vigil::unstable::report::yaml;
use vigil::{Kind, Value};

use super::Outcome;
use super::output::{eprint, print, style_for};

const EXAMPLES: &str = "Examples:
  policy inspect models/pytorch_model.bin        what Vigil sees in a weights file (never loaded)
  policy inspect --format yaml README.md          a model card's front matter and sections
  policy inspect --no-hash big.safetensors        skip the SHA-256 of a large file
  policy inspect --format jsonl models/           one compact JSON object per document";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
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

/// Files inspected (in parallel) and written out per batch: memory stays bounded by the batch, not the run.
const BATCH: usize = 64;

pub fn run(args: InspectArgs) -> Outcome {
    let mut options = LoadOptions::default().with_kind(args.kind);
    options.artifacts.hash = !args.no_hash;
    let collected = input::collect(&args.paths, &[]);
    let mut errors = collected.errors;
    let mut first = true;
    for batch in collected.inputs.chunks(BATCH) {
        // rayon's ordered collect keeps the output in input order.
        let rendered: Vec<_> = batch
            .par_iter()
            .map(|i| match input::load(i, &options) {
                Ok(Loaded::Documents(docs)) => Ok(docs.iter().map(|d| render(&entry(d), args.format)).collect()),
                Ok(Loaded::Skipped(_)) => Ok(Vec::new()),
                Err(e) => Err(e),
            })
            .collect();
        let mut text = String::new();
        for result in rendered {
            match result {
                Ok(parts) => {
                    for part in parts {
                        if args.format == Format::Json {
                            text.push_str(if first { "[\n" } else { ",\n" });
                        }
                        text.push_str(&part);
                        first = false;
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        print(&text);
    }
    if args.format == Format::Json {
        print(if first { "[]\n" } else { "\n]\n" });
    }
    let style = style_for(&std::io::stderr());
    for e in &errors {
        eprint(&style.render(e));
    }
    if errors.is_empty() { Outcome::Pass } else { Outcome::Error }
}

/// One record in the output format: a JSON line, a YAML document, or an element of the pretty JSON array
/// (indented as `serde_json::to_string_pretty` indents it inside the array, without the separator).
fn render(record: &Value, format: Format) -> String {
    match format {
        Format::Jsonl => record.to_json() + "\n",
        Format::Yaml => yaml::render(std::slice::from_ref(record)),
        Format::Json => {
            let pretty = serde_json::to_string_pretty(record).unwrap_or_default();
            pretty.lines().map(|line| format!("  {line}")).collect::<Vec<_>>().join("\n")
        }
    }
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
