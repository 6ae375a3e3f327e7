//! Formatting for the language server.
//!
//! `policy fmt` (the canonical layout) is being written beside this; until it lands, `format` only does
//! what cannot change meaning: it trims trailing spaces and ends the file with one newline — and even that
//! is kept only when the result parses to the same tree (a string literal may span lines, and its trailing
//! spaces are part of it). Point `layout` at the real formatter once it exists.

use crate::source::Source;

/// The formatted text, or `None` when the file does not parse or is already formatted.
pub fn format(name: &str, text: &str) -> Option<String> {
    let formatted = layout(text);
    if formatted == text {
        return None;
    }
    (same_tree(name, text, &formatted) == Some(true)).then_some(formatted)
}

/// The formatter. Replace with `policy fmt`'s library entry point when it is merged.
fn layout(text: &str) -> String {
    let mut out: String = text.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    while out.ends_with('\n') {
        out.pop();
    }
    out.push('\n');
    out
}

/// Whether both texts parse to the same syntax tree, ignoring positions.
fn same_tree(name: &str, a: &str, b: &str) -> Option<bool> {
    let tree = |text: &str| -> Option<serde_json::Value> {
        let parsed = crate::syntax::parse(&Source::new(name, text)).ok()?;
        let mut value = serde_json::to_value(&parsed).ok()?;
        strip_spans(&mut value);
        Some(value)
    };
    Some(tree(a)? == tree(b)?)
}

fn strip_spans(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("span");
            map.values_mut().for_each(strip_spans);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_spans),
        _ => {}
    }
}
