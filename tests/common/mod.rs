//! What the data-driven test runners share: the input and expected-finding formats of the case files, and
//! the exact comparison of findings (tests/cases.rs for language cases, tests/bundled.rs for the bundled
//! policies).

use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use vigil::{Document, Finding};

/// An input file of a case.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputFile {
    pub name: String,
    pub text: String,
    #[serde(default)]
    pub kind: Option<String>,
}

/// A finding a case expects; unset fields are not compared.
#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExpectedFinding {
    pub rule: String,
    pub message: String,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub line: Option<usize>,
    #[serde(default)]
    pub column: Option<usize>,
    #[serde(default)]
    pub pointer: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
}

/// Loads a case file with Vigil's own YAML loader (so the loader is exercised too) and deserializes it.
pub fn load<T: DeserializeOwned>(path: &Path) -> T {
    let docs = Document::from_path(path).unwrap_or_else(|e| panic!("{e}"));
    let json = serde_json::to_value(docs[0].data()).expect("serializable");
    serde_json::from_value(json).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The documents of a case's inputs.
pub fn documents(inputs: &[InputFile]) -> Result<Vec<Document>, String> {
    let mut docs = Vec::new();
    for input in inputs {
        let kind = input.kind.as_ref().map(|k| k.parse().expect("valid kind in case file"));
        let options = vigil::unstable::input::LoadOptions::default().with_kind(kind);
        docs.extend(Document::parse(&input.name, &input.text, &options).map_err(|e| format!("input: {e}"))?);
    }
    Ok(docs)
}

/// Compares findings one for one, in order; on a difference, says what was expected and what came.
pub fn compare<'a>(
    file: &Path,
    expected: &[ExpectedFinding],
    findings: impl Iterator<Item = &'a Finding>,
) -> Result<(), String> {
    let got: Vec<ExpectedFinding> = findings
        .map(|f| {
            let at = f.line_col();
            ExpectedFinding {
                rule: f.rule.id.clone(),
                message: f.message.clone(),
                file: Some(f.file().to_string()),
                line: at.map(|p| p.0),
                column: at.map(|p| p.1),
                pointer: Some(f.pointer().to_string()),
                cause: Some(f.cause.name().to_string()),
            }
        })
        .collect();
    let same = |g: &ExpectedFinding, w: &ExpectedFinding| {
        g.rule == w.rule
            && g.message == w.message
            && (w.file.is_none() || g.file == w.file)
            && (w.line.is_none() || g.line == w.line)
            && (w.column.is_none() || g.column == w.column)
            && (w.pointer.is_none() || g.pointer == w.pointer)
            && (w.cause.is_none() || g.cause == w.cause)
    };
    if got.len() == expected.len() && got.iter().zip(expected).all(|(g, w)| same(g, w)) {
        return Ok(());
    }
    let show = |fs: &[ExpectedFinding]| fs.iter().map(|f| format!("  {f:?}")).collect::<Vec<_>>().join("\n");
    Err(format!("{}: findings differ\nexpected:\n{}\ngot:\n{}", file.display(), show(expected), show(&got)))
}
