//! The per-replica sliding-window store behind `traffic(...)` in guard policies.
//!
//! Model extraction and scraping show only across requests: one caller sending hundreds of near-identical
//! prompts a minute, or a key burning through tokens. Each `/v1/guard` request is recorded, before its
//! policies run, under every dimension its exchange names (`caller`, `api_key`, `model`); the builtin then
//! reads the counters of whichever key the policy asks for.
//!
//! Memory is bounded whatever the traffic: a key holds fixed arrays (6 ten-second buckets, 12 five-minute
//! buckets, the 32 most recent prompt signatures), key text is cut to [`MAX_KEY_BYTES`], and the number of
//! keys is capped, the least recently seen key being forgotten first. [`Window::bytes_bound`] is the
//! documented bound (docs/serve.md). Counts are per process: replicas behind a Service each see their
//! share of the traffic, never the sum.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::functions::traffic::{DIMENSIONS, Traffic};

/// Longest key kept; longer ones are cut (at a character boundary), so a caller cannot grow memory
/// through its key.
pub const MAX_KEY_BYTES: usize = 128;
/// Recent prompt signatures kept per key.
const RECENT: usize = 32;
/// Min-hash values per prompt signature.
const HASHES: usize = 16;
/// Two prompts are near-duplicates when at least this many min-hashes agree (estimated Jaccard ≥ 0.5).
const SIMILAR: usize = HASHES / 2;
/// Words of a prompt that count towards its signature (a long prompt costs the same as this many).
const MAX_WORDS: usize = 512;
/// Locks are per shard, so concurrent requests for different keys rarely wait on each other.
const SHARDS: usize = 16;

#[derive(Clone, Copy, Default)]
struct Bucket {
    /// Which period the bucket holds (seconds / width); a stale bucket is reset on reuse.
    epoch: u64,
    requests: u32,
    tokens: u64,
}

#[derive(Clone, Copy)]
struct Prompt {
    at: u64,
    exact: u64,
    signature: [u32; HASHES],
}

struct Entry {
    minute: [Bucket; 6],
    hour: [Bucket; 12],
    prompts: [Option<Prompt>; RECENT],
    next_prompt: usize,
    last_seen: u64,
}

/// One shard: entries by dimension and key (see [`slot`]), hashed with foldhash (keys come from callers,
/// and the map's seed is random per process).
type Shard = Mutex<HashMap<Box<str>, Entry, foldhash::fast::RandomState>>;

/// The store: shared by every request of one server process.
pub struct Window {
    shards: Vec<Shard>,
    per_shard: usize,
    start: Instant,
    tick: std::sync::atomic::AtomicU64,
}

impl Window {
    /// A store holding at most `max_keys` keys (at least one per shard).
    pub fn new(max_keys: usize) -> Window {
        let per_shard = max_keys.div_ceil(SHARDS).max(1);
        Window {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::default())).collect(),
            per_shard,
            start: Instant::now(),
            tick: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The most memory the store can hold, in bytes: keys times the size of one entry with its key.
    pub fn bytes_bound(&self) -> usize {
        // The map's own slot per entry: the key's pointer and length, the entry, and a control byte.
        let slot = std::mem::size_of::<(Box<str>, Entry)>() + 1;
        self.per_shard * SHARDS * (slot + 1 + MAX_KEY_BYTES)
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_secs()
    }

    fn shard(&self, slot: &str) -> &Shard {
        let h = foldhash::fast::FixedState::default().hash_one(slot);
        &self.shards[(h as usize) % SHARDS]
    }

