//! Timing and profiling helper for the model-artifact inspector.
//!
//! ```text
//! cargo build --release --example artifact_bench
//! target/release/examples/artifact_bench MODE LOOPS FILE...
//! ```
//!
//! MODE is one of:
//! - `doc`: `Document::from_artifact` (hashing off) on every file, document dropped right away;
//! - `open`: only what reading a small file costs at least (open, metadata, one read, close);
//! - `cli`: what `policy inspect --format jsonl --no-hash` does on one thread (collect, load, one JSON line per
//!   document, each document dropped once written).
//!
//! Prints microseconds per file. Under `valgrind --tool=callgrind --toggle-collect=artifact_bench::one`,
//! `doc` counts the instructions of one document, made and dropped.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use vigil::unstable::input::{self, LoadOptions, Loaded};
use vigil::{Document, Value};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(mode), Some(loops)) = (args.first(), args.get(1).and_then(|l| l.parse::<usize>().ok())) else {
        eprintln!("usage: artifact_bench doc|open|cli LOOPS FILE...");
        std::process::exit(2);
    };
    let paths: Vec<PathBuf> = args.iter().skip(2).map(PathBuf::from).collect();
    let mut options = LoadOptions::default();
    options.artifacts.hash = false;
    let start = Instant::now();
    let mut sink = 0usize;
    for _ in 0..loops {
        sink += match mode.as_str() {
            "doc" => paths.iter().map(|p| one(p, &options)).sum(),
            "open" => paths.iter().map(|p| open_read(p)).sum(),
            "cli" => cli(&paths, &options),
            _ => {
                eprintln!("unknown mode {mode}");
                std::process::exit(2);
            }
        };
    }
    let secs = start.elapsed().as_secs_f64();
    let n = loops * paths.len();
    println!("{mode}: {n} files in {secs:.3} s = {:.2} us/file (checksum {sink})", secs * 1e6 / n.max(1) as f64);
}

/// One document, made and dropped.
#[inline(never)]
fn one(path: &Path, options: &LoadOptions) -> usize {
    match Document::from_artifact(path, options) {
        Ok(d) => d.data().as_object().map_or(0, |o| o.len()),
        Err(e) => {
            eprintln!("{e}");
            0
        }
    }
}

/// The system calls reading a small model file needs.
fn open_read(path: &Path) -> usize {
    let Ok(mut f) = std::fs::File::open(path) else { return 0 };
    let len = f.metadata().map_or(0, |m| m.len().min(64 * 1024));
    let mut buf = vec![0u8; usize::try_from(len).unwrap_or(0)];
    f.read(&mut buf).unwrap_or(0)
}

/// The JSON line of one document, as `policy inspect` prints it.
fn entry(d: &Document) -> Value {
    Value::object_from([
        ("path", Value::from(d.name())),
        ("index", Value::Int(i64::try_from(d.index()).unwrap_or(0))),
        ("kind", Value::from(d.kind().name())),
        ("input", d.data().clone()),
        ("doc", d.meta().clone()),
    ])
}

/// `policy inspect --format jsonl` on one thread, without printing: each line written as soon as its document
/// is loaded.
fn cli(paths: &[PathBuf], options: &LoadOptions) -> usize {
    let mut out = Vec::with_capacity(64 * 1024);
    let mut written = 0usize;
    for i in &input::collect(paths, &[]).inputs {
        if let Ok(Loaded::Documents(docs)) = input::load(i, options) {
            for d in &docs {
                if serde_json::to_writer(&mut out, &entry(d)).is_ok() {
                    out.push(b'\n');
                }
            }
        }
        if out.len() > 60 * 1024 {
            written += out.len();
            out.clear();
        }
    }
    written + out.len()
}
