//! Signed policy bundles: one tar file holding policies, their tests, schemas and plugin modules, with a
//! manifest (name, version, minimum Vigil version, every file with its SHA-256 and size) signed as a DSSE
//! envelope.
//!
//! Loading fails closed. OPA's bundle verification bypass (GHSA-g2pf-6v5v-qcc8) loaded files that the
//! signed manifest did not cover; here a bundle loads only when the manifest is signed by the given key,
//! every file it lists is present with that digest and size, and no other file is there. Entry names are
//! checked before anything is read (no absolute paths, `..`, backslashes or duplicates); only regular files
//! are accepted (no links or devices); sizes and counts are capped; and nothing is ever unpacked to disk:
//! the bundle is read into memory, once.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::dsse;
use super::keys::{SigningKey, VerifyingKey};

/// The DSSE payload type of a bundle manifest.
pub const MANIFEST_TYPE: &str = "application/vnd.vigil.bundle-manifest+json";
/// The manifest format.
pub const MANIFEST_FORMAT: &str = "https://vigil.dev/bundle/v1";
/// The entry holding the signed manifest.
pub const MANIFEST_ENTRY: &str = "manifest.dsse.json";
/// Where bundled files live inside the tar.
const FILES: &str = "files/";

/// A bundle file larger than this is not read.
pub const MAX_BUNDLE: u64 = 64 * 1024 * 1024;
/// At most this many files in a bundle.
pub const MAX_FILES: usize = 10_000;
/// No single file (or the manifest) larger than this.
pub const MAX_FILE: u64 = 16 * 1024 * 1024;

/// The signed manifest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    #[serde(rename = "_type")]
    pub format: String,
    /// The bundle's name, e.g. `acme-ml-policies`.
    pub name: String,
    /// Its version (free text; semantic versions recommended).
    pub version: String,
    /// The oldest Vigil that may load it (a semantic version).
    pub min_vigil: String,
    /// Every file, sorted by path.
    pub files: Vec<FileEntry>,
}

/// One file of the manifest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    /// `/`-separated path relative to the bundle root.
    pub path: String,
    /// Lowercase hex SHA-256.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// `policy`, `test`, `schema`, `plugin` or `other` (from the path; policies are loaded, and `.wasm` modules when a policy of the bundle imports them).
    pub role: String,
}

/// A verified bundle.
#[derive(Debug)]
pub struct Bundle {
    /// The manifest, as signed.
    pub manifest: Manifest,
    /// The key id that verified the signature.
    pub signer: String,
    /// SHA-256 of the bundle file.
    pub sha256: String,
    /// File contents by path.
    pub files: BTreeMap<String, Vec<u8>>,
}

/// A bundled file's role, from where it sits and how it is named.
fn role(path: &str) -> &'static str {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with("_test.policy") {
        // `policy test` files: they travel with the pack, but `check` has no use for them.
        "test"
    } else if lower.ends_with(".policy") {
        "policy"
    } else if lower.ends_with(".wasm") || lower.starts_with("plugins/") {
        "plugin"
    } else if lower.contains(".schema.") || lower.starts_with("schemas/") {
        "schema"
    } else if lower.starts_with("tests/") || lower.contains("/tests/") || lower.contains(".test.") {
        "test"
    } else {
        "other"
    }
}

/// Why an entry name is refused, if it is: relative, `/`-separated, no `.`/`..`/empty parts, no
/// backslashes, colons or control characters (which mean something else on some systems).
pub fn unsafe_path(path: &str) -> Option<&'static str> {
    if path.is_empty() || path.len() > 4096 {
        Some("an empty or overlong path")
    } else if path.starts_with('/') {
        Some("an absolute path")
    } else if path.contains(['\\', ':']) || path.chars().any(char::is_control) {
        Some("a backslash, colon or control character in the path")
    } else if path.split('/').any(|part| part == "..") {
        Some("a path climbing out with `..`")
    } else if path.split('/').any(|part| part.is_empty() || part == ".") {
        Some("an empty or `.` path component")
    } else {
        None
    }
}

/// What `build` writes into the manifest besides the files.
#[derive(Debug)]
pub struct Meta {
    /// Bundle name.
    pub name: String,
    /// Bundle version.
    pub version: String,
    /// Oldest Vigil that may load it.
    pub min_vigil: String,
}

