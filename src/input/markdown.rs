//! Markdown cards: YAML front matter plus the body's sections, by heading.
//!
//! Hugging Face templates leave unfilled sections as `[More Information Needed]`. Such a section — one whose
//! body holds nothing but placeholders, comments and sub-headings — is read as `null`, so a policy that needs
//! it reports it as empty instead of accepting the placeholder as content.

use std::sync::Arc;

use pulldown_cmark::{Event, HeadingLevel, Options, Tag, TagEnd};

use super::locate::{NodeSpan, Tree};
use super::{Limits, LoadError, yaml};
use crate::source::{Source, Span};
use crate::value::{Map, Value};

/// The placeholder Hugging Face templates put in sections nobody filled in.
pub const PLACEHOLDER: &str = "[More Information Needed]";

/// A parsed card: the front matter (if any) and the sections.
pub(crate) struct Card {
    pub front_matter: Option<Tree>,
    pub sections: Tree,
}

/// Splits the front matter from the body and parses both.
pub(crate) fn parse(src: &Source, limits: &Limits) -> Result<Card, LoadError> {
    let text = src.text();
    let (front_matter, body_start) = match split_front_matter(text) {
        Some((yaml_range, body_start)) => {
            let yaml_text = &text[yaml_range.clone()];
            let mut docs = match yaml::parse_stream(src, yaml_text, yaml_range.start, limits) {
                Ok(docs) => docs,
                // A card template (`{{ card_data }}`, `{% if %}`) is not YAML until it is rendered: it is loaded
                // with empty metadata, and kind detection leaves it out of the card rules.
                Err(_) if is_template(text) => Vec::new(),
                Err(e) => return Err(e),
            };
            if docs.len() > 1 {
                return Err(LoadError::syntax(
                    src,
                    Span::new(yaml_range.start, yaml_range.end),
                    "front matter holds more than one YAML document",
                ));
            }
            let tree = docs.pop().unwrap_or(Tree { value: Value::object(), spans: vec![NodeSpan::default()] });
            // `---\n---` or a comment-only block is an empty mapping. Any other shape (even a list) is kept
            // as it is: the card loads, and rules that expect a mapping report what they found.
            let tree = match tree.value {
                Value::Null => Tree { value: Value::object(), spans: vec![NodeSpan::default()] },
                _ => tree,
            };
            (Some(tree), body_start)
        }
        None => (None, 0),
    };
    Ok(Card { front_matter, sections: sections(text, body_start) })
}

/// Finds `---\n<yaml>\n---` at the very start (after an optional BOM): the YAML's byte range and where the body starts.
fn split_front_matter(text: &str) -> Option<(std::ops::Range<usize>, usize)> {
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let rest = &text[start..];
    let first_line_end = rest.find('\n')?;
    if rest[..first_line_end].trim_end() != "---" {
        return None;
    }
    let yaml_start = start + first_line_end + 1;
    let mut pos = yaml_start;
    for line in text[yaml_start..].split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            return Some((yaml_start..pos, pos + line.len()));
        }
        pos += line.len();
    }
    None
}

struct Heading {
    /// 1–6 for Markdown and HTML headings; 7 for a bold label (`**Intended Use:**`), which ends at the next
    /// label or heading and never ends a real heading's section.
    level: u8,
    title: String,
    span: Span,
    /// Where the heading line ends and its body begins.
    body_start: usize,
}

/// The level a bold label gets: below every real heading.
const LABEL_LEVEL: u8 = 7;

fn level_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// `<h2>Intended Use</h2>` in an HTML block (real cards copy their layout from HTML pages).
fn html_heading() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"(?is)<h([1-6])\b[^>]*>(.*?)</h[1-6]\s*>").expect("valid regex"))
}

/// A bold label that starts a line or list item and ends with a colon: `**Intended Use:**`, `- **Training
/// Data**:`, `__Evaluation:__`. Cards written by hand use these instead of headings.
fn bold_label() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r"(?m)^[ \t]*(?:[-*+][ \t]+)?(?:\*\*|__)([^*_\n:]{2,80}?)[ \t]*(?::(?:\*\*|__)|(?:\*\*|__)[ \t]*:)",
        )
        .expect("valid regex")
    })
}

/// Inline tags inside an HTML heading (`<h2><a name="x"></a>Uses</h2>`).
fn strip_tags(s: &str) -> String {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"<[^>]*>").expect("valid regex")).replace_all(s, "").trim().to_string()
}

