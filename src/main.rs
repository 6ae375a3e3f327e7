//! `policy`: the Vigil command line. Parses arguments, runs, and maps the outcome to an exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