    /// Records one request under `key` of `dimension`: its tokens and, when it has one, its prompt.
    pub fn record(&self, dimension: &str, key: &str, tokens: u64, prompt: Option<&str>) {
        let Some(d) = DIMENSIONS.iter().position(|x| *x == dimension) else { return };
        let mut buf = [0; SLOT_BYTES];
        let slot = slot(&mut buf, d, key);
        let now = self.now();
        let seen = self.tick.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let prompt = prompt.filter(|p| !p.trim().is_empty()).map(|p| {
            let (exact, signature) = fingerprint(p);
            Prompt { at: now, exact, signature }
        });
        let mut map = lock(self.shard(slot));
        if !map.contains_key(slot) {
            if map.len() >= self.per_shard {
                // Forget the least recently seen key: a linear scan of one shard, only when a new key
                // arrives at capacity.
                if let Some(oldest) = map.iter().min_by_key(|(_, e)| e.last_seen).map(|(k, _)| k.clone()) {
                    map.remove(&oldest);
                }
            }
            let entry = Entry {
                minute: [Bucket::default(); 6],
                hour: [Bucket::default(); 12],
                prompts: [None; RECENT],
                next_prompt: 0,
                last_seen: seen,
            };
            map.insert(slot.into(), entry);
        }
        let Some(entry) = map.get_mut(slot) else { return };
        entry.last_seen = seen;
        for (buckets, width) in [(&mut entry.minute[..], 10), (&mut entry.hour[..], 300)] {
            let epoch = now / width + 1;
            let len = buckets.len() as u64;
            let b = &mut buckets[(epoch % len) as usize];
            if b.epoch != epoch {
                *b = Bucket { epoch, requests: 0, tokens: 0 };
            }
            b.requests = b.requests.saturating_add(1);
            b.tokens = b.tokens.saturating_add(tokens);
        }
        if let Some(p) = prompt {
            entry.prompts[entry.next_prompt] = Some(p);
            entry.next_prompt = (entry.next_prompt + 1) % RECENT;
        }
    }

    /// The counts of `key` of `dimension`, with near-duplicates of `prompt` among its recent prompts.
    pub fn lookup(&self, dimension: &str, key: &str, prompt: Option<&str>) -> Traffic {
        let mut out = Traffic { tracked: true, ..Traffic::default() };
        let Some(d) = DIMENSIONS.iter().position(|x| *x == dimension) else { return out };
        let mut buf = [0; SLOT_BYTES];
        let slot = slot(&mut buf, d, key);
        let now = self.now();
        let probe = prompt.filter(|p| !p.trim().is_empty()).map(fingerprint);
        let map = lock(self.shard(slot));
        let Some(entry) = map.get(slot) else { return out };
        let sum = |buckets: &[Bucket], width: u64| {
            let epoch = now / width + 1;
            let live = buckets.iter().filter(|b| b.epoch + buckets.len() as u64 > epoch);
            live.fold((0u64, 0u64), |(r, t), b| (r + u64::from(b.requests), t.saturating_add(b.tokens)))
        };
        (out.requests_1m, out.tokens_1m) = sum(&entry.minute, 10);
        (out.requests_1h, out.tokens_1h) = sum(&entry.hour, 300);
        let recent: Vec<&Prompt> = entry.prompts.iter().flatten().filter(|p| p.at + 60 > now).collect();
        let mut distinct: Vec<u64> = recent.iter().map(|p| p.exact).collect();
        distinct.sort_unstable();
        distinct.dedup();
        out.distinct_prompts_1m = distinct.len() as u64;
        if let Some((exact, signature)) = probe {
            out.similar_prompts_1m =
                recent.iter().filter(|p| p.exact == exact || similar(&p.signature, &signature)).count() as u64;
        }
        out
    }

    /// The builtin reading this store.
    pub fn builtin(self: &Arc<Window>) -> crate::functions::Function {
        let store = Arc::clone(self);
        crate::functions::traffic::function(Arc::new(move |d, k, p| store.lookup(d, k, p)))
    }
}

/// A poisoned lock only means another request panicked mid-update; the counters stay usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn cut(key: &str) -> &str {
    let mut end = key.len().min(MAX_KEY_BYTES);
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    &key[..end]
}

/// A map key: the dimension's index as one ASCII digit, then the key cut to [`MAX_KEY_BYTES`], written
/// into `buf` so that a lookup allocates nothing.
const SLOT_BYTES: usize = 1 + MAX_KEY_BYTES;

fn slot<'a>(buf: &'a mut [u8; SLOT_BYTES], dimension: usize, key: &str) -> &'a str {
    let key = cut(key);
    buf[0] = b'0' + dimension as u8;
    buf[1..=key.len()].copy_from_slice(key.as_bytes());
    // An ASCII digit followed by a whole `str` cut at a character boundary: always UTF-8.
    std::str::from_utf8(&buf[..=key.len()]).unwrap_or_default()
}

fn exact(prompt: &str) -> u64 {
    foldhash::fast::FixedState::default().hash_one(prompt)
}

