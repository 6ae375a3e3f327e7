//! `policy test`: runs the `test` blocks of policy files (src/testing, docs/authoring.md). Exit codes: 0 every
//! test passed (and coverage is at least `--min-coverage`), 1 a test failed or coverage is too low, 2 the
//! policies do not parse or compile, or a path cannot be read.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use vigil::unstable::testing::{self, TestOptions};

use super::Outcome;
use super::output::{eprint, print, style_for};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    Text,
    Json,
    Junit,
}

#[derive(Args)]
#[command(
    after_help = "Examples:\n  policy test policies/                          run every test under policies/\n  policy test --run 'MC-USE' policies/           only tests whose `file::name` matches\n  policy test --coverage --min-coverage 90 .     fail below 90% of checks covered\n  policy test --lcov target/policy.lcov .        coverage for editors and CI coverage tools"
)]
pub struct TestArgs {
    /// Policy files and folders; every `.policy` file found is compiled, and its `test` blocks run.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: TestFormat,
    /// Only run tests whose `FILE::NAME` matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    run: Option<String>,
    /// Print coverage: which rules and checks the tests saw both pass and fail.
    #[arg(long)]
    coverage: bool,
    /// Write coverage in lcov format to FILE.
    #[arg(long, value_name = "FILE")]
    lcov: Option<PathBuf>,
    /// Exit 1 when fewer than N percent of checks (`require`, `forbid`, `when`, `for ... where`) were seen
    /// both holding and not holding.
    #[arg(long, value_name = "N")]
    min_coverage: Option<f64>,
    /// Exit 1 when fewer than N percent of rules were seen both passing and firing.
    #[arg(long, value_name = "N")]
    min_rule_coverage: Option<f64>,
}

pub fn run(args: TestArgs) -> Outcome {
    let filter = match args.run.as_deref().map(regex::Regex::new).transpose() {
        Ok(f) => f,
        Err(e) => {
            eprint(&format!("error: --run: invalid regular expression: {e}\n"));
            return Outcome::Error;
        }
    };
    let files = match testing::policy_files(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprint(&format!("error: {e}\n"));
            return Outcome::Error;
        }
    };
    let run = match testing::run(&files, &TestOptions { filter }) {
        Ok(run) => run,
        Err(errors) => {
            let style = style_for(&std::io::stderr());
            for e in &errors {
                eprint(&style.render(e));
            }
            eprint("error: the policies under test do not compile; no test was run\n");
            return Outcome::Error;
        }
    };
    match args.format {
        TestFormat::Text => {
            print(&testing::results_text(&run, style_for(&std::io::stdout())));
            if args.coverage {
                print(&testing::coverage_text(&run));
            }
        }
        TestFormat::Json => print(&testing::results_json(&run)),
        TestFormat::Junit => print(&testing::junit(&run)),
    }
    if let Some(path) = &args.lcov
        && let Err(e) = std::fs::write(path, testing::lcov(&run))
    {
        eprint(&format!("error: cannot write {}: {e}\n", path.display()));
        return Outcome::Error;
    }
    let mut outcome = if run.failed() > 0 { Outcome::Findings } else { Outcome::Pass };
    if run.results.is_empty() {
        eprint("error: no tests found (a test is a `test \"name\" { ... }` block in a .policy file)\n");
        outcome = Outcome::Findings;
    }
    for (min, got, what) in
        [(args.min_coverage, run.check_percent(), "checks"), (args.min_rule_coverage, run.rule_percent(), "rules")]
    {
        if let Some(min) = min.filter(|m| got < *m) {
            eprint(&format!(
                "error: coverage of {what} is {got:.1}%, below --min-{}coverage {min}\n",
                if what == "rules" { "rule-" } else { "" }
            ));
            outcome = Outcome::Findings;
        }
    }
    outcome
}
