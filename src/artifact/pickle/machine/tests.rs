//! The symbolic machine: garbage collection between opcodes, the table of globals.

use super::*;

/// Run `bytes` through a machine whose collector starts at `gc_min`;
/// the report and the largest arena weight seen between opcodes.
fn run(bytes: &[u8], gc_min: usize) -> (PickleReport, usize) {
    let limits = ArtifactLimits::default();
    let mut m = Machine::new(&limits, PickleReport::default());
    m.gc_min = gc_min;
    m.gc_at = gc_min;
    let mut r = ByteReader::memory(bytes);
    let mut scratch = Vec::new();
    let mut peak = 0usize;
    while let Ok(Next::Op(_)) = m.next(&mut r, &mut scratch) {
        peak = peak.max(m.arena.weight());
    }
    (m.finish(), peak)
}

/// Garbage (tuples and strings popped right away) between a memoized
/// STACK_GLOBAL operand and its use.
fn garbage_between(rounds: usize) -> Vec<u8> {
    let mut v = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94(".to_vec();
    for i in 0..rounds {
        v.extend_from_slice(b"\x8c\x03abcK\x01\x86\x850");
        if i % 100 == 0 {
            v.extend_from_slice(b"}\x94(\x8c\x01kK\x02u0");
        }
    }
    v.extend_from_slice(b"1h\x00h\x01\x93)R.");
    v
}

#[test]
fn garbage_is_collected_and_live_values_survive() {
    let bytes = garbage_between(5_000);
    let (with_gc, peak) = run(&bytes, 256);
    let (without, peak_without) = run(&bytes, usize::MAX);
    assert!(peak < 2_000, "arena grew to {peak}");
    assert!(peak_without > 15_000, "{peak_without}");
    assert_eq!(with_gc.globals, without.globals);
    assert_eq!(with_gc.globals.len(), 1);
    assert_eq!((with_gc.globals[0].module.as_str(), with_gc.globals[0].name.as_str()), ("os", "system"));
    assert_eq!(with_gc.errors, without.errors);
    assert!(with_gc.errors.is_empty(), "{:?}", with_gc.errors);
}

#[test]
fn many_globals_are_indexed_and_deduplicated() {
    let mut v = Vec::new();
    for round in 0..2 {
        for i in 0..40 {
            v.extend_from_slice(format!("cmod{i}\nf{round}\n0cmod{i}\nf{round}\n0").as_bytes());
        }
    }
    v.push(b'.');
    let limits = ArtifactLimits::default();
    let rep = scan(&mut ByteReader::memory(&v), &limits, ScanOptions::default());
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    assert_eq!(rep.globals.len(), 80);
    let names: Vec<String> = rep.globals.iter().map(|g| format!("{}.{}", g.module, g.name)).collect();
    assert_eq!(names[0], "mod0.f0");
    assert_eq!(names[39], "mod39.f0");
    assert_eq!(names[40], "mod0.f1");
    // The second import of each is the same global, found again.
    assert!(rep.globals.iter().all(|g| g.opcode == "GLOBAL"));
    // Each global keeps the offset of its first import.
    let first = v.windows(9).position(|w| w == b"cmod1\nf1\n").and_then(|i| u64::try_from(i).ok());
    assert_eq!(Some(rep.globals[41].offset), first);
}
