//! `policy check --shard I/N`: check a stable share of the files, for CI matrices and Kubernetes Indexed Jobs.
//!
//! Shard `I` of `N` (counted from 0, like Kubernetes' `JOB_COMPLETION_INDEX` and GitHub's
//! `strategy.job-index`, which can then be passed on as they are) checks the files whose path relative to
//! the run's root hashes to `I` modulo `N` (the exact rule is in `vigil::unstable::shard`). Every shard
//! walks the same folders and applies the same excludes, so the shards are disjoint and together cover the
//! whole run; `policy report merge` puts their JSON reports back together (docs/ci.md).
//!
//! What differs from an unsharded run, and why:
//! - Rules that read other documents (`documents(...)`) still see every document, the other shards' too, so
//!   a shard's findings are exactly the whole run's findings on its files.
//! - A shard may hold no document at all (more shards than files): that passes, since the merge of all
//!   shards is where "nothing was checked" is decided.
//! - An error of a path named on the command line (missing, unreadable) is reported by every shard: each
//!   must fail on it, whichever shard would have held its files. The merge lists it once.
//! - `--strict-waivers` belongs on the merge: a waiver unused in one shard may be used in another.

use vigil::unstable::report::paths::Paths;
use vigil::unstable::shard::Shard;

use super::Outcome;
use super::policies::usage;

/// The `--shard` of a run in `paths`, or a usage error (exit 2).
pub fn parse(spec: Option<&str>, paths: &Paths) -> Result<Option<Shard>, Outcome> {
    let Some(spec) = spec else { return Ok(None) };
    Shard::parse(spec, paths.clone()).map(Some).map_err(usage)
}

/// The `(index, count)` the JSON report records.
pub fn recorded(shard: Option<&Shard>) -> Option<(u64, u64)> {
    shard.map(|s| (s.index(), s.count()))
}
