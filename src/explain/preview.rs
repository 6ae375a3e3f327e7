//! Values shortened for display.

use crate::value::Value;

/// A value as JSON, shortened: long strings, arrays and objects are cut with `…` so a tree stays readable
/// whatever the input holds. Never walks more than a few dozen nodes.
pub(crate) fn preview(value: &Value) -> String {
    let mut out = String::new();
    write_preview(value, 2, &mut out);
    out
}

fn write_preview(value: &Value, depth: usize, out: &mut String) {
    const STRING: usize = 60;
    const ITEMS: usize = 4;
    match value {
        Value::String(s) => {
            let cut: String = s.chars().take(STRING).collect();
            let mut quoted = serde_json::to_string(&cut).unwrap_or_default();
            if cut.len() < s.len() {
                quoted.insert(quoted.len() - 1, '…');
            }
            out.push_str(&quoted);
        }
        Value::Array(items) if depth == 0 => out.push_str(&format!("[… {} items]", items.len())),
        Value::Object(map) if depth == 0 => out.push_str(&format!("{{… {} members}}", map.len())),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().take(ITEMS).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_preview(item, depth - 1, out);
            }
            if items.len() > ITEMS {
                out.push_str(&format!(", … {} more", items.len() - ITEMS));
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().take(ITEMS).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&format!("{k}: "));
                write_preview(v, depth - 1, out);
            }
            if map.len() > ITEMS {
                out.push_str(&format!(", … {} more", map.len() - ITEMS));
            }
            out.push('}');
        }
        other => out.push_str(&other.to_json()),
    }
}

#[cfg(test)]
mod tests {
    use super::preview;
    use crate::value::Value;

    #[test]
    fn long_and_deep_values_are_cut() {
        let cases = [
            (r#""short""#, r#""short""#),
            (&format!("{:?}", "é".repeat(100)), &format!("\"{}…\"", "é".repeat(60))),
            ("[1, 2, 3, 4, 5, 6]", "[1, 2, 3, 4, … 2 more]"),
            (r#"{"a": {"b": {"c": 1}}, "d": [[1]]}"#, "{a: {b: {… 1 members}}, d: [[… 1 items]]}"),
            ("null", "null"),
            ("1.5", "1.5"),
        ];
        for (json, expected) in cases {
            assert_eq!(preview(&Value::from_json(json).expect("json")), *expected, "{json}");
        }
    }
}
