//! Source files and byte spans.
//!
//! Every policy file and every input file is a [`Source`]: a name (the path as the user gave it) and its text.
//! A [`Span`] is a byte range inside one source. Line and column are computed only when something is reported,
//! so loading and evaluation never pay for them; the index that answers them is built once per source, so a
//! report costs the same per finding whether the file holds one finding or ten thousand.
//!
//! Reports quote input text, and inputs are untrusted: [`Source::display`] is the text as terminals may show
//! it, with control characters and bidirectional overrides written as escapes (see [`escape`]).

use std::sync::{Arc, OnceLock};

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

/// Bytes per checkpoint of the character index: a column costs at most this many bytes of counting, however
/// long the line (a minified ML-BOM is one line of megabytes).
const CHUNK: usize = 4096;

/// Lines longer than this (in bytes) are shown as a window around the label, not whole.
const LONG_LINE: usize = 400;

/// Bytes of a long line kept on each side of the label, and the most of a long label that is underlined.
const WINDOW: usize = 120;

/// Where lines start, and how many characters precede every [`CHUNK`] boundary.
#[derive(Debug)]
struct Index {
    lines: Vec<u32>,
    chars: Vec<u32>,
}

impl Index {
    fn new(text: &str) -> Index {
        let bytes = text.as_bytes();
        let mut lines = Vec::with_capacity(bytes.len() / 32 + 1);
        lines.push(0u32);
        push_line_starts(bytes, &mut lines);
        let mut chars = Vec::with_capacity(bytes.len() / CHUNK + 2);
        let mut count = 0u32;
        for chunk in bytes.chunks(CHUNK) {
            chars.push(count);
            count += count_chars(chunk) as u32;
        }
        chars.push(count);
        Index { lines, chars }
    }
}

/// Pushes the offset after every `\n` of `bytes`, in order: eight bytes at a time, looking closer only at the
/// words that hold one (a report builds this index for every file it quotes).
fn push_line_starts(bytes: &[u8], lines: &mut Vec<u32>) {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const NEWLINES: u64 = u64::from_ne_bytes([b'\n'; 8]);
    let words = bytes.chunks_exact(8);
    let tail = words.remainder();
    for (n, word) in words.enumerate() {
        let x = u64::from_ne_bytes(word.try_into().unwrap_or_default()) ^ NEWLINES;
        // A zero byte of `x` (a newline of the word) sets its high bit here; no false negatives.
        if x.wrapping_sub(ONES) & !x & HIGHS != 0 {
            for (i, &b) in word.iter().enumerate() {
                if b == b'\n' {
                    lines.push((n * 8 + i + 1) as u32);
                }
            }
        }
    }
    let start = bytes.len() - tail.len();
    for (i, &b) in tail.iter().enumerate() {
        if b == b'\n' {
            lines.push((start + i + 1) as u32);
        }
    }
}

/// Characters in `bytes` (UTF-8): the bytes that are not continuation bytes (`0b10xx_xxxx`).
fn count_chars(bytes: &[u8]) -> usize {
    // Counted in byte-wide lanes, 255 bytes at a time so that a lane cannot overflow: this compiles to vector
    // code (a sum straight into `usize` does not, and costs six times as many instructions).
    bytes.chunks(255).map(|block| usize::from(block.iter().fold(0u8, |n, &b| n + u8::from((b as i8) >= -0x40)))).sum()
}

/// The text of a source as reports show it: escaped, with a map from source offsets to display offsets.
#[derive(Debug)]
struct Shown {
    /// `None` when the text needs no escaping (the usual case): the source is shown as is.
    escaped: Option<Arc<Source>>,
    /// `(source offset, bytes added before it)` at every escaped character, in order.
    shifts: Vec<(u32, u32)>,
    name: String,
}

/// One named text: a policy file or an input file.
#[derive(Debug)]
pub struct Source {
    name: Arc<str>,
    text: Arc<str>,
    /// Line and character index, computed on first use.
    index: OnceLock<Index>,
    /// The escaped copy shown in reports, computed on first use.
    display: OnceLock<Shown>,
}

impl Source {
    /// A source named `name` (usually the path as given on the command line) holding `text`.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Arc<Source> {
        Arc::new(Source { name: name.into(), text: text.into(), index: OnceLock::new(), display: OnceLock::new() })
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

    fn index(&self) -> &Index {
        self.index.get_or_init(|| Index::new(&self.text))
    }

