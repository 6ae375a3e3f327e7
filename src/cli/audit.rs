//! `policy audit verify FILE [--key PUB] [--expect-head DIGEST] [--expect-entries N]`: check the hash chain
//! of an audit log, its signed checkpoints and the anchors kept elsewhere, and name the first broken line.
//!
//! Exit codes: 0 verified; 1 the log does not verify; 2 the log or key cannot be read.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use vigil::unstable::audit::Expect;
use vigil::unstable::evidence::keys::{SigningKey, VerifyingKey};

use super::Outcome;
use super::output::{eprint, print};

#[derive(Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify every line's digest and its link to the line before; with `--key`, the signed checkpoints;
    /// with `--expect-head`/`--expect-entries`, that the log still holds what an earlier run anchored.
    #[command(after_help = "What each mode detects (docs/ci.md):
  (chain only)      an edited, inserted or removed line, unless every later digest was recomputed
  --key PUB         also a recomputed chain, an emptied log, and entries appended without the key
  --expect-head D   also the log cut back (or rewritten) to before the line whose digest D was anchored
  --expect-entries N  also fewer than N entries (with --expect-head: exactly N up to that line)

Exit codes: 0 verified; 1 does not verify; 2 the log or key cannot be read.")]
    Verify {
        /// The audit log (`policy check --audit-log FILE`).
        file: PathBuf,
        /// Public key the checkpoints must be signed with (PEM, Ed25519 or ECDSA P-256).
        #[arg(long, value_name = "PUB")]
        key: Option<PathBuf>,
        /// A head digest printed by an earlier run: the log must still contain that line.
        #[arg(long, value_name = "DIGEST")]
        expect_head: Option<String>,
        /// The entry count printed by an earlier run: the log must hold at least that many (exactly that
        /// many up to the line of `--expect-head`).
        #[arg(long, value_name = "N")]
        expect_entries: Option<usize>,
    },
}

/// Appends the run's entry (and, with a key, a signed checkpoint) to the log, prints the new head and puts
/// it in the report. `false` when the log cannot be written (the run then exits 2).
pub fn append(log: &Path, report: &mut vigil::Report, policies: &vigil::PolicySet, key: &Option<SigningKey>) -> bool {
    let entry = vigil::unstable::audit::entry(report, policies.digest(), jiff::Timestamp::now());
    match vigil::unstable::audit::append(log, entry, key.as_ref()) {
        Ok(head) => {
            let signed = if head.signed { ", signed checkpoint" } else { "" };
            let entries = if head.entries == 1 { "entry" } else { "entries" };
            let name = log.display();
            eprint(&format!("audit log {name}: head sha256:{} ({} {entries}{signed})\n", head.sha256, head.entries));
            report.audit = Some(head);
            true
        }
        Err(e) => {
            eprint(&format!("error: cannot append to the audit log {}: {e}\n", log.display()));
            false
        }
    }
}

pub fn run(args: AuditArgs) -> Outcome {
    let AuditCommand::Verify { file, key, expect_head, expect_entries } = args.command;
    let key = match key.as_deref().map(VerifyingKey::from_file).transpose() {
        Ok(k) => k,
        Err(e) => {
            eprint(&format!("error: key {e}\n"));
            return Outcome::Error;
        }
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            eprint(&format!("error: {}: {e}\n", file.display()));
            return Outcome::Error;
        }
    };
    let head = expect_head.as_deref().map(|h| h.strip_prefix("sha256:").unwrap_or(h));
    let expect = Expect { key: key.as_ref(), head, entries: expect_entries };
    match vigil::unstable::audit::verify(&text, &expect) {
        Ok(v) => {
            let signed = match &key {
                Some(k) => format!(", {} checkpoint(s) signed by key {}", v.checkpoints, k.id()),
                None => String::new(),
            };
            let anchored = if head.is_some() { ", anchored head found" } else { "" };
            print(&format!(
                "✔ {}: {} entries, chain intact{signed}{anchored}; head sha256:{}\n",
                file.display(),
                v.entries,
                v.head
            ));
            Outcome::Pass
        }
        Err(broken) if broken.line == 0 => {
            eprint(&format!("✖ {}: {}\n", file.display(), broken.reason));
            Outcome::Findings
        }
        Err(broken) => {
            eprint(&format!("✖ {}:{}: {}\n", file.display(), broken.line, broken.reason));
            Outcome::Findings
        }
    }
}
