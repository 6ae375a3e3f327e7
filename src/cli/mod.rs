//! Command-line definitions (clap) and dispatch. Each subcommand lives in its own file and calls only the
//! library's public API.

mod attest;
mod audit;
mod baseline;
mod bundle;
mod check;
mod completions;
mod explain;
mod fmt;
mod init;
mod inspect;
mod layers;
mod list;
mod lsp;
mod merge;
mod output;
mod policies;
mod progress;
#[cfg(feature = "serve")]
mod serve;
mod shard;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes: 0 pass, 1 findings at or above `--fail-on`, 2 usage error, bad policy or unreadable input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass = 0,
    Findings = 1,
    Error = 2,
}

#[derive(Parser)]
#[command(
    name = "policy",
    // The version, the git commit and the enabled cargo features, from build.rs.
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("VIGIL_GIT_COMMIT"), "; features: ", env!("VIGIL_FEATURES"), ")"),
    about = "Vigil: policy-as-code checks for AI systems — model cards, ML-BOMs, pipelines, deployments",
    after_help = "Exit codes: 0 no findings at or above --fail-on; 1 findings; 2 usage error, bad policy or unreadable input.\n\nRun `policy check --help` for examples."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check files and folders against the bundled policies and your own.
    Check(Box<check::CheckArgs>),
    /// Show documents as policies see them: the data (`input`) and metadata (`doc`) of each.
    Inspect(inspect::InspectArgs),
    /// List the loaded rules, filtered by kind or control, as a table, JSON or Markdown.
    List(list::ListArgs),
    /// Work with audit logs: `policy audit verify FILE`.
    Audit(audit::AuditArgs),
    /// Verify a signed attestation of a check (`policy check --attest`) and the files it names.
    VerifyAttestation(attest::VerifyArgs),
    /// Build, inspect and verify signed policy bundles.
    Bundle(bundle::BundleArgs),
    /// Run the language server (LSP over standard input and output) for editors.
    Lsp(lsp::LspArgs),
    /// Explain why a rule passed, failed, did not apply or could not be evaluated on some inputs.
    Explain(explain::ExplainArgs),
    /// Serve decisions over HTTP: checks, Kubernetes admission reviews, inference guardrails.
    #[cfg(feature = "serve")]
    Serve(Box<serve::ServeArgs>),
    /// Work with JSON reports: `policy report merge FILES…` joins the reports of shards.
    Report(merge::ReportArgs),
    /// Print a shell completion script: bash, zsh, fish or powershell.
    Completions(completions::CompletionsArgs),
    /// Print the man page, or write every page with `-o DIR`.
    Man(completions::ManArgs),
    /// Format policy files in the canonical layout (`--check` in CI, `--diff` to preview).
    Fmt(fmt::FmtArgs),
    /// Scaffold a policy repository: vigil.toml, a sample policy with tests, a CI workflow.
    Init(init::InitArgs),
    /// Run the `test` blocks of policy files, with coverage of rules and checks.
    Test(test::TestArgs),
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { Outcome::Error } else { Outcome::Pass };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    // A panic is a bug, but CI must still see "error", never a pass or Rust's exit code 101: the panic
    // message is printed by the default hook (also from worker threads, whose panics rayon re-raises here).
    let run = std::panic::AssertUnwindSafe(|| match cli.command {
        Command::Check(args) => check::run(*args),
        Command::Inspect(args) => inspect::run(args),
        Command::List(args) => list::run(args),
        Command::Audit(args) => audit::run(args),
        Command::VerifyAttestation(args) => attest::verify(args),
        Command::Bundle(args) => bundle::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Lsp(args) => lsp::run(args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::run(*args),
        Command::Report(args) => merge::run(args),
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => completions::man(&args),
        Command::Fmt(args) => fmt::run(args),
        Command::Test(args) => test::run(args),
        Command::Init(args) => init::run(args),
    });
    let outcome = std::panic::catch_unwind(run).unwrap_or_else(|_| {
        eprintln!(
            "error: internal error in Vigil (a bug: please report it with the message above); the run is incomplete"
        );
        Outcome::Error
    });
    // Standard output is flushed by `print`; a report that could not be written is never a pass.
    let outcome = if output::failed() { Outcome::Error } else { outcome };
    ExitCode::from(outcome as u8)
}
