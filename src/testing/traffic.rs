//! `traffic = {...}` in a test: the counters `policy serve`'s sliding window would hold when the exchange
//! under test arrives, so rate and extraction rules (`traffic(...)` in guard policies) can be tested.
//!
//! Outside `policy serve` the `traffic` builtin answers neutrally (`tracked: false`, every count 0), so
//! without this a rule such as GRD-EXTRACT-001 could never fire in a test. Replaying a stream of exchanges
//! through the real window would make tests depend on the wall clock and on the min-hash similarity
//! estimate; a test states the counts instead, which is what the rule reads. The window itself is tested
//! in src/serve/window.rs and over HTTP in tests/it/serve.rs.
//!
//! ```text
//! traffic = {caller: {"user-2": {requests_1m: 500, similar_prompts_1m: 40}}}
//! ```
//!
//! A listed key answers `tracked: true` with its counts (missing counts are 0); a key that is not listed
//! answers neutrally, as the builtin does elsewhere. Dimensions and counter names are checked, so a typo
//! fails the test with a span instead of leaving a rule silently untested.

use std::sync::Arc;

use crate::functions::Function;
use crate::functions::traffic::{DIMENSIONS, Traffic};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind};

/// The counters a test may give, in the order of [`Traffic`]'s fields.
const COUNTERS: &[&str] =
    &["requests_1m", "requests_1h", "tokens_1m", "tokens_1h", "distinct_prompts_1m", "similar_prompts_1m"];

/// What a test's `traffic` field states: `(dimension, key) -> counts`.
#[derive(Clone, Debug, Default)]
pub(super) struct Table(Vec<(String, String, Traffic)>);

/// A problem with the field: where, what, and a "did you mean" when there is one.
pub(super) type Problem = (Span, String, Option<String>);

impl Table {
    /// Reads `traffic = {dimension: {key: {counter: n, ...}, ...}, ...}`, reporting every problem.
    pub(super) fn parse(value: &Expr) -> Result<Table, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut table = Vec::new();
        let shape = "`traffic` is `{caller: {\"user-1\": {requests_1m: 500, similar_prompts_1m: 40}}}`";
        let Some(dimensions) = object(value) else {
            return Err(vec![(value.span, shape.to_string(), None)]);
        };
        for (dimension, keys) in dimensions {
            if !DIMENSIONS.contains(&dimension.name.as_str()) {
                let help = crate::diagnostic::suggestion(&dimension.name, DIMENSIONS.iter().copied());
                let message = format!("unknown traffic dimension `{}` (caller, api_key, model)", dimension.name);
                problems.push((dimension.span, message, help));
                continue;
            }
            let Some(keys) = object(keys) else {
                problems.push((keys.span, shape.to_string(), None));
                continue;
            };
            for (key, counters) in keys {
                let Some(counters) = object(counters) else {
                    problems.push((counters.span, format!("the counts of `{}` are an object", key.name), None));
                    continue;
                };
                let mut traffic = Traffic { tracked: true, ..Traffic::default() };
                for (name, n) in counters {
                    let Some(slot) = slot(&mut traffic, &name.name) else {
                        let help = crate::diagnostic::suggestion(&name.name, COUNTERS.iter().copied());
                        problems.push((name.span, format!("unknown traffic counter `{}`", name.name), help));
                        continue;
                    };
                    match &n.kind {
                        ExprKind::Int(i) if *i >= 0 => *slot = *i as u64,
                        _ => problems.push((n.span, "a traffic count is a whole number ≥ 0".to_string(), None)),
                    }
                }
                table.push((dimension.name.clone(), key.name.clone(), traffic));
            }
        }
        if problems.is_empty() { Ok(Table(table)) } else { Err(problems) }
    }

    /// The `traffic` builtin answering from this table (neutrally for keys it does not list).
    pub(super) fn function(self) -> Function {
        let table = Arc::new(self.0);
        crate::functions::traffic::function(Arc::new(move |dimension, key, _prompt| {
            table.iter().find(|(d, k, _)| d == dimension && k == key).map(|(_, _, t)| *t).unwrap_or_default()
        }))
    }
}

fn object(value: &Expr) -> Option<&[(crate::syntax::ast::Ident, Expr)]> {
    match &value.kind {
        ExprKind::Object(entries) => Some(entries),
        _ => None,
    }
}

fn slot<'a>(t: &'a mut Traffic, name: &str) -> Option<&'a mut u64> {
    Some(match name {
        "requests_1m" => &mut t.requests_1m,
        "requests_1h" => &mut t.requests_1h,
        "tokens_1m" => &mut t.tokens_1m,
        "tokens_1h" => &mut t.tokens_1h,
        "distinct_prompts_1m" => &mut t.distinct_prompts_1m,
        "similar_prompts_1m" => &mut t.similar_prompts_1m,
        _ => return None,
    })
}