    /// Characters that start before byte `offset`.
    fn chars_before(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        let index = self.index();
        let chunk = offset / CHUNK;
        index.chars[chunk] as usize + count_chars(&self.text.as_bytes()[chunk * CHUNK..offset])
    }

    /// Characters that start in `start..end`: counted directly when the range is short (a column within a
    /// line), else through the index.
    fn chars_between(&self, start: usize, end: usize) -> usize {
        let end = end.min(self.text.len());
        let start = start.min(end);
        if end - start <= CHUNK {
            count_chars(&self.text.as_bytes()[start..end])
        } else {
            self.chars_before(end) - self.chars_before(start)
        }
    }

    /// 0-based line of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        self.index().lines.partition_point(|&s| s <= offset).saturating_sub(1)
    }

    /// Byte offset where the 0-based line `line` starts, and where it ends (before its `\n`).
    fn line_bounds(&self, line: usize) -> (usize, usize) {
        let lines = &self.index().lines;
        let start = lines[line] as usize;
        let end = lines.get(line + 1).map_or(self.text.len(), |&next| next as usize - 1);
        (start, end)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let line = self.line_of(offset as usize);
        let start = self.index().lines[line] as usize;
        let column = self.chars_between(start, offset as usize);
        (line + 1, column + 1)
    }

    /// Byte offset of a 1-based line and 0-based character column (clamped to the text).
    pub fn offset_of(&self, line: usize, column_chars: usize) -> usize {
        let starts = &self.index().lines;
        let Some(&start) = starts.get(line.saturating_sub(1)) else { return self.text.len() };
        let rest = &self.text[start as usize..];
        let within = rest.char_indices().nth(column_chars).map_or(rest.len(), |(i, _)| i);
        start as usize + within
    }

    fn display(&self) -> &Shown {
        self.display.get_or_init(|| {
            let name = escape(&self.name).into_owned();
            if !may_need_escape(self.text.as_bytes()) {
                return Shown { escaped: None, shifts: Vec::new(), name };
            }
            let mut shifts = Vec::new();
            let mut out = String::new();
            let mut copied = 0;
            for (i, c) in self.text.char_indices() {
                if needs_escape(c, self.text.as_bytes().get(i + 1).copied()) {
                    out.push_str(&self.text[copied..i]);
                    let escaped = escape_char(c);
                    let added = (out.len() + escaped.len() - (i + c.len_utf8())) as u32;
                    out.push_str(&escaped);
                    copied = i + c.len_utf8();
                    shifts.push(((i + c.len_utf8()) as u32, added));
                }
            }
            let escaped = (!shifts.is_empty()).then(|| {
                out.push_str(&self.text[copied..]);
                Source::new(name.as_str(), out)
            });
            Shown { escaped, shifts, name }
        })
    }

    /// Where a source offset lands in the displayed (escaped) text.
    fn display_offset(&self, offset: usize) -> usize {
        let shifts = &self.display().shifts;
        let offset32 = u32::try_from(offset).unwrap_or(u32::MAX);
        let i = shifts.partition_point(|&(at, _)| at <= offset32);
        offset + i.checked_sub(1).map_or(0, |i| shifts[i].1 as usize)
    }

    /// The span to underline in reports for `span` of this source: moved into the displayed text, and cut to
    /// [`WINDOW`] bytes when a one-line span is longer (a huge string value, a minified document).
    pub fn display_span(&self, span: Span) -> miette::SourceSpan {
        let text_len = self.text.len();
        let start = (span.start as usize).min(text_len);
        let mut end = (span.end as usize).clamp(start, text_len);
        let line = self.line_of(start);
        let line_end = self.line_bounds(line).1;
        // A span over lines is cut to its first line when that line or its last one is too long to show.
        if end > line_end && (line_end - self.line_bounds(line).0 > LONG_LINE || self.long_line(self.line_of(end))) {
            end = line_end.max(start);
        }
        if end - start > WINDOW && end <= line_end {
            end = floor_char_boundary(&self.text, start + WINDOW);
        }
        let (start, end) = (self.display_offset(start), self.display_offset(end));
        miette::SourceSpan::new(start.into(), end - start)
    }

    fn long_line(&self, line: usize) -> bool {
        let (start, end) = self.line_bounds(line);
        end - start > LONG_LINE
    }

    /// What reports show: the escaped copy when the text needs one, else this source.
    fn shown(&self) -> &Source {
        self.display().escaped.as_deref().unwrap_or(self)
    }
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_char_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// Characters a terminal would act on instead of showing: C0 and C1 controls (ESC, CSI, BEL, backspace, a
/// carriage return that is not part of `\r\n`, DEL), bidirectional overrides and isolates (which reorder
/// what is shown, as in "Trojan Source"), and the Unicode line and paragraph separators. Tab and newline are
/// layout and stay.
fn needs_escape(c: char, next: Option<u8>) -> bool {
    match c {
        '\n' | '\t' => false,
        '\r' => next != Some(b'\n'),
        '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        '\u{2028}' | '\u{2029}' => true,
        c => c.is_control(),
    }
}

