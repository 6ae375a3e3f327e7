//! The HTML writer: the only way text reaches the page, and it always escapes.
//!
//! Why not a template crate (askama, maud)? Their escaping is good, but they add a proc-macro build to a
//! crate whose builds are already slow, and a 100,000-finding report is best written straight into one
//! `String`. The same guarantee comes from the types here: markup can only be written from `&'static str`
//! (literals in this module tree), while every runtime string — input text, messages, rule metadata, paths —
//! goes through [`Html::text`] or [`Html::attr`], which escape for both element content and quoted
//! attribute values. There is no third door.

use std::fmt::Write as _;
use std::io;

/// How much [`Html::spill`] keeps before writing out.
const SPILL: usize = 64 * 1024;

/// An HTML document being written.
#[derive(Default)]
pub struct Html {
    out: String,
}

impl Html {
    /// A writer with room for about `bytes` of output.
    pub fn with_capacity(bytes: usize) -> Html {
        Html { out: String::with_capacity(bytes) }
    }

    /// Trusted markup, written as is. `'static` on purpose: only literals of this module can be markup.
    pub fn raw(&mut self, markup: &'static str) -> &mut Html {
        self.out.push_str(markup);
        self
    }

    /// Text from anywhere, escaped (safe in element content and in double-quoted attribute values).
    pub fn text(&mut self, text: &str) -> &mut Html {
        escape_into(&mut self.out, text);
        self
    }

    /// A number (never needs escaping).
    pub fn num(&mut self, n: impl Into<u64>) -> &mut Html {
        let _ = write!(self.out, "{}", n.into());
        self
    }

    /// A count for people to read: `100,000`.
    pub fn count(&mut self, n: usize) -> &mut Html {
        let digits = n.to_string();
        for (i, d) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                self.out.push(',');
            }
            self.out.push(d);
        }
        self
    }

    /// ` name="value"`, the value escaped. Names are literals.
    pub fn attr(&mut self, name: &'static str, value: &str) -> &mut Html {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        escape_into(&mut self.out, value);
        self.out.push('"');
        self
    }

    /// `<tag>text</tag>` with the text escaped.
    pub fn elem(&mut self, tag: &'static str, text: &str) -> &mut Html {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
        escape_into(&mut self.out, text);
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// The finished document.
    pub fn finish(self) -> String {
        self.out
    }

    /// Hands what is written so far to `out` once it passes 64 KiB, and starts again empty: a page of
    /// 100,000 findings is written as it is made rather than held whole in memory.
    pub fn spill(&mut self, out: &mut dyn io::Write) -> io::Result<()> {
        if self.out.len() >= SPILL {
            self.flush(out)?;
        }
        Ok(())
    }

    /// Hands everything written so far to `out`.
    pub fn flush(&mut self, out: &mut dyn io::Write) -> io::Result<()> {
        out.write_all(self.out.as_bytes())?;
        self.out.clear();
        Ok(())
    }
}

/// Appends `text` escaped: the five markup characters become entities, and characters that would be
/// invisible or misleading in a review — control characters and Unicode bidirectional overrides (the
/// "Trojan Source" trick that makes text read differently from what it is) — are shown as `\u{…}`.
pub fn escape_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(i) = rest.find(needs_escape) {
        out.push_str(&rest[..i]);
        let c = rest[i..].chars().next().unwrap_or_default();
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => {
                let _ = write!(out, "\\u{{{:x}}}", other as u32);
            }
        }
        rest = &rest[i + c.len_utf8()..];
    }
    out.push_str(rest);
}

/// `text` escaped, as a new string.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

fn needs_escape(c: char) -> bool {
    matches!(c, '&' | '<' | '>' | '"' | '\'')
        || (c.is_control() && !matches!(c, '\n' | '\t'))
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Standard base64 (RFC 4648, with padding), for the page's Content-Security-Policy hashes.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_characters_everywhere() {
        let cases = [
            ("plain text", "plain text"),
            ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
            ("a & b", "a &amp; b"),
            ("&amp;", "&amp;amp;"),
            ("\" onmouseover=\"x", "&quot; onmouseover=&quot;x"),
            ("' onfocus='x", "&#39; onfocus=&#39;x"),
            ("</style><style>", "&lt;/style&gt;&lt;style&gt;"),
            ("<!-- -->", "&lt;!-- --&gt;"),
            ("<![CDATA[x]]>", "&lt;![CDATA[x]]&gt;"),
            ("", ""),
            ("é — 日本語 🙂", "é — 日本語 🙂"),
            ("line\nnext\ttab", "line\nnext\ttab"),
            ("nul\0 bell\u{7} cr\r esc\u{1b}[31m", "nul\\u{0} bell\\u{7} cr\\u{d} esc\\u{1b}[31m"),
            ("c1\u{85}del\u{7f}", "c1\\u{85}del\\u{7f}"),
            ("admin\u{202e}txt.exe", "admin\\u{202e}txt.exe"),
            ("\u{2066}iso\u{2069}\u{feff}", "\\u{2066}iso\\u{2069}\\u{feff}"),
            ("<<&&>>", "&lt;&lt;&amp;&amp;&gt;&gt;"),
        ];
        for (input, want) in cases {
            assert_eq!(escape(input), want, "escaping {input:?}");
        }
    }

    #[test]
    fn escaped_text_never_holds_a_markup_character() {
        // Every ASCII character and a sample of others, alone and in pairs.
        let chars: Vec<char> =
            (0u32..0x100).chain([0x2028, 0x202e, 0xfeff, 0x1f600]).filter_map(char::from_u32).collect();
        for a in &chars {
            for b in ['<', '"', 'x'] {
                let s = format!("{a}{b}{a}");
                let e = escape(&s);
                assert!(!e.contains(['<', '>', '"', '\'']), "{s:?} -> {e:?}");
                assert!(e.match_indices('&').all(|(i, _)| {
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].iter().any(|ent| e[i..].starts_with(ent))
                }));
            }
        }
    }

    #[test]
    fn the_writer_escapes_text_and_attributes_but_not_literals() {
        let mut h = Html::default();
        h.raw("<a").attr("title", "x\" onclick=\"alert(1)").raw(">").text("<b>").raw("</a>");
        h.elem("td", "1 < 2").num(42u32);
        h.raw(" ").count(0).raw(" ").count(999).raw(" ").count(1000).raw(" ").count(100_000).raw(" ").count(1_234_567);
        assert_eq!(
            h.finish(),
            "<a title=\"x&quot; onclick=&quot;alert(1)\">&lt;b&gt;</a><td>1 &lt; 2</td>42 0 999 1,000 100,000 1,234,567"
        );
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }
}
