//! The configuration layers of `policy check`: the trusted file given with `--config` and the repository's
//! `vigil.toml`, and how their problems are shown.

use vigil::unstable::config::{self, Config};
use vigil::unstable::report::json;

use super::Outcome;
use super::check::CheckArgs;
use super::output::{eprint, print, style_for};

/// The trusted configuration (`--config FILE`, else empty) and the repository's vigil.toml, found from the
/// working directory upward. A trusted file without `[lock]` replaces the repository's, as it always did;
/// with one, the repository's is layered on top, within the lock.
pub fn read_configs(args: &CheckArgs) -> Result<(Config, Option<Config>), Outcome> {
    let as_json = args.json();
    if args.no_config {
        return Ok((Config::default(), None));
    }
    let trusted = match &args.config {
        Some(p) => config::load(p).map_err(|errors| show(&errors, as_json))?,
        None => Config::default(),
    };
    if args.config.is_some() && trusted.lock.is_none() {
        return Ok((trusted, None));
    }
    let Some(found) = config::find(&std::env::current_dir().unwrap_or_default()) else { return Ok((trusted, None)) };
    let same = |a: &std::path::Path, b: &std::path::Path| {
        std::fs::canonicalize(a).ok().is_some_and(|a| std::fs::canonicalize(b).ok() == Some(a))
    };
    if args.config.as_deref().is_some_and(|t| same(t, &found)) {
        return Ok((trusted, None));
    }
    let repo = config::load_repository(&found).map_err(|errors| show(&errors, as_json))?;
    Ok((trusted, Some(repo)))
}

pub fn shown(config: &Config) -> String {
    if config.file.as_os_str().is_empty() {
        "vigil.toml (none found)".into()
    } else {
        config.file.display().to_string()
    }
}

/// Prints configuration or waiver problems; exit code 2.
pub fn show(errors: &[vigil::Diagnostic], as_json: bool) -> Outcome {
    if as_json {
        print(&json::render_policy_errors(errors));
    } else {
        let style = style_for(&std::io::stderr());
        for e in errors {
            eprint(&style.render(e));
        }
    }
    Outcome::Error
}
