//! Options shared by the subcommands that load policies: which policy files, parameters and the clock.

use std::path::PathBuf;

use clap::Args;
use vigil::unstable::bundled::{parse_now, read_policies};
use vigil::unstable::report::json;
use vigil::{Engine, PolicySet, Value};

use super::Outcome;
use super::output::{eprint, print, style_for};

#[derive(Args, Clone, Debug)]
pub struct PolicyArgs {
    /// Policy file or folder of `.policy` files to add (repeatable).
    #[arg(short = 'p', long = "policy", value_name = "PATH")]
    pub policies: Vec<PathBuf>,
    /// Leave out the bundled policies.
    #[arg(long)]
    pub no_builtin: bool,
    /// Override a policy `param`: NAME=VALUE, VALUE as JSON or a bare string (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Pin "now" for date rules: YYYY-MM-DD or an RFC 3339 timestamp.
    #[arg(long, value_name = "DATE")]
    pub now: Option<String>,
    /// Load WASM plugins imported without a `sha256` pin (the module can then change unnoticed).
    #[arg(long)]
    pub allow_unpinned_plugins: bool,
    /// Fail (exit 2) on policy warnings too: paths the input schemas do not allow (`vigil::unknown-path`).
    #[arg(long)]
    pub deny_warnings: bool,
    /// JSON Schemas from vigil.toml's `[schemas]`: (kind, file).
    #[arg(skip)]
    pub schemas: Vec<(vigil::Kind, PathBuf)>,
    /// Plugin settings from vigil.toml's `[plugins]`.
    #[arg(skip)]
    pub plugins: vigil::unstable::plugins::PluginOptions,
    /// Policy files from verified bundles, `(name, text)`, read before configured and `--policy` files.
    #[arg(skip)]
    pub bundled: Vec<(String, String)>,
    /// Host functions added to (or replacing) the builtins: `policy serve`'s live `traffic`.
    #[arg(skip)]
    pub functions: Vec<vigil::Function>,
}

/// Prints a usage error; exit code 2.
pub fn usage(message: impl std::fmt::Display) -> Outcome {
    eprint(&format!("error: {message}\n"));
    Outcome::Error
}

/// Reads and compiles the policies; problems are printed (as JSON when `as_json`) and become exit code 2.
pub fn compile(args: &PolicyArgs, as_json: bool) -> Result<PolicySet, Outcome> {
    compile_with(args, &[], as_json, &|_| None)
}

/// Moves a policy problem to where the user wrote the setting behind it (a `[params]` entry of vigil.toml),
/// when it came from there.
pub type Relocate<'a> = dyn Fn(&vigil::Diagnostic) -> Option<vigil::Diagnostic> + 'a;

/// Like `compile`, with policy files or folders from configuration read before `--policy` ones. Each comes
/// with the folder it must stay inside when a repository's `vigil.toml` named it (`None`: trusted).
/// `relocate` may point a problem into the configuration file instead.
pub fn compile_with(
    args: &PolicyArgs,
    configured: &[(PathBuf, Option<PathBuf>)],
    as_json: bool,
    relocate: &Relocate<'_>,
) -> Result<PolicySet, Outcome> {
    let mut plugins = args.plugins.clone();
    plugins.allow_unpinned |= args.allow_unpinned_plugins;
    let mut builder = Engine::builder().plugin_options(plugins);
    for function in &args.functions {
        builder = builder.function(function.clone());
    }
    for param in &args.params {
        let Some((name, value)) = param.split_once('=') else {
            return Err(usage(format!("`--param {param}` needs the form NAME=VALUE")));
        };
        // JSON when it parses (`["a"]`, `3`, `true`), otherwise the text itself.
        let value = Value::from_json(value).unwrap_or_else(|_| Value::from(value));
        builder = builder.param(name.trim(), value);
    }
    if let Some(now) = &args.now {
        builder = builder.now(parse_now(now).map_err(|e| usage(format!("--now: {e}")))?);
    }
    for (kind, path) in &args.schemas {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| usage(format!("{name}: {e}")))?;
        builder = builder.schema(*kind, &name, &text).map_err(usage)?;
    }
    let mut sources: Vec<(String, String)> = Vec::new();
    if !args.no_builtin {
        sources.extend(vigil::unstable::bundled::BUNDLED.iter().map(|(n, t)| (n.to_string(), t.to_string())));
    }
    sources.extend(args.bundled.iter().cloned());
    for (path, root) in configured {
        read_policies(path, root.as_deref(), &mut sources).map_err(usage)?;
    }
    for path in &args.policies {
        read_policies(path, None, &mut sources).map_err(usage)?;
    }
    if sources.is_empty() {
        return Err(usage("no policies: `--no-builtin` needs at least one `--policy PATH`"));
    }
    let show = |diagnostics: &[vigil::Diagnostic]| {
        if as_json {
            print(&json::render_policy_errors(diagnostics));
        } else {
            let style = style_for(&std::io::stderr());
            for d in diagnostics.iter() {
                eprint(&style.render(d));
            }
            let n = diagnostics.len();
            eprint(&format!("error: {n} problem{} in the policies\n", if n == 1 { "" } else { "s" }));
        }
        Outcome::Error
    };
    let set = builder.build().compile(sources).map_err(|diagnostics| {
        let diagnostics: Vec<vigil::Diagnostic> =
            diagnostics.iter().map(|d| relocate(d).unwrap_or_else(|| d.clone())).collect();
        show(&diagnostics)
    })?;
    let warnings = set.warnings();
    if args.deny_warnings && !warnings.is_empty() {
        return Err(show(warnings));
    }
    if !warnings.is_empty() && !as_json {
        let style = style_for(&std::io::stderr());
        for d in warnings {
            eprint(&style.render(d));
        }
        let n = warnings.len();
        eprint(&format!(
            "warning: {n} warning{} in the policies (`--deny-warnings` makes them errors)\n",
            if n == 1 { "" } else { "s" }
        ));
    }
    Ok(set)
}
