//! Terminal output shared by subcommands: colour choice, width, and writing that never panics and never
//! fails quietly: a report that did not reach standard output (full disk, closed pipe) makes the run exit 2.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use vigil::unstable::report::human::Style;

/// Colours only on a terminal, and never when `NO_COLOR` is set (https://no-color.org).
pub fn style_for(stream: &impl IsTerminal) -> Style {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let width = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(100);
    Style { color: stream.is_terminal() && !no_color, width }
}

/// Writes to stdout. A failed write (`> /dev/full`, a reader that went away) is reported once on stderr and
/// remembered: `failed()` turns the run's exit code into 2, because CI must never take a report that was not
/// delivered for a pass.
pub fn print(text: &str) {
    if STDOUT_FAILED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        STDOUT_FAILED.store(true, Ordering::Relaxed);
        eprint(&format!("error: cannot write the report to standard output: {e}\n"));
    }
}

static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);

/// Whether some write to standard output failed.
pub fn failed() -> bool {
    STDOUT_FAILED.load(Ordering::Relaxed)
}

/// Writes to stderr.
pub fn eprint(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// One line per file left out: `skipped: PATH (REASON)`. Paths come from the checked tree, so control
/// characters in them are escaped rather than sent to the terminal.
pub fn skipped_list(report: &vigil::unstable::report::Report) -> String {
    let mut out = String::new();
    for s in &report.skipped {
        let path: String = s
            .path
            .to_string_lossy()
            .chars()
            .flat_map(|c| {
                let escaped: Vec<char> = if c.is_control() { c.escape_default().collect() } else { vec![c] };
                escaped
            })
            .collect();
        out.push_str(&format!("skipped: {path} ({})\n", s.reason));
    }
    out
}
