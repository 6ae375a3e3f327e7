//! `policy list`: the loaded rules, filtered by kind or control, or their parameters (`--params`), as a
//! table, JSON or Markdown.

use clap::{Args, ValueEnum};
use vigil::unstable::report::catalog;
use vigil::{Kind, RuleInfo};

use super::Outcome;
use super::policies::{PolicyArgs, compile};

const EXAMPLES: &str = "Examples:
  policy list                                  every bundled rule
  policy list --kind ModelCard                 rules that check model cards
  policy list --control OWASP-LLM03            rules mapped to a framework control
  policy list --format markdown > docs/rules.md
  policy list --params                         every tunable parameter: type, default, rules using it
  policy list -p policies/ --no-builtin        your own rules only
  policy list -p examples/plugins/secrets/     rules calling WASM plugins say which";

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// A JSON array of rules.
    Json,
    /// A Markdown catalogue.
    Markdown,
}

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct ListArgs {
    #[command(flatten)]
    policies: PolicyArgs,
    /// Only rules that apply to documents of this kind.
    #[arg(long, value_name = "KIND")]
    kind: Option<Kind>,
    /// Only rules mapped to this control (exact, or a prefix such as `EU-AI-Act`).
    #[arg(long, value_name = "CONTROL")]
    control: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "table")]
    format: Format,
    /// List the tunable parameters (`--param`, `[params]`) instead of the rules: type, default (or the
    /// value `--param` gives), description and the rules that use each.
    #[arg(long = "params", id = "list_params", conflicts_with_all = ["kind", "control"])]
    list_params: bool,
}

pub fn run(args: ListArgs) -> Outcome {
    let policies = match compile(&args.policies, false) {
        Ok(p) => p,
        Err(outcome) => return outcome,
    };
    if args.list_params {
        let params = vigil::unstable::params::params(&policies);
        let text = match args.format {
            Format::Table => vigil::unstable::params::table(&params),
            Format::Json => vigil::unstable::params::json(&params),
            Format::Markdown => vigil::unstable::params::markdown(&params),
        };
        super::output::print(&text);
        return Outcome::Pass;
    }
    let rules: Vec<&RuleInfo> = policies
        .rules()
        .map(|r| &**r)
        .filter(|r| args.kind.is_none_or(|k| r.kinds.iter().any(|rk| rk.covers(k))))
        .filter(|r| args.control.as_ref().is_none_or(|c| r.controls.iter().any(|rc| rc.starts_with(c.as_str()))))
        .collect();
    let text = match args.format {
        Format::Table => catalog::table(&rules) + &plugin_use(&rules),
        Format::Json => catalog::json(&rules),
        Format::Markdown => catalog::markdown(&rules),
    };
    super::output::print(&text);
    Outcome::Pass
}

/// Which rules call which WASM plugins, under the table (JSON and Markdown carry it per rule).
fn plugin_use(rules: &[&RuleInfo]) -> String {
    let using: Vec<String> = rules
        .iter()
        .filter(|r| !r.plugins.is_empty())
        .map(|r| format!("  {}  {}\n", r.id, r.plugins.join(", ")))
        .collect();
    if using.is_empty() { String::new() } else { format!("\nRules calling WASM plugins:\n{}", using.concat()) }
}
