//! Instruction counts of evaluation on pre-parsed cards, for callgrind: Vigil's `Session::evaluate` and the
//! shared floor's `check`, each over the same cards in its own never-inlined function, split into compliant
//! cards (no finding: the median card of the workload) and violating ones.
//!
//! ```sh
//! eval_profile DIR [PASSES]   # DIR holds docs.jsonl and expected.json (generate.py); PASSES default 1
//! valgrind --tool=callgrind --toggle-collect='eval_profile::vigil_compliant' target/release/eval_profile DIR
//! valgrind --tool=callgrind --toggle-collect='eval_profile::floor_compliant' target/release/eval_profile DIR
//! ```
//!
//! `compare` mixes both kinds of card, and a violating card's first finding builds the location index (in
//! the loaders), which hides what the evaluator itself costs on the cards that decide the median. Every card
//! is evaluated once before the counted passes, so the field positions Vigil remembers are warm, as in
//! `compare`'s warm-up.

use std::hint::black_box;
use std::path::PathBuf;

use vigil_bench::engines::{Contender, Format, Parsed, VigilEngine};
use vigil_bench::floor::FloorEngine;
use vigil_bench::workload::Workload;

// Four functions, so callgrind can count each apart; the marker keeps the linker from folding them into one.
#[inline(never)]
fn vigil_compliant(engine: &mut VigilEngine, cards: &[Parsed]) -> usize {
    cards.iter().map(|c| engine.run(black_box(c))).sum::<usize>() + black_box(0)
}

#[inline(never)]
fn vigil_violating(engine: &mut VigilEngine, cards: &[Parsed]) -> usize {
    cards.iter().map(|c| engine.run(black_box(c))).sum::<usize>() + black_box(1) - 1
}

#[inline(never)]
fn floor_compliant(engine: &mut FloorEngine, cards: &[Parsed]) -> usize {
    cards.iter().map(|c| engine.run(black_box(c))).sum::<usize>() + black_box(2) - 2
}

#[inline(never)]
fn floor_violating(engine: &mut FloorEngine, cards: &[Parsed]) -> usize {
    cards.iter().map(|c| engine.run(black_box(c))).sum::<usize>() + black_box(3) - 3
}

/// Every card once, outside the counted functions.
#[inline(never)]
fn warm(engine: &mut dyn Contender, cards: &[Parsed]) -> usize {
    cards.iter().map(|c| engine.run(c)).sum()
}

fn fail(message: String) -> ! {
    eprintln!("eval_profile: {message}");
    std::process::exit(2)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| fail("usage: eval_profile DIR [PASSES]".into())));
    let passes: usize = args.next().and_then(|p| p.parse().ok()).unwrap_or(1);
    let work = Workload::read(&dir, false).unwrap_or_else(|e| fail(e));
    let mut vigil = VigilEngine::new("modelcard.policy", vigil_bench::WORKLOAD_POLICY).unwrap_or_else(|e| fail(e));
    let mut floor = FloorEngine::new().unwrap_or_else(|e| fail(e));
    let (mut vc, mut vv, mut fc, mut fv) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, text) in work.json.iter().enumerate() {
        let name = format!("doc-{i:05}.json");
        let v = vigil.parse(&name, text, Format::Json).unwrap_or_else(|e| fail(e));
        let f = floor.parse(&name, text, Format::Json).unwrap_or_else(|e| fail(e));
        if work.expected.rules_per_doc[i].is_empty() {
            vc.push(v);
            fc.push(f);
        } else {
            vv.push(v);
            fv.push(f);
        }
    }
    // Warm-up: every card once (remembered field positions, location indexes of violating cards).
    let warm = (warm(&mut vigil, &vc), warm(&mut vigil, &vv), warm(&mut floor, &fc));
    if warm.0 != 0 || warm.2 != 0 {
        fail(format!("{} findings and {} records on cards expected to comply", warm.0, warm.2));
    }
    black_box(warm.1);
    let (mut findings, mut records) = (0, 0);
    for _ in 0..passes {
        findings += vigil_compliant(&mut vigil, &vc) + vigil_violating(&mut vigil, &vv);
        records += floor_compliant(&mut floor, &fc) + floor_violating(&mut floor, &fv);
    }
    println!(
        "{} compliant and {} violating cards, {passes} pass(es): Vigil {findings} findings, floor {records} records",
        vc.len(),
        vv.len()
    );
}
