//! A share of a run (`policy check --shard I/N`) and the counters a progress display reads.
//!
//! Which shard checks a file depends only on the file's path relative to the run's root, never on its
//! content, size or the machine: shard `I` of `N` (0-based, `0 ≤ I < N`) checks the files for which the
//! first 8 bytes of SHA-256 of that path, read as a big-endian integer, are `I` modulo `N`. Shards count
//! from 0 like Kubernetes' `JOB_COMPLETION_INDEX` and GitHub's `strategy.job-index`, so they can be passed
//! on as they are: a distroless container has no shell to add 1. The path is
//! [`Paths::relative`]: `/`-separated, without `./`, relative to `--root` or the git top level (else the
//! working directory); a file outside the root is hashed by its absolute, clean path, which differs between
//! machines, so shard runs should name files inside the root. A hash (not "every N-th file") keeps a file in
//! the same shard when others are added or removed, so reruns of one shard are comparable.

use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use sha2::{Digest, Sha256};

use crate::input::{Input, Skipped};
use crate::pipeline::{CheckOptions, FileResult};
use crate::report::paths::Paths;

/// Shard `index` (from 0) of `count`.
#[derive(Clone, Debug)]
pub struct Shard {
    index: u64,
    count: u64,
    paths: Paths,
}

impl Shard {
    /// Parses `I/N` (0 ≤ I < N); `paths` gives the root file paths are made relative to.
    pub fn parse(spec: &str, paths: Paths) -> Result<Shard, String> {
        let bad = |why: &str| format!("`--shard {spec}`: {why}; expected I/N with 0 ≤ I < N, e.g. 0/4 … 3/4");
        let (i, n) = spec.split_once('/').ok_or_else(|| bad("no `/`"))?;
        let number = |s: &str| s.trim().parse::<u64>().map_err(|_| bad(&format!("`{s}` is not a whole number")));
        let (index, count) = (number(i)?, number(n)?);
        if count == 0 {
            return Err(bad("the number of shards must be at least 1"));
        }
        if index >= count {
            return Err(bad(&format!("shards are numbered from 0 to {}", count - 1)));
        }
        Ok(Shard { index, count, paths })
    }

    /// The shard, from 0.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// How many shards the run is split into.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The string hashed for `path` (see the module documentation).
    pub fn key(&self, path: &Path) -> String {
        let given = path.to_string_lossy();
        self.paths
            .relative(&given)
            .or_else(|| self.paths.absolute(&given).map(|p| p.to_string_lossy().replace('\\', "/")))
            .unwrap_or_else(|| given.into_owned())
    }

    /// Whether this shard checks `path`.
    pub fn keeps(&self, path: &Path) -> bool {
        let digest = Sha256::digest(self.key(path).as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first) % self.count == self.index
    }
}

/// This shard's inputs, and the others' (for rules that read other documents); files skipped by the walk
/// are kept only in the shard their path falls in, so a merge of all shards lists each once.
pub(crate) fn split(shard: Option<&Shard>, inputs: Vec<Input>, skipped: &mut Vec<Skipped>) -> (Vec<Input>, Vec<Input>) {
    let Some(shard) = shard else { return (inputs, Vec::new()) };
    skipped.retain(|s| shard.keeps(&s.path));
    inputs.into_iter().partition(|i| shard.keeps(&i.path))
}

/// What a progress display shows: files done of the total, bytes read, findings so far.
#[derive(Debug, Default)]
pub struct Progress {
    total: AtomicUsize,
    done: AtomicUsize,
    bytes: AtomicU64,
    findings: AtomicUsize,
}

/// A snapshot of [`Progress`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgressState {
    /// Files to check (0 until the walk is done).
    pub total: usize,
    /// Files checked.
    pub done: usize,
    /// Bytes of the files checked (model files are hashed in full, so this is what hashing costs).
    pub bytes: u64,
    /// Findings so far.
    pub findings: usize,
}

impl Progress {
    pub(crate) fn start(&self, total: usize) {
        self.total.store(total, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn state(&self) -> ProgressState {
        ProgressState {
            total: self.total.load(Ordering::Relaxed),
            done: self.done.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            findings: self.findings.load(Ordering::Relaxed),
        }
    }
}

/// Counts a file as done (when a progress display is on) and passes its result through.
pub(crate) fn counted(options: &CheckOptions, input: &Input, result: FileResult) -> FileResult {
    if let Some(progress) = &options.progress {
        if let FileResult::Checked { findings, .. } = &result {
            progress.findings.fetch_add(findings.len(), Ordering::Relaxed);
        }
        // The size, not the bytes parsed: a model file is read whole to be hashed.
        let size = std::fs::metadata(&input.path).map_or(0, |m| m.len());
        progress.bytes.fetch_add(size, Ordering::Relaxed);
        progress.done.fetch_add(1, Ordering::Relaxed);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_validated() {
        for bad in ["0/0", "3/2", "2/2", "1/0", "junk", "1/", "/3", "a/b", "-1/3", "1/3/4"] {
            assert!(Shard::parse(bad, Paths::default()).is_err(), "{bad} must be refused");
        }
        let s = Shard::parse("2/5", Paths::default()).expect("valid");
        assert_eq!((s.index(), s.count()), (2, 5));
    }

    #[test]
    fn the_key_is_the_clean_path_and_one_shard_keeps_each_file() {
        let shards: Vec<Shard> = (0..3).map(|i| Shard::parse(&format!("{i}/3"), Paths::default()).unwrap()).collect();
        assert_eq!(shards[0].key(Path::new("./models/../models/card.md")), "models/card.md");
        for n in 0..200 {
            let path = format!("dir/file-{n}.yaml");
            let owners = shards.iter().filter(|s| s.keeps(Path::new(&path))).count();
            assert_eq!(owners, 1, "{path}");
            // `./x` and `x` are the same file, so the same shard.
            let dotted = format!("./{path}");
            assert_eq!(
                shards.iter().position(|s| s.keeps(Path::new(&path))),
                shards.iter().position(|s| s.keeps(Path::new(&dotted)))
            );
        }
        // Fixed by the hash, on every machine: a change here breaks running old and new versions side by side.
        let first: Vec<u64> = ["a.yaml", "b/c.md", "model.safetensors"]
            .iter()
            .map(|p| shards.iter().find(|s| s.keeps(Path::new(p))).unwrap().index())
            .collect();
        assert_eq!(first, FIXED);
    }

    const FIXED: [u64; 3] = [1, 0, 0];
}