/// Collects every regular file under `dir` (hidden files and folders left out, symbolic links refused).
fn collect(dir: &Path, at: &str, out: &mut Vec<(String, Vec<u8>)>) -> Result<(), String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let relative = if at.is_empty() { name } else { format!("{at}/{name}") };
        let meta = std::fs::symlink_metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if meta.is_dir() {
            collect(&path, &relative, out)?;
        } else if meta.is_file() {
            if let Some(why) = unsafe_path(&relative) {
                return Err(format!("{}: {why}", path.display()));
            }
            if meta.len() > MAX_FILE {
                return Err(format!("{}: larger than {MAX_FILE} bytes", path.display()));
            }
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            out.push((relative, bytes));
            if out.len() > MAX_FILES {
                return Err(format!("{}: more than {MAX_FILES} files", dir.display()));
            }
        } else {
            return Err(format!(
                "{}: a symbolic link or special file: bundles hold regular files only",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Builds a signed bundle of every file under `dir`; returns the tar bytes and the manifest.
pub fn build(dir: &Path, meta: &Meta, key: &SigningKey) -> Result<(Vec<u8>, Manifest), String> {
    semver::Version::parse(&meta.min_vigil)
        .map_err(|e| format!("minimum Vigil version `{}` is not a semantic version: {e}", meta.min_vigil))?;
    let mut files = Vec::new();
    collect(dir, "", &mut files)?;
    if !files.iter().any(|(p, _)| role(p) == "policy") {
        return Err(format!("{}: no `.policy` file to bundle", dir.display()));
    }
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        name: meta.name.clone(),
        version: meta.version.clone(),
        min_vigil: meta.min_vigil.clone(),
        files: files
            .iter()
            .map(|(path, bytes)| FileEntry {
                path: path.clone(),
                sha256: super::sha256_hex(bytes),
                size: bytes.len() as u64,
                role: role(path).into(),
            })
            .collect(),
    };
    let body = serde_json::to_vec(&manifest).map_err(|e| e.to_string())?;
    let envelope = serde_json::to_vec_pretty(&dsse::sign(MANIFEST_TYPE, &body, key)).map_err(|e| e.to_string())?;
    let mut tar = tar::Builder::new(Vec::new());
    let mut append = |path: &str, data: &[u8]| {
        // Fixed metadata: the same files always make the same bundle.
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, path, data).map_err(|e| format!("{path}: {e}"))
    };
    append(MANIFEST_ENTRY, &envelope)?;
    for (path, bytes) in &files {
        append(&format!("{FILES}{path}"), bytes)?;
    }
    let bytes = tar.into_inner().map_err(|e| e.to_string())?;
    Ok((bytes, manifest))
}

/// The entries of a bundle, checked for shape only: names, types, sizes, counts. Nothing is trusted yet.
fn entries(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    if bytes.len() as u64 > MAX_BUNDLE {
        return Err(format!("larger than {MAX_BUNDLE} bytes: not read"));
    }
    let mut archive = tar::Archive::new(bytes);
    let mut out = BTreeMap::new();
    let list = archive.entries().map_err(|e| format!("not a bundle (tar): {e}"))?;
    for entry in list {
        let mut entry = entry.map_err(|e| format!("not a bundle (damaged tar): {e}"))?;
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8(raw).map_err(|_| "an entry name that is not UTF-8".to_string())?;
        if let Some(why) = unsafe_path(&name) {
            return Err(format!("entry `{}`: {why}: refused", name.escape_debug()));
        }
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(format!("entry `{name}`: not a regular file (a link, folder or device): refused"));
        }
        let size = entry.header().size().map_err(|e| format!("entry `{name}`: {e}"))?;
        if size > MAX_FILE {
            return Err(format!("entry `{name}`: {size} bytes, more than the {MAX_FILE} allowed"));
        }
        let mut data = Vec::with_capacity(size as usize);
        (&mut entry).take(MAX_FILE + 1).read_to_end(&mut data).map_err(|e| format!("entry `{name}`: {e}"))?;
        if out.insert(name.clone(), data).is_some() {
            return Err(format!("entry `{name}` appears twice: refused"));
        }
        if out.len() > MAX_FILES + 1 {
            return Err(format!("more than {MAX_FILES} files"));
        }
    }
    Ok(out)
}

/// The signed manifest's envelope, unverified: for `bundle inspect` without a key.
pub fn envelope(bytes: &[u8]) -> Result<(dsse::Envelope, Option<Manifest>), String> {
    let entries = entries(bytes)?;
    let raw = entries.get(MANIFEST_ENTRY).ok_or(format!("unsigned: no `{MANIFEST_ENTRY}` in the bundle"))?;
    let envelope = dsse::parse(raw).map_err(|e| format!("{MANIFEST_ENTRY}: {e}"))?;
    let manifest = dsse::decode_base64(&envelope.payload).and_then(|b| serde_json::from_slice(&b).ok());
    Ok((envelope, manifest))
}