/// Whether a byte may begin a character [`needs_escape`] flags: a C0 control other than tab and newline, DEL,
/// or the lead byte of a non-ASCII one (`C2` for U+0080–U+009F, `D8` for U+061C, `E2` for U+200E–U+2069).
/// Written without branches, so that a block of bytes is screened with vector compares.
fn suspect(b: u8) -> bool {
    (b < 0x20) & (b != b'\n') & (b != b'\t') | (b == 0x7f) | (b == 0xc2) | (b == 0xd8) | (b == 0xe2)
}

/// Whether `text` may hold a character [`needs_escape`] flags: exact for ASCII (a `\r` before `\n` is fine),
/// conservative otherwise. Screens 64 bytes at a time and looks closer only at a block with a suspect byte,
/// rather than decoding every character (most files need no escaping at all).
fn may_need_escape(text: &[u8]) -> bool {
    text.chunks(64).enumerate().any(|(n, block)| {
        block.iter().fold(false, |any, &b| any | suspect(b))
            && block
                .iter()
                .enumerate()
                .any(|(i, &b)| suspect(b) && !(b == b'\r' && text.get(n * 64 + i + 1) == Some(&b'\n')))
    })
}

fn escape_char(c: char) -> String {
    format!("\\u{{{:x}}}", c as u32)
}