thread_local! {
    /// The last prompt fingerprinted on this thread, by its exact hash and length. A guard request records
    /// its prompt under up to three keys and its policies then look it up, all with the same prompt and on
    /// one thread: the min-hash signature is computed once instead of four times or more.
    static LAST: std::cell::Cell<Option<(u64, usize, [u32; HASHES])>> = const { std::cell::Cell::new(None) };
}

/// The prompt's exact hash and min-hash signature.
fn fingerprint(prompt: &str) -> (u64, [u32; HASHES]) {
    let exact = exact(prompt);
    if let Some((e, len, signature)) = LAST.get()
        && e == exact
        && len == prompt.len()
    {
        return (exact, signature);
    }
    let signature = signature(prompt);
    LAST.set(Some((exact, prompt.len(), signature)));
    (exact, signature)
}

/// A min-hash signature of the prompt's word bigrams, after lowercasing and masking digits, so prompts
/// that differ in a number or a few words share most of it.
fn signature(prompt: &str) -> [u32; HASHES] {
    // A run of digits becomes one `0`: "review #7" and "review #1234" are the same words.
    let mut normal = String::with_capacity(prompt.len().min(MAX_WORDS * 16));
    for c in prompt.chars().take(MAX_WORDS * 16) {
        if c.is_ascii_digit() {
            if !normal.ends_with('0') {
                normal.push('0');
            }
        } else if c.is_alphanumeric() {
            normal.extend(c.to_lowercase());
        } else {
            normal.push(' ');
        }
    }
    let words: Vec<&str> = normal.split_whitespace().take(MAX_WORDS).collect();
    let state = foldhash::fast::FixedState::with_seed(0x5eed);
    let shingles: Vec<u64> = if words.len() < 2 {
        words.iter().map(|w| state.hash_one(w)).collect()
    } else {
        words.windows(2).map(|w| state.hash_one((w[0], w[1]))).collect()
    };
    let mut out = [u32::MAX; HASHES];
    for s in shingles {
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = (*slot).min(mix(s ^ SEEDS[i]) as u32);
        }
    }
    out
}

fn similar(a: &[u32; HASHES], b: &[u32; HASHES]) -> bool {
    a.iter().zip(b).filter(|(x, y)| x == y).count() >= SIMILAR
}

/// The SplitMix64 finaliser: independent hash functions from one shingle hash and a seed each.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const SEEDS: [u64; HASHES] = {
    let mut seeds = [0u64; HASHES];
    let mut i = 0;
    while i < HASHES {
        seeds[i] = (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        i += 1;
    }
    seeds
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_tokens_and_near_duplicates() {
        let w = Window::new(64);
        for i in 0..10 {
            w.record(
                "caller",
                "mallory",
                100,
                Some(&format!("Classify the sentiment of review number {i}: the film was fine")),
            );
        }
        w.record("caller", "mallory", 5, Some("What is the weather like in Lisbon today?"));
        let t = w.lookup("caller", "mallory", Some("Classify the sentiment of review number 99: the film was fine"));
        assert_eq!((t.requests_1m, t.tokens_1m, t.requests_1h), (11, 1005, 11));
        assert_eq!(t.distinct_prompts_1m, 11);
        assert_eq!(t.similar_prompts_1m, 10);
        let other = w.lookup("caller", "alice", Some("hello"));
        assert!(other.tracked && other.requests_1m == 0);
        assert_eq!(w.lookup("model", "mallory", None).requests_1m, 0, "dimensions are separate");
    }

    #[test]
    fn keys_are_capped_least_recently_seen_first() {
        let w = Window::new(16);
        for i in 0..1000 {
            w.record("caller", &format!("c{i}"), 1, None);
        }
        let held: usize = w.shards.iter().map(|s| lock(s).len()).sum();
        assert!(held <= 16, "{held} keys held");
        assert_eq!(w.lookup("caller", "c999", None).requests_1m, 1, "the newest key is kept");
        assert_eq!(w.lookup("caller", "c0", None).requests_1m, 0, "the oldest is forgotten");
        let long = "k".repeat(10_000);
        w.record("caller", &long, 1, None);
        assert_eq!(w.lookup("caller", &long[..MAX_KEY_BYTES], None).requests_1m, 1, "long keys are cut");
        // The documented bound (docs/serve.md): about 3.4 KiB a key, 13.4 MiB for the default 4096 keys.
        assert!(Window::new(4096).bytes_bound() <= 4096 * 3500, "{}", Window::new(4096).bytes_bound());
    }
}