/// The body's sections as an object `{heading: text}`, each located at its heading. Headings are Markdown
/// headings, HTML `<h1>`–`<h6>` and bold labels; the text before the first of them is the section `""`.
fn sections(text: &str, body_start: usize) -> Tree {
    let body = &text[body_start..];
    let mut headings: Vec<Heading> = Vec::new();
    let mut current: Option<Heading> = None;
    // Bold labels are found line by line, so code blocks (and headings, handled above) are ruled out by range.
    let mut excluded: Vec<std::ops::Range<usize>> = Vec::new();
    for (event, range) in pulldown_cmark::Parser::new_ext(body, Options::empty()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                let span = Span::new(body_start + range.start, body_start + range.end);
                let level = level_number(level);
                current = Some(Heading { level, title: String::new(), span, body_start: body_start + range.end });
                excluded.push(range);
            }
            Event::Start(Tag::CodeBlock(_)) => excluded.push(range),
            Event::Text(t) | Event::Code(t) if current.is_some() => {
                if let Some(h) = current.as_mut() {
                    h.title.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => headings.extend(current.take()),
            Event::Html(html) | Event::InlineHtml(html) if current.is_none() => {
                for caps in html_heading().captures_iter(&html) {
                    let (whole, level) = (caps.get(0).expect("match"), caps[1].parse().unwrap_or(6));
                    let start = body_start + range.start + whole.start();
                    let end = body_start + range.start + whole.end();
                    let title = strip_tags(&caps[2]);
                    headings.push(Heading { level, title, span: Span::new(start, end), body_start: end });
                }
            }
            _ => {}
        }
    }
    for caps in bold_label().captures_iter(body) {
        let whole = caps.get(0).expect("match");
        if excluded.iter().any(|r| r.contains(&whole.start())) {
            continue;
        }
        let (start, end) = (body_start + whole.start(), body_start + whole.end());
        let title = caps[1].trim().to_string();
        headings.push(Heading { level: LABEL_LEVEL, title, span: Span::new(start, end), body_start: end });
    }
    headings.sort_by_key(|h| h.span.start);

    let mut map = Map::default();
    let mut spans = vec![NodeSpan { key: Span::default(), value: Span::new(body_start, text.len()) }];
    let intro_end = headings.first().map_or(text.len(), |h| h.span.start as usize);
    let intro = text.get(body_start..intro_end).unwrap_or("").trim();
    if !is_placeholder(intro) {
        map.insert(Arc::from(""), Value::String(Arc::from(intro)));
        spans.push(NodeSpan { key: Span::new(body_start, body_start), value: Span::new(body_start, intro_end) });
    }
    for (i, heading) in headings.iter().enumerate() {
        let title = heading.title.trim();
        if title.is_empty() || map.contains_key(title) {
            continue;
        }
        // A section runs to the next heading of the same or a higher level, so it includes its sub-sections.
        let end =
            headings[i + 1..].iter().find(|h| h.level <= heading.level).map_or(text.len(), |h| h.span.start as usize);
        let content = text.get(heading.body_start..end).unwrap_or("").trim();
        let value = if is_placeholder(content) { Value::Null } else { Value::String(Arc::from(content)) };
        let heading_line = trim_to_line(text, heading.span);
        map.insert(Arc::from(title), value);
        spans.push(NodeSpan { key: heading_line, value: heading_line });
    }
    Tree { value: Value::Object(Arc::new(map)), spans }
}

fn trim_to_line(text: &str, span: Span) -> Span {
    let slice = &text[span.range()];
    let len = slice.find(['\r', '\n']).unwrap_or(slice.len());
    Span::new(span.start as usize, span.start as usize + len)
}

/// Whether a section body holds nothing but placeholders, HTML comments and headings. The Trainer's
/// auto-generated cards write `More information needed` (no brackets) in every section they cannot fill.
pub(crate) fn is_placeholder(content: &str) -> bool {
    let mut rest = content.replace(PLACEHOLDER, "");
    while let Some(open) = rest.find("<!--") {
        let close = rest[open..].find("-->").map_or(rest.len(), |c| open + c + 3);
        rest.replace_range(open..close, "");
    }
    rest.lines().map(str::trim).all(|line| {
        line.is_empty()
            || line.starts_with('#')
            || line.trim_end_matches('.').eq_ignore_ascii_case("more information needed")
    })
}

