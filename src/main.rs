//! `policy`: the Vigil command line. Parses arguments, runs, and maps the outcome to an exit code.

mod cli;

// mimalloc: the CLI allocates many small, short-lived values (documents, findings);
// glibc malloc spent a third of artifact inspection in malloc/free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
