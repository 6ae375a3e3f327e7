//! `/metrics`: Prometheus text exposition, written by hand (a few counters and histograms do not need a
//! metrics framework).
//!
//! Families: `vigil_decisions_total{endpoint,decision}`, `vigil_rule_findings_total{rule,decision}`,
//! `vigil_request_duration_seconds{endpoint}` (histogram), `vigil_http_errors_total{status}`,
//! `vigil_policy_reloads_total{result}`, `vigil_policy_info{sha256}` and
//! `vigil_decision_log_records_total`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// The endpoints that decide, each with its own latency histogram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Endpoint {
    /// `/v1/check`
    Check,
    /// `/v1/admission`
    Admission,
    /// `/v1/guard`
    Guard,
}

impl Endpoint {
    const ALL: [Endpoint; 3] = [Endpoint::Check, Endpoint::Admission, Endpoint::Guard];

    /// The label value.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Check => "check",
            Endpoint::Admission => "admission",
            Endpoint::Guard => "guard",
        }
    }
}

/// Upper bounds of the latency buckets, in seconds: guard decisions are expected in microseconds, checks
/// of large documents in milliseconds.
const BUCKETS: [f64; 12] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.0];

#[derive(Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

/// Every metric of one server.
#[derive(Default)]
pub struct Metrics {
    latency: [Histogram; 3],
    decisions: Mutex<BTreeMap<(Endpoint, &'static str), u64>>,
    rules: Mutex<BTreeMap<(String, &'static str), u64>>,
    errors: Mutex<BTreeMap<u16, u64>>,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    /// Records the decision log has written.
    pub logged: AtomicU64,
}

impl Metrics {
    /// Counts one decision, the rules behind it and its latency.
    pub fn decision<'a>(
        &self,
        endpoint: Endpoint,
        decision: &'static str,
        rules: impl Iterator<Item = &'a str>,
        elapsed: Duration,
    ) {
        *lock(&self.decisions).entry((endpoint, decision)).or_default() += 1;
        let mut by_rule = None;
        for rule in rules {
            let map = by_rule.get_or_insert_with(|| lock(&self.rules));
            *map.entry((rule.to_string(), decision)).or_default() += 1;
        }
        let h = &self.latency[endpoint as usize];
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            h.counts[i].fetch_add(1, Relaxed);
        }
        h.count.fetch_add(1, Relaxed);
        h.sum_nanos.fetch_add(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    /// Counts a request answered with an error status.
    pub fn error(&self, status: u16) {
        *lock(&self.errors).entry(status).or_default() += 1;
    }

    /// Counts a policy reload.
    pub fn reload(&self, ok: bool) {
        if ok { &self.reloads_ok } else { &self.reloads_failed }.fetch_add(1, Relaxed);
    }

    /// The exposition text; `digest` is the policy set serving now.
    pub fn render(&self, digest: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP vigil_decisions_total Decisions by endpoint and outcome.");
        let _ = writeln!(out, "# TYPE vigil_decisions_total counter");
        for ((endpoint, decision), n) in lock(&self.decisions).iter() {
            let _ =
                writeln!(out, "vigil_decisions_total{{endpoint=\"{}\",decision=\"{decision}\"}} {n}", endpoint.name());
        }
        let _ = writeln!(out, "# HELP vigil_rule_findings_total Findings by rule and the decision they were part of.");
        let _ = writeln!(out, "# TYPE vigil_rule_findings_total counter");
        for ((rule, decision), n) in lock(&self.rules).iter() {
            let _ = writeln!(out, "vigil_rule_findings_total{{rule=\"{}\",decision=\"{decision}\"}} {n}", escape(rule));
        }
        let _ = writeln!(
            out,
            "# HELP vigil_request_duration_seconds Time to decide, from a read body to a rendered answer."
        );
        let _ = writeln!(out, "# TYPE vigil_request_duration_seconds histogram");
        for endpoint in Endpoint::ALL {
            let h = &self.latency[endpoint as usize];
            let name = endpoint.name();
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(&h.counts) {
                cumulative += count.load(Relaxed);
                let _ = writeln!(
                    out,
                    "vigil_request_duration_seconds_bucket{{endpoint=\"{name}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let total = h.count.load(Relaxed);
            let _ = writeln!(out, "vigil_request_duration_seconds_bucket{{endpoint=\"{name}\",le=\"+Inf\"}} {total}");
            let sum = h.sum_nanos.load(Relaxed) as f64 / 1e9;
            let _ = writeln!(out, "vigil_request_duration_seconds_sum{{endpoint=\"{name}\"}} {sum}");
            let _ = writeln!(out, "vigil_request_duration_seconds_count{{endpoint=\"{name}\"}} {total}");
        }
        let _ = writeln!(out, "# HELP vigil_http_errors_total Requests refused, by status code.");
        let _ = writeln!(out, "# TYPE vigil_http_errors_total counter");
        for (status, n) in lock(&self.errors).iter() {
            let _ = writeln!(out, "vigil_http_errors_total{{status=\"{status}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP vigil_policy_reloads_total Policy reloads; a failed one keeps the previous set serving."
        );
        let _ = writeln!(out, "# TYPE vigil_policy_reloads_total counter");
        let _ = writeln!(out, "vigil_policy_reloads_total{{result=\"ok\"}} {}", self.reloads_ok.load(Relaxed));
        let _ = writeln!(out, "vigil_policy_reloads_total{{result=\"failed\"}} {}", self.reloads_failed.load(Relaxed));
        let _ = writeln!(out, "# HELP vigil_policy_info The policy set serving, by the SHA-256 of its sources.");
        let _ = writeln!(out, "# TYPE vigil_policy_info gauge");
        let _ = writeln!(out, "vigil_policy_info{{sha256=\"{}\"}} 1", escape(digest));
        let _ = writeln!(out, "# HELP vigil_decision_log_records_total Records written to the decision log.");
        let _ = writeln!(out, "# TYPE vigil_decision_log_records_total counter");
        let _ = writeln!(out, "vigil_decision_log_records_total {}", self.logged.load(Relaxed));
        out
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Label values escape backslash, quote and newline (rule ids come from policy files).
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
