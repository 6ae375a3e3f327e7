//! `traffic(dimension, key, [prompt])`: recent traffic of a caller, API key or model, for guard policies.
//!
//! Only `policy serve` records traffic (src/serve/window.rs replaces this function with one that reads its
//! sliding-window store). Everywhere else — `policy check`, embedders — the builtin still type-checks and
//! returns [`neutral`]: `tracked: false` and every count zero, so a rate rule never fires on a file that
//! is not live traffic.

use super::{Function, Ty};
use crate::value::Value;

/// The dimensions a policy may key its counters by; the server records every request under each one the
/// exchange names (`caller`, `api_key`, `model`).
pub const DIMENSIONS: [&str; 3] = ["caller", "api_key", "model"];

/// The counts the builtin returns, also the shape of the neutral value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Whether a live store answered (false outside `policy serve`).
    pub tracked: bool,
    /// Requests in the last minute (10-second buckets: the window covers 50 to 60 seconds).
    pub requests_1m: u64,
    /// Requests in the last hour (5-minute buckets).
    pub requests_1h: u64,
    /// Tokens (prompt plus completion) in the last minute.
    pub tokens_1m: u64,
    /// Tokens in the last hour.
    pub tokens_1h: u64,
    /// Distinct prompts among the key's most recent prompts of the last minute.
    pub distinct_prompts_1m: u64,
    /// Of those recent prompts, how many are near-duplicates of `prompt` (estimated word-bigram Jaccard
    /// similarity at least 0.5), counting an exact repeat.
    pub similar_prompts_1m: u64,
}

impl Traffic {
    /// The object policies see.
    pub fn to_value(self) -> Value {
        let n = |x: u64| Value::from(i64::try_from(x).unwrap_or(i64::MAX));
        Value::object_from([
            ("tracked", Value::Bool(self.tracked)),
            ("requests_1m", n(self.requests_1m)),
            ("requests_1h", n(self.requests_1h)),
            ("tokens_1m", n(self.tokens_1m)),
            ("tokens_1h", n(self.tokens_1h)),
            ("distinct_prompts_1m", n(self.distinct_prompts_1m)),
            ("similar_prompts_1m", n(self.similar_prompts_1m)),
        ])
    }
}

/// How a live store answers `traffic(dimension, key, prompt)`.
pub type Lookup = dyn Fn(&str, &str, Option<&str>) -> Traffic + Send + Sync;

/// The builtin with the neutral answer.
pub(super) fn functions() -> Vec<Function> {
    vec![function(std::sync::Arc::new(|_, _, _| Traffic::default()))]
}

/// `traffic` answered by `lookup`: the same name, signature and checks as the builtin, so a policy that
/// compiles under `policy check` compiles under `policy serve`.
pub fn function(lookup: std::sync::Arc<Lookup>) -> Function {
    // Contextual: it reads state outside its arguments, so it must never be folded into a constant.
    Function::with_context("traffic", &[Ty::STRING, Ty::STRING, Ty::STRING.or(Ty::NULL)], Ty::OBJECT, move |a, _| {
        let dimension = a[0].as_str().unwrap_or_default();
        if !DIMENSIONS.contains(&dimension) {
            return Err(format!("`traffic`: unknown dimension `{dimension}` (expected caller, api_key or model)"));
        }
        let key = a[1].as_str().unwrap_or_default();
        let prompt = a.get(2).and_then(|p| p.as_str());
        Ok(lookup(dimension, key, prompt).to_value())
    })
    .optional(1)
    .doc(
        "`traffic(dimension, key, [prompt])`: recent traffic of a `caller`, `api_key` or `model` under `policy \
         serve` (`{tracked, requests_1m, requests_1h, tokens_1m, tokens_1h, distinct_prompts_1m, \
         similar_prompts_1m}`, counting the request being decided); elsewhere `tracked` is false and every count 0.",
    )
}
