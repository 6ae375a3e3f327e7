//! Interleaved timing and the Markdown tables the harness prints.
//!
//! On a shared two-core machine the speed of the whole box drifts by tens of percent within seconds. Timing
//! engine A over all documents and then engine B would fold that drift into the A/B ratio, so every document
//! is evaluated by every engine back to back, and the order of engines rotates from one document to the next
//! (no engine always runs first, right after another engine has evicted its caches). Per-document samples
//! then give a median, which shrugs off preemption spikes, and a p99, which shows them.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// Per-engine samples of one measurement, in microseconds.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    /// Row label.
    pub name: String,
    /// Whole time per document (for end-to-end runs: parse + evaluate + drop).
    pub total: Vec<f64>,
    /// Parse time per document (end-to-end runs only).
    pub parse: Vec<f64>,
}

/// Summary statistics of one engine's samples.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Median µs per document.
    pub median: f64,
    /// 99th percentile µs per document.
    pub p99: f64,
    /// Mean µs per document.
    pub mean: f64,
}

impl Stats {
    /// Statistics of `samples` (empty gives zeros).
    pub fn of(samples: &[f64]) -> Stats {
        if samples.is_empty() {
            return Stats::default();
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let at = |q: f64| s[((s.len() - 1) as f64 * q).round() as usize];
        Stats { median: at(0.5), p99: at(0.99), mean: s.iter().sum::<f64>() / s.len() as f64 }
    }

    /// Documents per second over the whole run (from the mean, so slow outliers count).
    pub fn per_second(&self) -> f64 {
        if self.mean > 0.0 { 1e6 / self.mean } else { 0.0 }
    }
}

/// Runs `step(engine, doc)` for every document and engine, `warmup` unrecorded passes over the first
/// `warmup_docs` documents and then `passes` recorded passes over all of them, rotating the engine order per
/// document. `step` returns (whole, parse) durations; the harness's closures time themselves, so what
/// happens between engines (bookkeeping, rotation) is never counted.
pub fn interleaved(
    names: &[&str],
    docs: usize,
    passes: usize,
    warmup: usize,
    mut step: impl FnMut(usize, usize) -> (Duration, Duration),
) -> Vec<Samples> {
    let engines = names.len();
    let warmup_docs = docs.min(1000);
    for pass in 0..warmup {
        for i in 0..warmup_docs {
            for k in 0..engines {
                step((i + pass + k) % engines, i);
            }
        }
    }
    let mut out: Vec<Samples> = names
        .iter()
        .map(|n| Samples {
            name: n.to_string(),
            total: Vec::with_capacity(docs * passes),
            parse: Vec::with_capacity(docs * passes),
        })
        .collect();
    for pass in 0..passes {
        for i in 0..docs {
            for k in 0..engines {
                let e = (i + pass + k) % engines;
                let (whole, parse) = step(e, i);
                out[e].total.push(whole.as_secs_f64() * 1e6);
                out[e].parse.push(parse.as_secs_f64() * 1e6);
            }
        }
    }
    out
}

/// Times `f` (whole duration), returning its result.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

/// Median wall time of `reps` runs of `f`, in microseconds (compile steps are short and noisy).
pub fn median_micros<T>(reps: usize, mut f: impl FnMut() -> T) -> f64 {
    let samples: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let (value, d) = timed(&mut f);
            std::hint::black_box(value);
            d.as_secs_f64() * 1e6
        })
        .collect();
    Stats::of(&samples).median
}

/// Formats a microsecond figure with sensible precision.
pub fn micros(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1} ms", v / 1000.0)
    } else if v >= 100.0 {
        format!("{v:.0} µs")
    } else if v >= 10.0 {
        format!("{v:.1} µs")
    } else {
        format!("{v:.2} µs")
    }
}

/// Formats a ratio of times.
pub fn ratio(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        "–".to_string()
    } else if v >= 10.0 {
        format!("{v:.0}×")
    } else if v >= 0.1 {
        format!("{v:.2}×")
    } else {
        format!("{v:.3}×")
    }
}

