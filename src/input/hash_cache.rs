//! A digest cache for model artifacts: hashing a 10 GB weights file on every commit is the slow part of a
//! check, and the file rarely changes. Entries are keyed by absolute path and trusted only while the file's
//! size and modification time are unchanged.
//!
//! The cache file may sit in a folder the checkout controls (`.vigil/hashes.json`), so it is read without
//! blocking on a FIFO and written without following a symbolic link, for the final name and the temporary
//! one alike: a link planted there cannot make the run overwrite a file elsewhere. Keep it outside the
//! checkout (a CI cache folder) all the same: its digests are trusted while sizes and times match.

use std::collections::HashMap;
use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Entry {
    size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    mtime: u128,
    sha256: String,
}

/// A JSON file of `path → (size, mtime, sha256)`, shared by the threads of one run.
#[derive(Debug)]
pub struct HashCache {
    file: PathBuf,
    entries: Mutex<HashMap<String, Entry>>,
    changed: Mutex<bool>,
}

fn key(path: &Path) -> String {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()).to_string_lossy().into_owned()
}

fn mtime(meta: &Metadata) -> Option<u128> {
    meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_nanos())
}

impl HashCache {
    /// Opens the cache at `file`; a missing or unreadable cache starts empty (it is only a cache).
    pub fn open(file: impl Into<PathBuf>) -> HashCache {
        let file = file.into();
        let read = |file: &Path| -> Option<HashMap<String, Entry>> {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut crate::confine::open_regular(file).ok()?, &mut bytes).ok()?;
            serde_json::from_slice(&bytes).ok()
        };
        // A link is not followed for reading either: what it points to is not this run's cache.
        let linked = std::fs::symlink_metadata(&file).is_ok_and(|m| m.file_type().is_symlink());
        let entries = if linked { HashMap::new() } else { read(&file).unwrap_or_default() };
        HashCache { file, entries: Mutex::new(entries), changed: Mutex::new(false) }
    }

    /// The cached digest of `path`, if its size and modification time still match.
    pub fn lookup(&self, path: &Path, meta: &Metadata) -> Option<String> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(&key(path))?;
        (entry.size == meta.len() && Some(entry.mtime) == mtime(meta)).then(|| entry.sha256.clone())
    }

    /// Records the digest of `path`.
    pub fn store(&self, path: &Path, meta: &Metadata, sha256: &str) {
        let Some(mtime) = mtime(meta) else { return };
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(key(path), Entry { size: meta.len(), mtime, sha256: sha256.to_string() });
            if let Ok(mut changed) = self.changed.lock() {
                *changed = true;
            }
        }
    }

    /// Writes the cache if it changed, atomically (a temporary file renamed over the old one), never through
    /// a symbolic link: the temporary file is opened with `O_NOFOLLOW`, and a link at the final name is refused
    /// rather than replaced.
    pub fn save(&self) -> std::io::Result<()> {
        if !self.changed.lock().map(|c| *c).unwrap_or(false) {
            return Ok(());
        }
        let entries = self.entries.lock().map_err(|_| std::io::Error::other("hash cache lock poisoned"))?;
        let sorted: std::collections::BTreeMap<&String, &Entry> = entries.iter().collect();
        let text = serde_json::to_vec_pretty(&sorted).map_err(std::io::Error::other)?;
        if std::fs::symlink_metadata(&self.file).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is a symbolic link; refusing to write through it", self.file.display()),
            ));
        }
        let tmp = self.file.with_extension("tmp");
        let mut out = crate::confine::open_for_write(&tmp, false)?;
        std::io::Write::write_all(&mut out, &text)?;
        out.sync_all()?;
        std::fs::rename(&tmp, &self.file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_a_round_trip_and_expire_when_the_file_changes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let weights = dir.path().join("w.bin");
        std::fs::write(&weights, b"abc").expect("write");
        let cache_file = dir.path().join("cache/hashes.json");
        let cache = HashCache::open(&cache_file);
        let meta = std::fs::metadata(&weights).expect("meta");
        assert_eq!(cache.lookup(&weights, &meta), None);
        cache.store(&weights, &meta, "deadbeef");
        cache.save().expect("save");
        let reopened = HashCache::open(&cache_file);
        assert_eq!(reopened.lookup(&weights, &meta).as_deref(), Some("deadbeef"));
        std::fs::write(&weights, b"abcd").expect("rewrite");
        let changed = std::fs::metadata(&weights).expect("meta");
        assert_eq!(reopened.lookup(&weights, &changed), None);
    }

    #[cfg(unix)]
    #[test]
    fn saving_never_writes_through_a_link() {
        let dir = tempfile::tempdir().expect("temp dir");
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "keep").expect("write");
        let weights = dir.path().join("w.bin");
        std::fs::write(&weights, b"abc").expect("write");
        let meta = std::fs::metadata(&weights).expect("meta");
        // A link at the temporary name, then at the final name.
        let cache_file = dir.path().join("hashes.json");
        std::os::unix::fs::symlink(&victim, dir.path().join("hashes.tmp")).expect("symlink");
        let cache = HashCache::open(&cache_file);
        cache.store(&weights, &meta, "deadbeef");
        assert!(cache.save().is_err());
        std::fs::remove_file(dir.path().join("hashes.tmp")).expect("unlink");
        std::os::unix::fs::symlink(&victim, &cache_file).expect("symlink");
        let cache = HashCache::open(&cache_file);
        cache.store(&weights, &meta, "deadbeef");
        assert!(cache.save().is_err());
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "keep");
        assert!(std::fs::symlink_metadata(&cache_file).expect("meta").file_type().is_symlink());
    }
}
