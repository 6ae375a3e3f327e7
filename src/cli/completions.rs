//! `policy completions SHELL` and `policy man`: shell completion scripts (clap_complete) and man pages
//! (clap_mangen), generated from the same definitions as `--help`, so they never drift from the flags.

use std::path::PathBuf;

use clap::{Args, CommandFactory, ValueEnum};

use super::Outcome;
use super::output::{eprint, print};

/// Shells completions are written for.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Shell {
    /// Bash: `source <(policy completions bash)`, or save to /etc/bash_completion.d/policy.
    Bash,
    /// Zsh: save as `_policy` in a folder of `$fpath`.
    Zsh,
    /// Fish: save to ~/.config/fish/completions/policy.fish.
    Fish,
    /// PowerShell: `policy completions powershell | Out-String | Invoke-Expression` in the profile.
    Powershell,
}

#[derive(Args)]
#[command(after_help = "Examples:
  source <(policy completions bash)                          this shell only
  policy completions zsh > \"${fpath[1]}/_policy\"             zsh, for good
  policy completions fish > ~/.config/fish/completions/policy.fish")]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Args)]
#[command(after_help = "Examples:
  policy man | man -l -                    read it now
  policy man -o /usr/local/share/man/man1  install policy.1 and a page per subcommand (policy-check.1 ...)")]
pub struct ManArgs {
    /// Write `policy.1` and one page per subcommand into this folder (created if needed) instead of
    /// printing `policy.1`.
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
}

/// Prints the completion script.
pub fn completions(args: &CompletionsArgs) -> Outcome {
    use clap_complete::Shell as S;
    let shell = match args.shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Powershell => S::PowerShell,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut super::Cli::command(), "policy", &mut out);
    print(&String::from_utf8_lossy(&out));
    Outcome::Pass
}

/// Prints the man page, or writes every page into a folder.
pub fn man(args: &ManArgs) -> Outcome {
    let command = super::Cli::command();
    let Some(dir) = &args.output else {
        let mut out = Vec::new();
        if let Err(e) = clap_mangen::Man::new(command).render(&mut out) {
            eprint(&format!("error: cannot render the man page: {e}\n"));
            return Outcome::Error;
        }
        print(&String::from_utf8_lossy(&out));
        return Outcome::Pass;
    };
    let written = std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command, dir));
    match written {
        Ok(()) => Outcome::Pass,
        Err(e) => {
            eprint(&format!("error: cannot write man pages to {}: {e}\n", dir.display()));
            Outcome::Error
        }
    }
}
