//! Instruction counts of JSON loading, for callgrind: Vigil's `Document::parse` of each card and
//! serde_json's parse into its `Value`, each in its own never-inlined function, over the same texts.
//!
//! ```sh
//! json_load_profile DOCS.jsonl [PASSES]   # PASSES timed passes after one counted pass (0 under callgrind)
//! valgrind --tool=callgrind --toggle-collect='json_load_profile::vigil_one' target/release/json_load_profile docs.jsonl 0
//! valgrind --tool=callgrind --toggle-collect='json_load_profile::serde_one' target/release/json_load_profile docs.jsonl 0
//! ```
//!
//! Cards are interleaved and each result is dropped outside the measured function, as `compare`'s
//! `JSON load ÷ serde_json` line does (so the allocator recycles memory the way it does there). It also counts
//! allocations per card, and with PASSES > 0 prints wall-clock medians per card (noisy on a busy machine).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

/// The system allocator (as in `compare`), counting calls.
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static REALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        REALLOCS.fetch_add(1, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations and reallocations `f` makes.
fn counted(f: impl FnOnce()) -> (usize, usize) {
    let (a, r) = (ALLOCS.load(Relaxed), REALLOCS.load(Relaxed));
    f();
    (ALLOCS.load(Relaxed) - a, REALLOCS.load(Relaxed) - r)
}

#[inline(never)]
fn vigil_one(text: &str, options: &vigil::LoadOptions) -> Vec<vigil::Document> {
    vigil::Document::parse("card.json", text, options).expect("valid card")
}

#[inline(never)]
fn value_one(text: &str) -> vigil::Value {
    vigil::Value::from_json(text).expect("valid card")
}

#[inline(never)]
fn serde_one(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("valid card")
}

/// The median of `xs`.
fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or_default()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| {
        eprintln!("usage: json_load_profile DOCS.jsonl [PASSES]");
        std::process::exit(2)
    });
    let passes: usize = args.next().and_then(|p| p.parse().ok()).unwrap_or(1);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(2)
    });
    let texts: Vec<String> = text.lines().map(str::to_string).collect();
    let options = vigil::LoadOptions::default();
    // One counted pass (what callgrind measures with PASSES = 0), then the timed ones.
    let (mut vigil_allocs, mut serde_allocs) = ((0, 0), (0, 0));
    for text in &texts {
        let mut docs = Vec::new();
        let (a, r) = counted(|| docs = vigil_one(text, &options));
        drop(black_box(docs));
        vigil_allocs = (vigil_allocs.0 + a, vigil_allocs.1 + r);
        let mut value = serde_json::Value::Null;
        let (a, r) = counted(|| value = serde_one(text));
        drop(black_box(value));
        serde_allocs = (serde_allocs.0 + a, serde_allocs.1 + r);
    }
    let per = |n: usize| n as f64 / texts.len() as f64;
    println!(
        "per card: vigil {:.1} allocs + {:.1} reallocs, serde_json {:.1} allocs + {:.1} reallocs",
        per(vigil_allocs.0),
        per(vigil_allocs.1),
        per(serde_allocs.0),
        per(serde_allocs.1)
    );
    let mut ratios = Vec::new();
    for _ in 0..passes {
        let (mut vigil_ns, mut serde_ns, mut value_ns) = (Vec::new(), Vec::new(), Vec::new());
        for (i, text) in texts.iter().enumerate() {
            // Whoever reads a card first reads its text from memory: take turns, as `compare` does.
            for k in 0..3 {
                let start = Instant::now();
                match (i + k) % 3 {
                    0 => {
                        let docs = vigil_one(text, &options);
                        vigil_ns.push(start.elapsed().as_nanos() as f64);
                        drop(black_box(docs));
                    }
                    1 => {
                        let value = value_one(text);
                        value_ns.push(start.elapsed().as_nanos() as f64);
                        drop(black_box(value));
                    }
                    _ => {
                        let value = serde_one(text);
                        serde_ns.push(start.elapsed().as_nanos() as f64);
                        drop(black_box(value));
                    }
                }
            }
        }
        let (v, s, x) = (median(&mut vigil_ns), median(&mut serde_ns), median(&mut value_ns));
        println!(
            "pass: Document::parse {v:.0} ns, Value::from_json {x:.0} ns, serde_json {s:.0} ns per card (medians): \
             {:.3}× ({:.3}× values only)",
            v / s,
            x / s
        );
        ratios.push(v / s);
    }
    if passes > 0 {
        println!("median ratio over {passes} passes: {:.3}×", median(&mut ratios));
    }
}
