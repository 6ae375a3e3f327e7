//! The policy packs compiled into Vigil, always on unless `--no-builtin`.
//!
//! Their syntax trees are made when Vigil is built (build.rs), so a cold start deserializes them instead of
//! parsing them.

use crate::syntax::ast::File;

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// The trees of [`BUNDLED`], in the same order.
static TREES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bundled.ast"));

/// Syntax trees for the bundled files among `sources` (`None` for the others), matched by name and text.
pub(crate) fn trees_for(sources: &[(&str, &str)]) -> Vec<Option<File>> {
    let bundled = |(name, text): &(&str, &str)| BUNDLED.iter().position(|(n, t)| n == name && t == text);
    let positions: Vec<Option<usize>> = sources.iter().map(bundled).collect();
    let none = || sources.iter().map(|_| None).collect();
    if positions.iter().all(Option::is_none) {
        return none();
    }
    // A blob that does not read back (it always should) means: parse the text, as for any other file.
    let Ok(trees) = postcard::from_bytes::<Vec<File>>(TREES) else { return none() };
    let mut trees: Vec<Option<File>> = trees.into_iter().map(Some).collect();
    positions.into_iter().map(|p| p.and_then(|i| trees.get_mut(i).and_then(Option::take))).collect()
}

#[cfg(test)]
mod tests {
    use super::BUNDLED;
    use crate::Engine;

    /// The bundled packs' regexes are only syntax-checked when they are compiled and built on first use, so
    /// this is where a pattern that exceeds the size limits would show up.
    #[test]
    fn every_bundled_regex_builds() {
        let policies = Engine::default().compile(BUNDLED.iter().copied()).expect("the bundled packs compile");
        let regexes = &policies.program.regexes;
        assert!(regexes.len() > 10, "the packs use regexes: {}", regexes.len());
        for (i, regex) in regexes.iter().enumerate() {
            assert!(regex.is_match("").is_ok(), "bundled regex {i} does not build: {regex:?}");
        }
    }
}
