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
            let mut docs = yaml::parse_stream(src, yaml_text, yaml_range.start, limits)?;
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
    level: HeadingLevel,
    title: String,
    span: Span,
    /// Where the heading line ends and its body begins.
    body_start: usize,
}

/// The body's sections as an object `{heading: text}`, each located at its heading.
fn sections(text: &str, body_start: usize) -> Tree {
    let body = &text[body_start..];
    let mut headings: Vec<Heading> = Vec::new();
    let mut current: Option<Heading> = None;
    for (event, range) in pulldown_cmark::Parser::new_ext(body, Options::empty()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                let span = Span::new(body_start + range.start, body_start + range.end);
                current = Some(Heading { level, title: String::new(), span, body_start: body_start + range.end });
            }
            Event::Text(t) | Event::Code(t) if current.is_some() => {
                if let Some(h) = current.as_mut() {
                    h.title.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => headings.extend(current.take()),
            _ => {}
        }
    }
    let mut map = Map::default();
    let mut spans = vec![NodeSpan { key: Span::default(), value: Span::new(body_start, text.len()) }];
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

/// Whether a section body holds nothing but placeholders, HTML comments and headings.
pub(crate) fn is_placeholder(content: &str) -> bool {
    let mut rest = content.replace(PLACEHOLDER, "");
    while let Some(open) = rest.find("<!--") {
        let close = rest[open..].find("-->").map_or(rest.len(), |c| open + c + 3);
        rest.replace_range(open..close, "");
    }
    rest.lines().map(str::trim).all(|line| line.is_empty() || line.starts_with('#'))
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
    fn placeholder_detection_ignores_comments_and_headings() {
        assert!(is_placeholder("<!-- Provide a summary -->\n\n[More Information Needed]\n### Sub\n"));
        assert!(!is_placeholder("Apache 2.0 [More Information Needed]"));
    }
}
