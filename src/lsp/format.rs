//! Formatting for the language server: `policy fmt`'s canonical layout (`crate::format`), which refuses any
//! output that does not parse to the same tree with the same comments.

/// The formatted text, or `None` when the file does not parse or is already formatted.
pub fn format(name: &str, text: &str) -> Option<String> {
    let formatted = crate::format::format_named(name, text).ok()?;
    (formatted != text).then_some(formatted)
}
