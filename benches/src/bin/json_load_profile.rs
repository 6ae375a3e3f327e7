//! Instruction counts of JSON loading, for callgrind: Vigil's `Document::parse` of each card and
//! serde_json's parse into its `Value`, each in its own never-inlined function, over the same texts.
//!
//! ```sh
//! json_load_profile DOCS.jsonl [PASSES]   # PASSES timed passes after one counted pass (0 under callgrind)
//! valgrind --tool=callgrind --toggle-collect='json_load_profile::vigil_pass' \
//!     --toggle-collect='json_load_profile::serde_pass' target/release/json_load_profile docs.jsonl
//! callgrind_annotate --inclusive=yes callgrind.out.* | grep _pass
//! ```
//!
//! Values are kept and dropped outside the timed functions, as `compare`'s `JSON load ÷ serde_json` line does.
//! Without callgrind it prints wall-clock medians per card (noisy on a busy machine).

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
fn vigil_pass(texts: &[String], options: &vigil::LoadOptions, out: &mut Vec<Vec<vigil::Document>>) {
    for text in texts {
        out.push(vigil::Document::parse("card.json", text, options).expect("valid card"));
    }
}

#[inline(never)]
fn serde_pass(texts: &[String], out: &mut Vec<serde_json::Value>) {
    for text in texts {
        out.push(serde_json::from_str(text).expect("valid card"));
    }
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
    let mut docs = Vec::with_capacity(texts.len());
    let (va, vr) = counted(|| vigil_pass(&texts, &options, &mut docs));
    let mut values = Vec::with_capacity(texts.len());
    let (sa, sr) = counted(|| serde_pass(&texts, &mut values));
    let per = |n: usize| n as f64 / texts.len() as f64;
    println!(
        "per card: vigil {:.1} allocs + {:.1} reallocs, serde_json {:.1} allocs + {:.1} reallocs",
        per(va),
        per(vr),
        per(sa),
        per(sr)
    );
    drop(black_box((docs, values)));
    let (mut vigil_ns, mut serde_ns) = (Vec::new(), Vec::new());
    for _ in 0..passes {
        let mut docs = Vec::with_capacity(texts.len());
        let start = Instant::now();
        vigil_pass(&texts, &options, &mut docs);
        vigil_ns.push(start.elapsed().as_nanos() as f64 / texts.len() as f64);
        drop(black_box(docs));
        let mut values = Vec::with_capacity(texts.len());
        let start = Instant::now();
        serde_pass(&texts, &mut values);
        serde_ns.push(start.elapsed().as_nanos() as f64 / texts.len() as f64);
        drop(black_box(values));
    }
    let ratios: Vec<f64> = vigil_ns.iter().zip(&serde_ns).map(|(v, s)| v / s).collect();
    println!(
        "{} cards, {passes} passes: vigil {:?} ns/card, serde_json {:?} ns/card, ratios {:.3?}",
        texts.len(),
        vigil_ns.iter().map(|x| *x as u64).collect::<Vec<_>>(),
        serde_ns.iter().map(|x| *x as u64).collect::<Vec<_>>(),
        ratios
    );
}
