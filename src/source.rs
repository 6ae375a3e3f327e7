//! Source files and byte spans.
//!
//! Every policy file and every input file is a [`Source`]: a name (the path as the user gave it) and its text.
//! A [`Span`] is a byte range inside one source. Line and column are computed only when something is reported,
//! so loading and evaluation never pay for them.

use std::sync::Arc;

/// A byte range `start..end` inside one source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// A span for `start..end` (saturating at `u32::MAX`: sources are capped far below that).
    pub fn new(start: usize, end: usize) -> Span {
        let start = u32::try_from(start).unwrap_or(u32::MAX);
        let end = u32::try_from(end).unwrap_or(u32::MAX).max(start);
        Span { start, end }
    }

    /// The byte range, for slicing.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Number of bytes covered.
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the span covers no bytes.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The smallest span that covers both.
    pub fn join(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        miette::SourceSpan::new((span.start as usize).into(), span.len())
    }
}

/// One named text: a policy file or an input file.
#[derive(Debug)]
pub struct Source {
    name: Arc<str>,
    text: Arc<str>,
    /// Byte offset of the start of every line, computed on first use.
    lines: std::sync::OnceLock<Vec<u32>>,
}

impl Source {
    /// A source named `name` (usually the path as given on the command line) holding `text`.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Arc<Source> {
        Arc::new(Source { name: name.into(), text: text.into(), lines: std::sync::OnceLock::new() })
    }

    /// The name, as the user wrote it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shared name.
    pub fn name_arc(&self) -> &Arc<str> {
        &self.name
    }

    /// The full text.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn line_starts(&self) -> &[u32] {
        self.lines.get_or_init(|| {
            let mut starts = vec![0u32];
            starts.extend(self.text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| (i + 1) as u32));
            starts
        })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let starts = self.line_starts();
        let line = starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = starts[line] as usize;
        let end = (offset as usize).min(self.text.len());
        let column = self.text.get(start..end).map_or(end - start, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// Byte offset of a 1-based line and 0-based character column (clamped to the text).
    pub fn offset_of(&self, line: usize, column_chars: usize) -> usize {
        let starts = self.line_starts();
        let Some(&start) = starts.get(line.saturating_sub(1)) else { return self.text.len() };
        let rest = &self.text[start as usize..];
        let within = rest.char_indices().nth(column_chars).map_or(rest.len(), |(i, _)| i);
        start as usize + within
    }
}

impl miette::SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.text.read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_and_lines() {
        let src = Source::new("t", "ab\nçd\n\nx");
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(3), (2, 1));
        // `d` sits after the two-byte `ç`.
        assert_eq!(src.line_col(5), (2, 2));
        assert_eq!(src.line_col(8), (4, 1));
        assert_eq!(src.offset_of(2, 1), 5);
        assert_eq!(src.offset_of(9, 0), src.text().len());
    }

    #[test]
    fn spans_join_and_measure() {
        let a = Span::new(3, 5);
        let b = Span::new(10, 12);
        assert_eq!(a.join(b), Span::new(3, 12));
        assert_eq!(Span::new(7, 2), Span::new(7, 7));
        assert!(Span::new(4, 4).is_empty());
    }
}
