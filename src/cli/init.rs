//! `policy init`: scaffolds a policy repository — `vigil.toml`, a sample policy with its tests and a CI
//! workflow that formats, tests and applies the policies — so a new author starts from a working loop
//! (docs/authoring.md). It never overwrites: if any file it would write exists, it writes nothing.

use std::path::{Path, PathBuf};

use clap::Args;

use super::Outcome;
use super::output::{eprint, print};

#[derive(Args)]
pub struct InitArgs {
    /// The folder to scaffold in (created if missing).
    #[arg(default_value = ".")]
    dir: PathBuf,
}

const CONFIG: &str = r#"# Vigil configuration (docs/ci.md). Paths are relative to this file.
policies = ["policies/"]              # your policies, added to the bundled packs
fail_on = "high"                      # findings at or above this severity fail `policy check`

[params]
"acme.approved_licenses" = ["apache-2.0", "mit"]
"#;

const POLICY: &str = r#"# A sample policy: rename the package and the rule ids after your organisation.
package acme

/// Licenses a model may be published under.
param approved_licenses = ["apache-2.0", "mit"]

/// A model card must state a license the organisation has approved, or nobody may use the model.
rule "ACME-LIC-001" {
  title = "Model cards state an approved license"
  severity = high
  applies_to = ModelCard
  remediation = "Set `license:` in the card's front matter to one of `approved_licenses`."
  require is_string(input.license ?? null) else "the card declares no license" at input
  require lower(input.license) in approved_licenses
    else "license `{input.license}` is not approved (approved: {join(approved_licenses, ", ")})" at input.license
}
"#;

const TESTS: &str = r#"# Tests of acme.policy: `policy test policies/` runs them, `--coverage` shows what they exercise.
package acme

test "an approved license passes" {
  file = {name: "README.md", text: "
    ---
    license: MIT
    ---
    # A model
  "}
  expect no "ACME-LIC-001"
}

test "a card without a license fails" {
  file = {name: "README.md", text: "
    ---
    library_name: transformers
    ---
    # A model
  "}
  expect "ACME-LIC-001" message "declares no license"
}

test "an unapproved license fails where it is written" {
  kind = ModelCard
  input = {license: "cc-by-nc-4.0"}
  expect "ACME-LIC-001" at "/license" message "`cc-by-nc-4.0` is not approved" count 1
}

test "the approved list is a parameter" {
  params = {approved_licenses: ["cc-by-nc-4.0"]}
  kind = ModelCard
  input = {license: "cc-by-nc-4.0"}
  expect no "ACME-LIC-001"
}
"#;

const CI: &str = r#"# Formats, tests and applies the policies on every push (docs/authoring.md).
name: policies
on: [push, pull_request]
permissions:
  contents: read
jobs:
  policies:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683   # v4.2.2
      - run: cargo install --locked --git https://github.com/acme/vigil vigil
      - run: policy fmt --check policies/
      - run: policy test --coverage --min-coverage 90 policies/
      - run: policy check .
"#;

const FILES: &[(&str, &str)] = &[
    ("vigil.toml", CONFIG),
    ("policies/acme.policy", POLICY),
    ("policies/acme_test.policy", TESTS),
    (".github/workflows/policies.yml", CI),
];

pub fn run(args: InitArgs) -> Outcome {
    let existing: Vec<PathBuf> =
        FILES.iter().map(|(p, _)| args.dir.join(p)).filter(|p| p.exists() || p.is_symlink()).collect();
    if !existing.is_empty() {
        let list: Vec<String> = existing.iter().map(|p| p.display().to_string()).collect();
        eprint(&format!("error: not overwriting {}; nothing was written\n", list.join(", ")));
        return Outcome::Error;
    }
    for (path, text) in FILES {
        if let Err(e) = write_new(&args.dir.join(path), text) {
            eprint(&format!("error: cannot write {}: {e}\n", args.dir.join(path).display()));
            return Outcome::Error;
        }
    }
    let mut out = String::new();
    for (path, _) in FILES {
        out.push_str(&format!("created {}\n", args.dir.join(path).display()));
    }
    out.push_str(
        "\nNext: `policy test policies/`, edit policies/acme.policy, `policy fmt policies/`, `policy check .`\n",
    );
    print(&out);
    Outcome::Pass
}

/// Creates `path` (and its folders), failing if it exists — even if it appeared since the check above.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(text.as_bytes())
}
