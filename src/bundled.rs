//! Where policy texts come from: the packs compiled into Vigil (always on unless `--no-builtin`), and
//! `.policy` files read from disk ([`read_policies`], shared by the command line and the Python package).
//!
//! The packs' syntax trees are made when Vigil is built (build.rs), so a cold start deserializes them
//! instead of parsing them.

use std::path::{Path, PathBuf};

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

/// Reads a policy file, or every `.policy` file under a folder (sorted, so order is stable), appending
/// `(name, text)` pairs. With a `root` (a repository's configuration named the path), nothing outside it is
/// read, even through a symbolic link: a policy file's text is quoted in compile errors.
pub fn read_policies(path: &Path, root: Option<&Path>, out: &mut Vec<(String, String)>) -> Result<(), String> {
    let name = path.display().to_string();
    if let Some(root) = root
        && !crate::confine::inside(root, path)
    {
        return Err(format!("{name}: a symbolic link leading outside {}: not read", root.display()));
    }
    let meta = std::fs::metadata(path).map_err(|e| format!("{name}: {e}"))?;
    if let Some(what) = crate::confine::special_file(&meta) {
        return Err(format!("{name}: {what}, not a regular file: never opened"));
    }
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{name}: {e}"))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "policy"))
            .collect();
        entries.sort();
        for entry in entries {
            read_policies(&entry, root, out)?;
        }
        return Ok(());
    }
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut crate::confine::open_regular(path).map_err(|e| format!("{name}: {e}"))?,
        &mut text,
    )
    .map_err(|e| format!("{name}: {e}"))?;
    out.push((name, text));
    Ok(())
}

/// Parses a pinned "now" for date rules: `YYYY-MM-DD` (midnight UTC) or an RFC 3339 timestamp.
pub fn parse_now(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts);
    }
    text.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| jiff::tz::TimeZone::UTC.to_timestamp(d.to_datetime(jiff::civil::Time::midnight())).ok())
        .ok_or_else(|| format!("`{text}` is not a date (YYYY-MM-DD) or an RFC 3339 timestamp"))
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

    /// The same packs under other names are checked as a user's policies are: every regex literal and every
    /// literal pattern argument of a builtin is built, with the size limits, when the policy is compiled.
    #[test]
    fn every_bundled_pattern_builds_when_checked_as_a_users_policy() {
        let renamed: Vec<(String, &str)> = BUNDLED.iter().map(|(name, text)| (format!("copy/{name}"), *text)).collect();
        let policies = Engine::default().compile(renamed).expect("the bundled packs compile eagerly");
        assert!(policies.program.regexes.iter().all(|r| r.is_match("").is_ok()));
    }
}
