//! Instruction counts of YAML loading, for callgrind: every row of the comparison's YAML parser table
//! (`vigil_bench::yaml_parsers`: Vigil's load, the event-only parsers, the parsers loading into their own
//! values) over the same cards, each row its own function, so one callgrind run gives every row.
//!
//! ```sh
//! yaml_load_profile DIR      # every *.yaml file of DIR, sorted, once per row, cards interleaved
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/yaml.cg --toggle-collect='vigil_bench::yaml_parsers::*' \
//!     target/release/yaml_load_profile /tmp/w500/yaml
//! callgrind_annotate --inclusive=yes /tmp/yaml.cg | grep 'yaml_parsers::'   # ÷ the card count it prints
//! ```
//!
//! Build with `--features mimalloc` to count under the `policy` binary's allocator (the default is the
//! system one, as in `compare`).

use std::hint::black_box;
use std::process::exit;

use vigil_bench::ALLOCATOR;
use vigil_bench::yaml_parsers::{READERS, ROWS};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: yaml_load_profile DIR");
        exit(2)
    };
    let mut paths: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect(),
        Err(e) => {
            eprintln!("yaml_load_profile: {dir}: {e}");
            exit(1)
        }
    };
    paths.sort();
    let texts: Vec<String> = paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect();
    for text in &texts {
        for (row, read) in ROWS.iter().zip(READERS) {
            if let Err(e) = black_box(read(black_box(text))) {
                eprintln!("yaml_load_profile: {row}: {e}");
                exit(1)
            }
        }
    }
    println!("{} cards, allocator {ALLOCATOR}; rows:", texts.len());
    for row in ROWS {
        println!("  {row}");
    }
}
