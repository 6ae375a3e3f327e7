//! `policy fmt`: rewrites policy files in the canonical layout (src/format), or with `--check` / `--diff`
//! says which differ. Exit codes: 0 formatted (or nothing to change), 1 `--check`/`--diff` found files to
//! change, 2 a file that does not parse or cannot be read or written.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::Args;
use vigil::unstable::format::format_named;

use super::Outcome;
use super::output::{eprint, print, style_for};

#[derive(Args)]
#[command(
    after_help = "Examples:\n  policy fmt policies/              rewrite every .policy file under policies/\n  policy fmt --check policies/      list files that are not formatted (exit 1), change nothing\n  policy fmt --diff my.policy       show the changes as a unified diff\n  cat a.policy | policy fmt -       format standard input to standard output"
)]
pub struct FmtArgs {
    /// Files and folders (searched for `*.policy`); `-` reads standard input and writes standard output.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Change nothing; list the files that are not formatted and exit 1 if there are any.
    #[arg(long)]
    check: bool,
    /// Change nothing; print a unified diff of what formatting would change, and exit 1 if anything would.
    #[arg(long, conflicts_with = "check")]
    diff: bool,
}

pub fn run(args: FmtArgs) -> Outcome {
    let mut outcome = Outcome::Pass;
    let mut worse = |o: Outcome| {
        if o as u8 > outcome as u8 {
            outcome = o;
        }
    };
    for path in &args.paths {
        if path.as_os_str() == "-" {
            worse(stdin(&args));
            continue;
        }
        match policy_files(path) {
            Ok(files) => files.iter().for_each(|f| worse(file(f, &args))),
            Err(e) => {
                eprint(&format!("error: {}: {e}\n", path.display()));
                worse(Outcome::Error);
            }
        }
    }
    outcome
}

fn stdin(args: &FmtArgs) -> Outcome {
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        eprint(&format!("error: cannot read standard input: {e}\n"));
        return Outcome::Error;
    }
    match format_named("<stdin>", &text) {
        Ok(formatted) if args.check || args.diff => {
            if formatted == text {
                return Outcome::Pass;
            }
            print(&if args.diff { diff("<stdin>", &text, &formatted) } else { "<stdin>\n".to_string() });
            Outcome::Findings
        }
        Ok(formatted) => {
            print(&formatted);
            Outcome::Pass
        }
        Err(errors) => show(&errors),
    }
}

fn file(path: &Path, args: &FmtArgs) -> Outcome {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprint(&format!("error: cannot read {}: {e}\n", path.display()));
            return Outcome::Error;
        }
    };
    let name = path.display().to_string();
    let formatted = match format_named(&name, &text) {
        Ok(f) => f,
        Err(errors) => return show(&errors),
    };
    if formatted == text {
        return Outcome::Pass;
    }
    if args.check {
        print(&format!("{name}\n"));
        return Outcome::Findings;
    }
    if args.diff {
        print(&diff(&name, &text, &formatted));
        return Outcome::Findings;
    }
    // Written beside the file and renamed over it, so an interrupted run never leaves half a policy.
    let tmp = path.with_extension("policy.fmt-tmp");
    match std::fs::write(&tmp, &formatted).and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Outcome::Pass,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            eprint(&format!("error: cannot write {name}: {e}\n"));
            Outcome::Error
        }
    }
}

/// `*.policy` files under `path` (the file itself if it is one), sorted; hidden folders and `target/`
/// are skipped.
fn policy_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        std::fs::metadata(path)?;
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let p = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type()?;
            if kind.is_dir() && !name.starts_with('.') && name != "target" {
                stack.push(p);
            } else if kind.is_file() && name.ends_with(".policy") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

fn show(errors: &vigil::Diagnostics) -> Outcome {
    let style = style_for(&std::io::stderr());
    for e in errors {
        eprint(&style.render(e));
    }
    Outcome::Error
}