/// Formats a count with thousands separators.
pub fn thousands(n: f64) -> String {
    let s = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (k, c) in s.chars().enumerate() {
        if k > 0 && (s.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A Markdown table built row by row.
pub struct Table {
    text: String,
}

impl Table {
    /// A table with these column headers (the first column left-aligned, the rest right-aligned).
    pub fn new(headers: &[&str]) -> Table {
        let mut text = format!("| {} |\n|", headers.join(" | "));
        for k in 0..headers.len() {
            text.push_str(if k == 0 { "---|" } else { "---:|" });
        }
        text.push('\n');
        Table { text }
    }

    /// Appends a row.
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) {
        let cells: Vec<&str> = cells.iter().map(AsRef::as_ref).collect();
        let _ = writeln!(self.text, "| {} |", cells.join(" | "));
    }

    /// The Markdown text.
    pub fn render(&self) -> &str {
        &self.text
    }
}

/// What a timing table shows besides the per-document figures.
#[derive(Clone, Debug, Default)]
pub struct Columns<'a> {
    /// Index of regorus among the samples, for the "time ÷ regorus" column.
    pub reference: Option<usize>,
    /// Index of the baseline, for the "time ÷ baseline" column.
    pub baseline: Option<usize>,
    /// Index of the shared floor (`native_floor.rs`), for the "time ÷ floor" column (shown when present).
    pub floor: Option<usize>,
    /// Show the median parse time (end-to-end runs).
    pub parse: bool,
    /// Per-engine compile times in µs, shown first when given.
    pub compile: Option<&'a [f64]>,
    /// Per-engine prefixes for the row labels (e.g. the input format).
    pub lead: &'a [String],
}

/// A per-document timing table: engine, [compile], median, p99, docs/s, [parse], time ÷ regorus, time ÷
/// baseline, [time ÷ floor]. Ratios compare medians, so one preempted sample moves neither side.
pub fn timing_table(samples: &[Samples], cols: &Columns<'_>) -> Table {
    let mut table = Table::new(&timing_headers(cols));
    timing_rows(&mut table, samples, cols);
    table
}

/// The headers of [`timing_table`].
pub fn timing_headers(cols: &Columns<'_>) -> Vec<&'static str> {
    let mut headers = vec!["engine"];
    if cols.compile.is_some() {
        headers.push("compile");
    }
    headers.extend(["median / doc", "p99 / doc", "docs/s"]);
    if cols.parse {
        headers.push("of which parse (median)");
    }
    headers.extend(["time ÷ regorus", "time ÷ baseline"]);
    if cols.floor.is_some() {
        headers.push("time ÷ floor");
    }
    headers
}

/// Appends the rows of [`timing_table`] for `samples` (ratios within these samples only).
pub fn timing_rows(table: &mut Table, samples: &[Samples], cols: &Columns<'_>) {
    let stats: Vec<Stats> = samples.iter().map(|s| Stats::of(&s.total)).collect();
    let versus = |k: Option<usize>, st: &Stats| k.map_or("–".to_string(), |k| ratio(st.median / stats[k].median));
    for (k, (s, st)) in samples.iter().zip(&stats).enumerate() {
        let mut row = vec![cols.lead.get(k).map_or(s.name.clone(), |l| format!("{l}{}", s.name))];
        if let Some(compile) = cols.compile {
            row.push(compile.get(k).filter(|c| c.is_finite()).map_or("–".to_string(), |c| micros(*c)));
        }
        row.extend([micros(st.median), micros(st.p99), thousands(st.per_second())]);
        if cols.parse {
            // An engine whose own time includes decoding (OPA) records no separate parse time.
            let parse = Stats::of(&s.parse).median;
            row.push(if parse > 0.0 { micros(parse) } else { "included".to_string() });
        }
        row.push(versus(cols.reference, st));
        row.push(versus(cols.baseline, st));
        if cols.floor.is_some() {
            row.push(versus(cols.floor, st));
        }
        table.row(&row);
    }
}

/// The machine: core count and CPU model, for the record next to every table.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    format!("{cores} cores (nproc), {cpu}")
}

/// Today's date (UTC), without pulling in a date crate: `date -u +%F`, falling back to the Unix time.
pub fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| {
            let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            format!("unix time {secs}")
        })
}
