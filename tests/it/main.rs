//! The integration tests, as one binary (compiled and linked once): each module tests one area through the
//! library or the real `policy` binary. The data-driven cases are the other binary, `tests/cases.rs`.

mod artifact_rules;
mod artifacts_corpus;
mod authoring;
mod ci;
mod cli;
mod corpus;
mod dist;
mod docs;
mod empty_run;
mod error_api;
mod evidence;
mod evidence_audit;
mod evidence_bundle;
mod evidence_interop;
mod examples;
mod explain;
mod formats;
mod hostile;
mod html;
mod html_browser;
mod lock;
mod lsp;
mod plugins;
mod plugins_recipes;
mod plugins_secrets;
mod pre_commit;
mod public_api;
mod real_repo;
mod repo_trust;
mod robustness;
mod runtime_rules;
mod serve;
mod serve_ops;
mod serve_support;
mod serve_timeouts;
mod serve_waivers;
mod snapshots;
mod vscode;
mod workload;
mod writers;

/// What the modules share: running the real binary and writing fixtures.
mod support {
    use std::path::Path;
    use std::process::{Command, Output};

    /// Runs `policy` in `dir` without colours and wide enough that messages are not wrapped.
    pub fn policy(args: &[&str], dir: &Path) -> Output {
        Command::new(env!("CARGO_BIN_EXE_policy"))
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            .env("COLUMNS", "200")
            .output()
            .expect("the binary runs")
    }

    /// Output bytes as text.
    pub fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    /// Writes `content` to `dir/name`, making folders as needed.
    pub fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
}
