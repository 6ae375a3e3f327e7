//! A digest cache for model artifacts: hashing a 10 GB weights file on every commit is the slow part of a
//! check, and the file rarely changes. Entries are keyed by absolute path and trusted only while the file's
//! size and modification time are unchanged.

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
        let entries = std::fs::read(&file).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
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

    /// Writes the cache if it changed, atomically (a temporary file renamed over the old one).
    pub fn save(&self) -> std::io::Result<()> {
        if !self.changed.lock().map(|c| *c).unwrap_or(false) {
            return Ok(());
        }
        let entries = self.entries.lock().map_err(|_| std::io::Error::other("hash cache lock poisoned"))?;
        let sorted: std::collections::BTreeMap<&String, &Entry> = entries.iter().collect();
        let text = serde_json::to_vec_pretty(&sorted).map_err(std::io::Error::other)?;
        if let Some(dir) = self.file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.file.with_extension("tmp");
        std::fs::write(&tmp, text)?;
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
}