/// Opens a bundle: verifies the manifest's signature with `key`, the Vigil version, and every file against
/// the manifest. Every error names the file or part at fault.
pub fn open(bytes: &[u8], key: &VerifyingKey) -> Result<Bundle, String> {
    let mut entries = entries(bytes)?;
    let raw = entries.remove(MANIFEST_ENTRY).ok_or(format!("unsigned: no `{MANIFEST_ENTRY}` in the bundle"))?;
    let envelope = dsse::parse(&raw).map_err(|e| format!("{MANIFEST_ENTRY}: {e}"))?;
    let verified = dsse::verify(&envelope, MANIFEST_TYPE, key).map_err(|e| format!("signature: {e}"))?;
    let manifest: Manifest = serde_json::from_slice(&verified.body)
        .map_err(|e| format!("manifest: signed, but not a bundle manifest: {e}"))?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(format!("manifest: format `{}`, expected `{MANIFEST_FORMAT}`", manifest.format));
    }
    let needed = semver::Version::parse(&manifest.min_vigil)
        .map_err(|_| format!("manifest: minimum Vigil version `{}` is not a semantic version", manifest.min_vigil))?;
    let ours = semver::Version::parse(env!("CARGO_PKG_VERSION")).unwrap_or_else(|_| semver::Version::new(0, 0, 0));
    if ours < needed {
        return Err(format!("the bundle needs Vigil {needed} or later; this is {ours}"));
    }
    let mut files = BTreeMap::new();
    for file in &manifest.files {
        if let Some(why) = unsafe_path(&file.path) {
            return Err(format!("manifest: `{}`: {why}", file.path.escape_debug()));
        }
        let Some(data) = entries.remove(&format!("{FILES}{}", file.path)) else {
            let twice = files.contains_key(&file.path);
            let what = if twice { "is listed twice in the manifest" } else { "is listed in the manifest but missing" };
            return Err(format!("{}: {what}", file.path));
        };
        let digest = super::sha256_hex(&data);
        if data.len() as u64 != file.size || !digest.eq_ignore_ascii_case(&file.sha256) {
            return Err(format!(
                "{}: its SHA-256 is {digest} ({} bytes), the signed manifest says {} ({} bytes): the file was altered",
                file.path,
                data.len(),
                file.sha256,
                file.size
            ));
        }
        files.insert(file.path.clone(), data);
    }
    if let Some(extra) = entries.keys().next() {
        let name = extra.strip_prefix(FILES).unwrap_or(extra);
        return Err(format!("{name}: in the bundle but not in the signed manifest: refused"));
    }
    Ok(Bundle { manifest, signer: verified.keyid, sha256: super::sha256_hex(bytes), files })
}

impl Bundle {
    /// The policy files as `(name, text)` for the compiler, named `NAME@VERSION:PATH`.
    pub fn policies(&self) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for file in self.manifest.files.iter().filter(|f| f.role == "policy" && role(&f.path) == "policy") {
            let bytes = &self.files[&file.path];
            let text = std::str::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", file.path))?;
            out.push((format!("{}@{}:{}", self.manifest.name, self.manifest.version, file.path), text.to_string()));
        }
        Ok(out)
    }

    /// Its plugin modules, by the path a policy of the bundle imports them as (`NAME@VERSION:path`, as
    /// [`Bundle::policies`] names policies), each pinned to the digest the signed manifest records.
    pub fn plugins(&self) -> Vec<(std::path::PathBuf, crate::plugins::PluginSource)> {
        let wasm = self.manifest.files.iter().filter(|f| f.path.to_ascii_lowercase().ends_with(".wasm"));
        wasm.map(|file| {
            let name = format!("{}@{}:{}", self.manifest.name, self.manifest.version, file.path);
            let bytes: std::sync::Arc<[u8]> = self.files[&file.path].as_slice().into();
            (name.clone().into(), crate::plugins::PluginSource::bytes(name, bytes).sha256(file.sha256.clone()))
        })
        .collect()
    }

    /// What an attestation records of the bundle.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({"name": self.manifest.name, "version": self.manifest.version, "sha256": self.sha256,
                           "signer": self.signer})
    }
}
