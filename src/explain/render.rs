//! The terminal tree of an [`Explanation`]: one line per statement, its sub-expressions' values under it.
//!
//! ```text
//! MC-SC-001 on card.md (ModelCard): failed — 1 check failed
//! ├─ for artifact in input.artifacts   (line 12) 2 items, 1 passed
//! │  └─ [1]  card.md:9 /artifacts/1
//! │     └─ ✗ require artifact.format in ["safetensors", "gguf", "onnx"]   (line 13) fails at card.md:11
//! │           artifact.format = "pickle"
//! ```

use super::{Explanation, Node, Step, Verdict};

/// Renders explanations as text trees.
pub fn render(explanations: &[Explanation]) -> String {
    let mut out = String::new();
    for e in explanations {
        let verdict = match e.verdict {
            Verdict::NotApplicable => "not applicable",
            Verdict::Skipped => "did not apply",
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Unknown => "could not be evaluated",
        };
        let doc = if e.document > 0 { format!(" #{}", e.document + 1) } else { String::new() };
        out.push_str(&format!("{} on {}{doc} ({}): {verdict} — {}\n", e.rule, e.file, e.kind, e.summary));
        let n = e.steps.len();
        for (i, step) in e.steps.iter().enumerate() {
            write_step(step, &e.file, "", i + 1 == n, &mut out);
        }
        for f in &e.findings {
            let line = f.line.map_or(String::new(), |l| format!(":{l}"));
            out.push_str(&format!("  finding ({}) {}{line}: {}\n", f.cause, e.file, f.message));
        }
        out.push('\n');
    }
    out
}

fn mark(outcome: &str) -> &'static str {
    match outcome {
        "holds" => "✓ ",
        "fails" => "✗ ",
        "error" => "? ",
        "guard-false" => "⊘ ",
        _ => "",
    }
}

fn write_step(step: &Step, file: &str, prefix: &str, last: bool, out: &mut String) {
    let branch = if last { "└─ " } else { "├─ " };
    let inner = format!("{prefix}{}", if last { "   " } else { "│  " });
    let head = if step.statement == "item" {
        step.text.clone()
    } else {
        format!("{}{} {}", mark(step.outcome), step.statement, one_line(&step.text))
    };
    let mut line = format!("{prefix}{branch}{head}");
    if step.statement != "item" {
        line.push_str(&format!("   (line {})", step.line));
    }
    match step.outcome {
        "fails" => line.push_str(" fails"),
        "guard-false" => line.push_str(" is false: the rest is skipped"),
        "iterated" => {
            let shown = step.children.len();
            line.push_str(&format!(
                " {} element{} passed",
                step.passed_items,
                if step.passed_items == 1 { "" } else { "s" }
            ));
            if shown > 0 {
                line.push_str(&format!(", {shown} shown"));
            }
        }
        _ => {}
    }
    if let Some(at) = &step.at {
        line.push_str(&format!(" at {file}:{} {}", at.line, at.pointer));
    }
    out.push_str(&line);
    out.push('\n');
    let detail = format!("{inner}   ");
    if let Some(problem) = &step.problem {
        out.push_str(&format!("{detail}{problem}\n"));
    }
    if let Some(value) = &step.value
        && step.statement != "item"
    {
        write_node(value, &detail, out);
    }
    let n = step.children.len();
    for (i, child) in step.children.iter().enumerate() {
        write_step(child, file, &inner, i + 1 == n, out);
    }
}

fn write_node(node: &Node, indent: &str, out: &mut String) {
    let shown = match (&node.value, &node.problem) {
        (Some(v), _) => format!("{} = {v}", one_line(&node.text)),
        (None, Some(p)) => format!("{}: {p}", one_line(&node.text)),
        (None, None) => one_line(&node.text),
    };
    out.push_str(&format!("{indent}{shown}\n"));
    if let Some(d) = &node.decided_by {
        out.push_str(&format!("{indent}  decided by {d}\n"));
    }
    let deeper = format!("{indent}  ");
    for child in &node.children {
        write_node(child, &deeper, out);
    }
}

/// Source text on one line, shortened.
fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 100 { format!("{}…", flat.chars().take(99).collect::<String>()) } else { flat }
}