/// `text` with every character [`needs_escape`] would flag written as `\u{…}`, so that input text (a value,
/// a key, a file name) quoted in a report cannot move the cursor, recolour the terminal, ring the bell,
/// rewrite the line or reorder what the reader sees. Borrowed when there is nothing to escape.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    if !may_need_escape(bytes) || !text.char_indices().any(|(i, c)| needs_escape(c, bytes.get(i + 1).copied())) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in text.char_indices() {
        if needs_escape(c, bytes.get(i + 1).copied()) {
            out.push_str(&escape_char(c));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Reports read the displayed text, in displayed offsets (see [`Source::display_span`]). Lines are found
/// through the index, and a line longer than [`LONG_LINE`] is cut to a window around the span: the snippet of
/// a finding at column 300,000 of a minified file is a few hundred columns wide, like any other.
impl miette::SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let shown = self.shown();
        let text = shown.text();
        let (start, len) = (span.offset(), span.len());
        if start.saturating_add(len) > text.len() {
            return Err(miette::MietteError::OutOfBounds);
        }
        let first = shown.line_of(start);
        let last = shown.line_of(start + len.saturating_sub(1)).max(first);
        // Context lines that are themselves too long to show are left out, and so are all context lines
        // when the span's own line is cut to a window (the window does not start at the line's start).
        let long = |line: usize| shown.long_line(line);
        let mut before_line = first;
        while !long(first) && before_line > 0 && first - before_line < context_lines_before && !long(before_line - 1) {
            before_line -= 1;
        }
        let lines = shown.index().lines.len();
        let mut after_line = last;
        while !long(last) && after_line + 1 < lines && after_line - last < context_lines_after && !long(after_line + 1)
        {
            after_line += 1;
        }
        let (mut data_start, _) = shown.line_bounds(before_line);
        // Like miette's own sources, the contents take the line break of their last line.
        let mut data_end = shown.index().lines.get(after_line + 1).map_or(text.len(), |&next| next as usize);
        let mut column = 0;
        if context_lines_before == 0 {
            // As miette's own sources do: without context the contents start at the span.
            data_start = start;
            column = shown.chars_between(shown.line_bounds(first).0, start);
        } else if long(first) {
            data_start = ceil_char_boundary(text, start.saturating_sub(WINDOW).max(shown.line_bounds(first).0));
        }
        if long(last) {
            data_end = floor_char_boundary(text, (start + len + WINDOW).min(shown.line_bounds(last).1));
        }
        if data_end < start + len {
            data_end = start + len;
        }
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.display().name.clone(),
            &text.as_bytes()[data_start..data_end],
            miette::SourceSpan::new(data_start.into(), data_end - data_start),
            before_line,
            column,
            after_line - before_line + 1,
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
    fn columns_on_long_lines_cross_checkpoints() {
        // Non-ASCII before and after chunk boundaries, one long line, then a short one.
        let long: String = (0..5000).map(|i| if i % 7 == 0 { 'é' } else { 'a' }).collect();
        let text = format!("{long}\nxy");
        let src = Source::new("t", text.as_str());
        for offset in [0, 4095, 4096, 4097, 5000, long.len()] {
            let offset = floor_char_boundary(&text, offset);
            assert_eq!(src.line_col(offset as u32), (1, text[..offset].chars().count() + 1), "at {offset}");
        }
        assert_eq!(src.line_col(long.len() as u32 + 2), (2, 2));
    }

    #[test]
    fn spans_join_and_measure() {
        let a = Span::new(3, 5);
        let b = Span::new(10, 12);
        assert_eq!(a.join(b), Span::new(3, 12));
        assert_eq!(Span::new(7, 2), Span::new(7, 7));
        assert!(Span::new(4, 4).is_empty());
    }

    #[test]
    fn escapes_what_terminals_act_on() {
        assert_eq!(escape("plain ✓\ttab\r\nline"), "plain ✓\ttab\r\nline");
        assert_eq!(escape("a\u{1b}[31mb\u{7}c\rd"), "a\\u{1b}[31mb\\u{7}c\\u{d}d");
        assert_eq!(escape("x\u{202e}y\u{9b}z\u{2066}"), "x\\u{202e}y\\u{9b}z\\u{2066}");
    }

    #[test]
    fn the_byte_screen_misses_no_escape() {
        // Every character up to U+FFFF and beyond, alone and before each possible next byte that matters.
        for c in (0..0x3_0000).filter_map(char::from_u32) {
            for next in ["", "\n", "a"] {
                let text = format!("{c}{next}");
                let flagged = needs_escape(c, next.as_bytes().first().copied());
                assert!(!flagged || may_need_escape(text.as_bytes()), "{:x} before {next:?}", c as u32);
            }
        }
        assert!(!may_need_escape(b"plain text\r\nwith\ttabs and \xc3\xa9"));
        assert!(may_need_escape(b"a lone\rreturn"));
        // A `\r\n` across two 64-byte blocks, and a lone `\r` ending one.
        assert!(!may_need_escape(format!("{}\r\nx", "a".repeat(63)).as_bytes()));
        assert!(may_need_escape(format!("{}\rx", "a".repeat(63)).as_bytes()));
        assert!(may_need_escape(format!("{}\r", "a".repeat(63)).as_bytes()));
        assert_eq!(escape("caf\u{e9} \u{2014} \u{200b}"), "caf\u{e9} \u{2014} \u{200b}");
    }

    #[test]
    fn the_index_matches_a_plain_count() {
        let texts = [
            String::new(),
            "\n".to_string(),
            "no newline".to_string(),
            (0..3000)
                .map(|i| {
                    if i % 13 == 0 {
                        "é\n"
                    } else if i % 7 == 0 {
                        "\n"
                    } else {
                        "ab"
                    }
                })
                .collect(),
            "\n".repeat(9000),
        ];
        for text in &texts {
            let index = Index::new(text);
            let mut lines = vec![0u32];
            lines.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
            assert_eq!(index.lines, lines);
            let mut chars = Vec::new();
            let mut count = 0;
            for chunk in text.as_bytes().chunks(CHUNK) {
                chars.push(count);
                count += chunk.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u32;
            }
            chars.push(count);
            assert_eq!(index.chars, chars);
        }
    }

    #[test]
    fn display_spans_follow_the_escapes() {
        let src = Source::new("t", "a\u{1b}b: value\n");
        // `value` starts at byte 5 of the source; the six-byte escape of the one-byte ESC adds 5 before it.
        let span = src.display_span(Span::new(5, 10));
        assert_eq!((span.offset(), span.len()), (10, 5));
        assert_eq!(&src.shown().text()[10..15], "value");
    }
}
