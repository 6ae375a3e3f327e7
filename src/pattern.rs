//! Regex literals of policies (`x matches /.../i`), compiled now or on first use.
//!
//! Building a regex (NFA, prefilters, lazy DFA set-up) costs far more than parsing it: the bundled packs'
//! patterns were half of a cold `policy check`. A user's policy builds every pattern when it is compiled, so
//! any error, including a pattern too big for the size limits, is reported with its span before anything
//! runs. The bundled packs, whose patterns the test suite builds, only have their syntax checked and build
//! each pattern the first time a rule needs it, once per process (`OnceLock`, shared by every thread).

use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};

/// A compiled or yet-to-be-compiled regex with its flags.
#[derive(Debug)]
pub(crate) struct Pattern {
    source: String,
    flags: String,
    built: OnceLock<Result<Regex, String>>,
}

/// Size limits for every regex a policy supplies (literals here, pattern arguments of the regex builtins):
/// linear-time matching, and bounded memory for the compiled program and its lazy DFA.
pub(crate) const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl Pattern {
    /// Builds the regex now; its error is the checker's to report.
    pub(crate) fn eager(source: &str, flags: &str) -> Result<Pattern, String> {
        let regex = build(source, flags)?;
        Ok(Pattern { source: source.into(), flags: flags.into(), built: OnceLock::from(Ok(regex)) })
    }

    /// Checks the syntax now and builds the regex on first use.
    pub(crate) fn lazy(source: &str, flags: &str) -> Result<Pattern, String> {
        regex_syntax::ParserBuilder::new()
            .case_insensitive(flags.contains('i'))
            .multi_line(flags.contains('m'))
            .dot_matches_new_line(flags.contains('s'))
            .ignore_whitespace(flags.contains('x'))
            .build()
            .parse(source)
            .map_err(|e| e.to_string())?;
        Ok(Pattern { source: source.into(), flags: flags.into(), built: OnceLock::new() })
    }

    /// Whether `text` matches; an error only if a lazily built pattern exceeds the size limits.
    pub(crate) fn is_match(&self, text: &str) -> Result<bool, &str> {
        match self.built.get_or_init(|| build(&self.source, &self.flags)) {
            Ok(regex) => Ok(regex.is_match(text)),
            Err(e) => Err(e),
        }
    }
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
