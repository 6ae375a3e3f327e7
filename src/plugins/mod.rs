//! WASM plugins: policy functions written in any language that compiles to WebAssembly, run by wasmtime in
//! a sandbox with no imports, a fuel budget, a wall-clock deadline, a memory cap and a cap on the result.
//!
//! A policy imports a plugin with its digest pinned, `import plugin "secrets.wasm" as secrets sha256 "…"`,
//! and calls `secrets.find(x)`. The module carries a manifest (custom section `vigil.manifest`) naming its
//! functions and their types, so the checker verifies calls like it verifies builtins. docs/plugins.md
//! describes the ABI, the limits and three tested recipes (WAT, C, Rust).
//!
//! This file holds what exists with or without the `plugins` cargo feature: the options, the import
//! resolution the checker consumes, and the errors. The wasmtime side lives in `runtime` and `manifest`,
//! compiled only with the feature, so a build without it links no wasmtime.

#[cfg(feature = "plugins")]
mod manifest;
mod resolve;
#[cfg(feature = "plugins")]
mod runtime;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

pub(crate) use resolve::{Scopes, resolve};
#[cfg(feature = "plugins")]
pub use runtime::Plugin;

/// Per-call limits. Every plugin call runs under all of them; exceeding one makes the call fail, and the
/// rule that made it reports an error finding.
///
/// ```
/// let limits = vigil::PluginLimits::default().with_fuel(10_000_000).with_timeout_ms(100);
/// let options = vigil::PluginOptions::default().with_limits(limits).with_no_cache(true);
/// assert_eq!(options.limits.timeout_ms, 100);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// Fuel (roughly, WebAssembly instructions) one call may use.
    pub fuel: u64,
    /// Wall-clock time one call may take, in milliseconds (epoch interruption, 10 ms resolution).
    pub timeout_ms: u64,
    /// Linear memory one instance may have, in bytes.
    pub memory_bytes: u64,
    /// Size of one encoded result, in bytes.
    pub max_result_bytes: u32,
    /// Native stack WebAssembly code may use, in bytes (deep recursion traps past it).
    pub max_stack_bytes: usize,
}

impl Default for Limits {
    /// 1 000 000 000 fuel, 1 s, 64 MiB of memory, 1 MiB results, 512 KiB of stack: far above what a
    /// detector needs for a large document, far below what would stall a CI run.
    fn default() -> Limits {
        Limits {
            fuel: 1_000_000_000,
            timeout_ms: 1_000,
            memory_bytes: 64 << 20,
            max_result_bytes: 1 << 20,
            max_stack_bytes: 512 << 10,
        }
    }
}

setters!(Limits {
    /// Sets the fuel (roughly, WebAssembly instructions) one call may use.
    with_fuel => fuel: u64,
    /// Sets the wall-clock time one call may take, in milliseconds.
    with_timeout_ms => timeout_ms: u64,
    /// Sets the linear memory one instance may have, in bytes.
    with_memory_bytes => memory_bytes: u64,
    /// Sets the size of one encoded result, in bytes.
    with_max_result_bytes => max_result_bytes: u32,
    /// Sets the native stack WebAssembly code may use, in bytes.
    with_max_stack_bytes => max_stack_bytes: usize,
});

/// How plugins are loaded: limits, the unpinned opt-in, digest pins from `vigil.toml`, the compile cache.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct PluginOptions {
    /// Limits for every call.
    pub limits: Limits,
    /// Load plugins imported without a `sha256` pin (and without a pin in `pins`). Off by default: an
    /// unpinned module can change under the policy without anyone noticing.
    pub allow_unpinned: bool,
    /// Digest pins by module path (absolute, or relative to the working directory): `vigil.toml`'s
    /// `[plugins.sha256]`. A pin in the policy wins.
    pub pins: BTreeMap<PathBuf, String>,
    /// Where compiled modules are cached; `None`: `$VIGIL_CACHE_DIR`, else `$XDG_CACHE_HOME/vigil`, else
    /// `~/.cache/vigil`.
    pub cache_dir: Option<PathBuf>,
    /// Whether compiled modules are cached on disk at all.
    pub no_cache: bool,
    /// Modules held in memory, by the path an import resolves to: a verified policy bundle's plugins, under
    /// `NAME@VERSION:path` like its policies. An import of such a path loads these bytes and never reads a
    /// file; a bundle's module carries the digest its signed manifest records, so it counts as pinned.
    pub modules: BTreeMap<PathBuf, PluginSource>,
}

setters!(PluginOptions {
    /// Sets the limits for every call.
    with_limits => limits: Limits,
    /// Sets whether plugins imported without a `sha256` pin load.
    with_allow_unpinned => allow_unpinned: bool,
    /// Sets the digest pins by module path.
    with_pins => pins: BTreeMap<PathBuf, String>,
    /// Sets where compiled modules are cached.
    with_cache_dir => cache_dir: Option<PathBuf>,
    /// Sets whether the on-disk cache of compiled modules is off.
    with_no_cache => no_cache: bool,
    /// Sets the modules held in memory, by the path an import resolves to.
    with_modules => modules: BTreeMap<PathBuf, PluginSource>,
});

/// Where a plugin's module comes from, for [`EngineBuilder::plugin`](crate::EngineBuilder::plugin).
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "plugins"), allow(dead_code))]
pub struct PluginSource {
    /// A label for messages (the path, or a name given with the bytes).
    pub(crate) label: String,
    pub(crate) bytes: Option<Arc<[u8]>>,
    pub(crate) path: Option<PathBuf>,
    pub(crate) sha256: Option<String>,
}

impl PluginSource {
    /// A `.wasm` file, read when the plugin is loaded.
    pub fn file(path: impl Into<PathBuf>) -> PluginSource {
        let path = path.into();
        PluginSource { label: path.display().to_string(), bytes: None, path: Some(path), sha256: None }
    }

    /// A module already in memory; `label` names it in messages.
    pub fn bytes(label: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> PluginSource {
        PluginSource { label: label.into(), bytes: Some(bytes.into()), path: None, sha256: None }
    }

    /// Pins the module's SHA-256 digest (hex). Without a pin, loading needs
    /// [`PluginOptions::allow_unpinned`].
    pub fn sha256(mut self, hex: impl Into<String>) -> PluginSource {
        self.sha256 = Some(hex.into());
        self
    }
}

/// Why a plugin could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PluginError {
    /// What went wrong, naming the plugin.
    pub message: String,
    /// A hint, if there is one.
    pub help: Option<String>,
}

#[cfg_attr(not(feature = "plugins"), allow(dead_code))]
impl PluginError {
    pub(crate) fn new(message: impl Into<String>) -> PluginError {
        PluginError { message: message.into(), help: None }
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> PluginError {
        self.help = Some(help.into());
        self
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::hex::sha256(bytes)
}

/// Marks the start of a new document on this thread: plugin instances used from now on start fresh, so
/// no plugin can carry state from one document to the next (docs/plugins.md, "State").
pub(crate) fn begin_document() {
    #[cfg(feature = "plugins")]
    runtime::begin_document();
}