/// Whether a Markdown file is a template to be rendered, not a card: Jinja `{{ }}` or `{% %}` in its front
/// matter or its first line of text, or the `{card_data}` / `{license}` placeholders of Hugging Face's
/// templates as front-matter values. Only those places are looked at, since real cards quote chat templates
/// (`{{ bos_token }}`) in their code examples.
pub fn is_template(text: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let placeholder_line = RE.get_or_init(|| {
        regex::Regex::new(r"(?m)^(?:[^#\n]*[:-][ \t]*|[ \t]*)\{[A-Za-z_][A-Za-z0-9_]*\}[ \t]*(?:#.*)?\r?$")
            .expect("valid regex")
    });
    let (front_matter, body) = match split_front_matter(text) {
        Some((range, body_start)) => (&text[range], &text[body_start..]),
        None => ("", text),
    };
    let first_line = body.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let jinja = |s: &str| s.contains("{{") && s.contains("}}") || s.contains("{%") && s.contains("%}");
    jinja(front_matter) || jinja(first_line) || placeholder_line.is_match(front_matter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_split_with_crlf_and_bom() {
        let text = "\u{feff}---\r\nlicense: mit\r\n---\r\n# Title\r\n";
        let (range, body) = split_front_matter(text).unwrap();
        assert_eq!(&text[range], "license: mit\r\n");
        assert_eq!(&text[body..], "# Title\r\n");
        assert!(split_front_matter("# no front matter\n---\n").is_none());
    }

    #[test]
    fn sections_nest_and_placeholders_are_null() {
        let text = "# Model\nintro\n## Uses\n### Direct Use\n[More Information Needed]\n## Limits\nMay fail.\n";
        let tree = sections(text, 0);
        let get = |k: &str| tree.value.get(k).cloned();
        assert_eq!(get("Uses"), Some(Value::Null));
        assert_eq!(get("Direct Use"), Some(Value::Null));
        assert_eq!(get("Limits"), Some(Value::from("May fail.")));
        assert!(get("Model").unwrap().as_str().unwrap().contains("May fail."));
        assert_eq!(tree.spans.len(), 5);
        assert_eq!(&text[tree.spans[2].key.range()], "## Uses");
    }

    #[test]
    fn html_headings_bold_labels_and_the_intro_are_sections() {
        let text = "This model was developed by Acme.\n\n<h2>Intended Use</h2>\n<p>Chat.</p>\n\n\
            **Out-of-scope Use:** Medical advice.\n\n- **Training Data**: [More Information Needed]\n\
            - **Evaluations:** MMLU 61.2\n\n```\n**Not a label:** code\n```\n## Training procedure\n\
            More information needed\n";
        let tree = sections(text, 0);
        let get = |k: &str| tree.value.get(k).cloned();
        assert_eq!(get(""), Some(Value::from("This model was developed by Acme.")));
        assert!(get("Intended Use").unwrap().as_str().unwrap().contains("Chat."));
        assert_eq!(get("Out-of-scope Use"), Some(Value::from("Medical advice.")));
        assert_eq!(get("Training Data"), Some(Value::Null), "a placeholder label is missing");
        assert!(get("Evaluations").unwrap().as_str().unwrap().starts_with("MMLU 61.2"), "a label runs to the next one");
        assert_eq!(get("Not a label"), None, "labels in code blocks are code");
        assert_eq!(get("Training procedure"), Some(Value::Null), "the Trainer's placeholder is missing");
        let heading = tree.spans.iter().map(|s| &text[s.key.range()]).find(|k| k.starts_with("<h2>"));
        assert_eq!(heading, Some("<h2>Intended Use</h2>"));
    }

    #[test]
    fn templates_are_recognised_by_their_metadata_and_title() {
        assert!(is_template("---\n{{ card_data }}\n---\n# x\n"));
        assert!(is_template("---\n{card_data}\n---\n# x\n"));
        assert!(is_template("---\nlicense: {license}  # e.g. mit\n---\n"));
        assert!(is_template("---\nx: 1\n---\n# Model Card for {{ model_id }}\n"));
        assert!(!is_template("---\nlicense: mit\n---\n# m\n```\n{{ bos_token }}\n```\n"));
    }

    #[test]
    fn placeholder_detection_ignores_comments_and_headings() {
        assert!(is_placeholder("<!-- Provide a summary -->\n\n[More Information Needed]\n### Sub\n"));
        assert!(!is_placeholder("Apache 2.0 [More Information Needed]"));
    }
}
