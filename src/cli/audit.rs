//! `policy audit verify FILE`: check the hash chain of an audit log and name the first broken line.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Outcome;
use super::output::{eprint, print};

#[derive(Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify every line's digest and its link to the line before.
    Verify {
        /// The audit log (`policy check --audit-log FILE`).
        file: PathBuf,
    },
}

pub fn run(args: AuditArgs) -> Outcome {
    let AuditCommand::Verify { file } = args.command;
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            eprint(&format!("error: {}: {e}\n", file.display()));
            return Outcome::Error;
        }
    };
    match vigil::unstable::audit::verify(&text) {
        Ok(n) => {
            print(&format!("✔ {}: {n} entries, chain intact\n", file.display()));
            Outcome::Pass
        }
        Err(broken) => {
            eprint(&format!("✖ {}:{}: {}\n", file.display(), broken.line, broken.reason));
            Outcome::Findings
        }
    }
}
