//! Terminal output shared by subcommands: colour choice, width, and writing that never panics and never
//! fails quietly: a report that did not reach standard output (full disk, closed pipe) makes the run exit 2.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use vigil::unstable::report::human::Style;

thread_local! {
    /// Set while `capture` runs on this thread: output goes here instead of the terminal.
    static CAPTURED: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with everything it prints (standard output and error) collected, uncoloured, into a string:
/// `policy serve` shows why a reload failed in its log and `/readyz`, in the words `policy check` uses.
#[cfg(feature = "serve")]
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, String) {
    CAPTURED.with(|c| *c.borrow_mut() = Some(String::new()));
    let result = f();
    (result, CAPTURED.with(|c| c.borrow_mut().take()).unwrap_or_default())
}

/// Appends to the capture, when one runs on this thread.
fn captured(text: &str) -> bool {
    CAPTURED.with(|c| c.borrow_mut().as_mut().map(|s| s.push_str(text)).is_some())
}

/// Colours only on a terminal, and never when `NO_COLOR` is set (https://no-color.org).
pub fn style_for(stream: &impl IsTerminal) -> Style {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) || captured("");
    let width = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(100);
    Style { color: stream.is_terminal() && !no_color, width }
}

/// Writes to stdout. A failed write (`> /dev/full`, a reader that went away) is reported once on stderr and
/// remembered: `failed()` turns the run's exit code into 2, because CI must never take a report that was not
/// delivered for a pass.
pub fn print(text: &str) {
    if captured(text) || STDOUT_FAILED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        STDOUT_FAILED.store(true, Ordering::Relaxed);
        eprint(&format!("error: cannot write the report to standard output: {e}\n"));
    }
}

/// Streams a report to stdout through a buffer, as `write` produces it; a failed write is reported and
/// remembered as for [`print`] (the rest of the report is not attempted).
pub fn print_with(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
    if STDOUT_FAILED.load(Ordering::Relaxed) {
        return;
    }
    if CAPTURED.with(|c| c.borrow().is_some()) {
        let mut bytes = Vec::new();
        let _ = write(&mut bytes);
        captured(&String::from_utf8_lossy(&bytes));
        return;
    }
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    if let Err(e) = write(&mut out).and_then(|()| out.flush()) {
        STDOUT_FAILED.store(true, Ordering::Relaxed);
        // What did reach the pipe is not retried when the buffer is dropped.
        let _ = out.into_parts();
        eprint(&format!("error: cannot write the report to standard output: {e}\n"));
    }
}

/// Writes a report to `file` (never through a symbolic link: the checkout may have planted one where the
/// report goes) through a buffer, as `write` produces it. A failure is reported with the file's name.
pub fn write_file(file: &std::path::Path, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> bool {
    let written = vigil::unstable::confine::open_for_write(file, false).and_then(|f| {
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, f);
        write(&mut out)?;
        out.flush()
    });
    match written {
        Ok(()) => true,
        Err(e) => {
            eprint(&format!("error: cannot write {}: {e}\n", file.display()));
            false
        }
    }
}

static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);

/// Whether some write to standard output failed.
pub fn failed() -> bool {
    STDOUT_FAILED.load(Ordering::Relaxed)
}

/// Writes to stderr.
pub fn eprint(text: &str) {
    if captured(text) {
        return;
    }
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
