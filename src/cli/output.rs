//! Terminal output shared by subcommands: colour choice, width, and writing without panicking on a closed pipe.

use std::io::{IsTerminal, Write};

use vigil::report::human::Style;

/// Colours only on a terminal, and never when `NO_COLOR` is set (https://no-color.org).
pub fn style_for(stream: &impl IsTerminal) -> Style {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let width = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(100);
    Style { color: stream.is_terminal() && !no_color, width }
}

/// Writes to stdout; a closed pipe (`policy check | head`) is not an error worth a panic.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Writes to stderr.
pub fn eprint(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}
