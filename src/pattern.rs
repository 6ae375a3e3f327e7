//! Regex literals of policies (`x matches /.../i`), compiled now or on first use.
//!
//! Building a regex (NFA, prefilters, lazy DFA set-up) costs far more than parsing it: the bundled packs'
//! patterns were half of a cold `policy check`. A user's policy builds every pattern when it is compiled, so
//! any error, including a pattern too big for the size limits, is reported with its span before anything
//! runs. The bundled packs, whose patterns the test suite builds, only have their syntax checked and build
//! each pattern the first time a rule needs it, once per process (`OnceLock`, shared by every thread).
//!
//! Simple anchored patterns (`^[a-f0-9]{64}$`, literal prefixes and suffixes, alternations of literals) are
//! also compiled to direct byte checks ([`fast`]), decided from the parsed regex: they answer like `regex`
//! without its search machinery. The regex is still built (eagerly, or on first use) so that a pattern's
//! errors and size limits stay exactly what they were.

mod fast;

use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};

pub(crate) use fast::Fast;

/// A compiled or yet-to-be-compiled regex with its flags.
#[derive(Debug)]
pub(crate) struct Pattern {
    source: String,
    flags: String,
    built: OnceLock<Result<Regex, String>>,
    /// The direct check, when the pattern's shape has one.
    fast: Option<Fast>,
}

/// Size limits for every regex a policy supplies (literals here, pattern arguments of the regex builtins):
/// linear-time matching, and bounded memory for the compiled program and its lazy DFA.
pub(crate) const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl Pattern {
    /// Builds the regex now; its error is the checker's to report.
    pub(crate) fn eager(source: &str, flags: &str) -> Result<Pattern, String> {
        let regex = build(source, flags)?;
        let fast = parse(source, flags).ok().and_then(|hir| Fast::compile(&hir));
        Ok(Pattern { source: source.into(), flags: flags.into(), built: OnceLock::from(Ok(regex)), fast })
    }

    /// Checks the syntax now and builds the regex on first use.
    pub(crate) fn lazy(source: &str, flags: &str) -> Result<Pattern, String> {
        let hir = parse(source, flags)?;
        let fast = Fast::compile(&hir);
        Ok(Pattern { source: source.into(), flags: flags.into(), built: OnceLock::new(), fast })
    }

    /// Whether `text` matches; an error only if a lazily built pattern exceeds the size limits.
    pub(crate) fn is_match(&self, text: &str) -> Result<bool, &str> {
        match self.built.get_or_init(|| build(&self.source, &self.flags)) {
            Ok(regex) => Ok(match &self.fast {
                Some(fast) => fast.is_match(text),
                None => regex.is_match(text),
            }),
            Err(e) => Err(e),
        }
    }

    /// Whether the pattern runs as a direct check (for tests and `policy explain`-style reporting).
    #[cfg(test)]
    pub(crate) fn is_direct(&self) -> bool {
        self.fast.is_some()
    }
}

/// The pattern's HIR under `flags`, as `regex` parses it.
fn parse(source: &str, flags: &str) -> Result<regex_syntax::hir::Hir, String> {
    regex_syntax::ParserBuilder::new()
        .case_insensitive(flags.contains('i'))
        .multi_line(flags.contains('m'))
        .dot_matches_new_line(flags.contains('s'))
        .ignore_whitespace(flags.contains('x'))
        .build()
        .parse(source)
        .map_err(|e| e.to_string())
}

fn build(source: &str, flags: &str) -> Result<Regex, String> {
    RegexBuilder::new(source)
        .case_insensitive(flags.contains('i'))
        .multi_line(flags.contains('m'))
        .dot_matches_new_line(flags.contains('s'))
        .ignore_whitespace(flags.contains('x'))
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eager_and_lazy_patterns_match_alike() {
        for (source, flags, text, expected) in
            [("^[a-f0-9]{64}$", "", "ab", false), ("^abc$", "i", "ABC", true), ("a.b", "s", "a\nb", true)]
        {
            let eager = Pattern::eager(source, flags).expect("valid");
            let lazy = Pattern::lazy(source, flags).expect("valid");
            assert_eq!(eager.is_match(text), Ok(expected), "{source}");
            assert_eq!(lazy.is_match(text), Ok(expected), "{source}");
        }
    }

    #[test]
    fn flags_reach_the_direct_check() {
        let hex = Pattern::eager("^[a-f0-9]{4}$", "").expect("valid");
        assert!(hex.is_direct());
        assert_eq!(hex.is_match("beef"), Ok(true));
        assert_eq!(hex.is_match("BEEF"), Ok(false));
        let ci = Pattern::lazy("^[a-f0-9]{4}$", "i").expect("valid");
        assert!(ci.is_direct());
        assert_eq!(ci.is_match("BEEF"), Ok(true));
        // Multi-line anchors match at line ends: left to regex, which matches before the newline.
        let lines = Pattern::eager("^beef$", "m").expect("valid");
        assert!(!lines.is_direct());
        assert_eq!(lines.is_match("x\nbeef\ny"), Ok(true));
    }

    #[test]
    fn syntax_errors_are_found_either_way() {
        assert!(Pattern::eager("a(", "").is_err());
        assert!(Pattern::lazy("a(", "").is_err());
        assert!(Pattern::lazy(r"\p{NoSuchClass}", "").is_err());
    }

    #[test]
    fn a_pattern_too_big_fails_when_built() {
        let huge = "(a{1000}){1000}";
        assert!(Pattern::eager(huge, "").is_err());
        let lazy = Pattern::lazy(huge, "").expect("the syntax is fine");
        assert!(lazy.is_match("a").is_err());
    }
}
