//! Property tests of the parsers: valid inputs, damaged at random (bytes flipped, cut, duplicated,
//! spliced), must load or fail with an error — never panic — and a finding or an error must come out of every
//! policy check. Deterministic (a fixed seed), so a failure reproduces; `fuzz/` has coverage-guided targets
//! for longer runs.

use vigil::unstable::input::LoadOptions;
use vigil::{Document, Engine};

/// xorshift64*: deterministic randomness without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A damaged copy of `seed`: a few random edits of the kinds that break parsers.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    // The last three are multibyte characters, so that byte offsets inside them get exercised (a "did you
    // mean" once sliced into one): é (two bytes), U+0F70 (three, not a word character) before a word, 😀.
    const INTERESTING: &[&[u8]] = &[
        b"\n",
        b"---\n",
        b"{",
        b"[",
        b"\"",
        b"'",
        b"&a ",
        b"*a",
        b"<<: ",
        b"!!",
        b"\\",
        b":",
        b"- ",
        b"\t",
        b"\x00",
        b"\xff",
        b"]]]",
        b"}}}",
        b"#",
        b"\xc3\xa9",
        b"\xe0\xbd\xb0x",
        b"\xf0\x9f\x98\x80",
    ];
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(5) {
            0 if !bytes.is_empty() => {
                let i = at.min(bytes.len() - 1);
                bytes[i] ^= 1 << rng.below(8);
            }
            1 => bytes.truncate(at),
            2 => {
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                bytes.splice(at..at, piece.iter().copied());
            }
            3 if !bytes.is_empty() => {
                let from = rng.below(bytes.len());
                let len = rng.below(bytes.len() - from).min(64);
                let chunk: Vec<u8> = bytes[from..from + len].to_vec();
                bytes.splice(at..at, chunk);
            }
            _ => {
                let end = (at + rng.below(16)).min(bytes.len());
                bytes.drain(at..end);
            }
        }
    }
    bytes
}

const YAML: &str = "kind: ModelCard\nlicense: mit\nbase: &b\n  name: x\nother:\n  <<: *b\n  list: [1, 2.5, \"s\", {a: b}]\nblock: |\n  text\n";
const JSON: &str = r#"{"bomFormat": "CycloneDX", "components": [{"name": "m", "hashes": [{"alg": "SHA-256", "content": "ab"}]}], "n": -1.5e3}"#;
const TOML: &str = "kind = \"ModelCard\"\n[table]\nlist = [1, 2]\ndate = 2026-01-01\n[[arr]]\nx = 'y'\n";
const MARKDOWN: &str = "---\nlicense: mit\ndatasets: [a]\n---\n# Model\n## Uses\nText.\n```\ncode\n```\n### Direct Use\n[More Information Needed]\n";
const POLICY: &str = "package p\nparam allowed = [\"mit\"]\nfn org(x) = split(x, \"/\")[0]\n/// doc\nrule \"P-1\" {\n  title = \"t\"\n  severity = high\n  applies_to = [ModelCard, MLBom]\n  for i, a in input.artifacts ?? [] where a.format != \"x\" {\n    require a.path matches /^[a-z]+$/i else \"{a.path} {i}\" at a.path\n  }\n  require all(x in [1, 2]: x > 0) and count(y in input.list ?? []) < 3 or input.license in allowed\n  forbid org(input.name ?? \"a/b\") == \"evil\"\n}\n";

#[test]
fn damaged_inputs_load_or_fail_cleanly() {
    let policies = Engine::default().compile([("p.policy", POLICY)]).expect("valid policy");
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let seeds: [(&str, &str); 4] = [("in.yaml", YAML), ("in.json", JSON), ("in.toml", TOML), ("README.md", MARKDOWN)];
    let mut loaded = 0;
    for round in 0..3000 {
        let (name, seed) = seeds[round % seeds.len()];
        let bytes = mutate(&mut rng, seed.as_bytes());
        let Ok(text) = String::from_utf8(bytes) else { continue };
        if let Ok(docs) = Document::from_str(name, &text) {
            loaded += 1;
            // Whatever loaded can be evaluated and located without panicking.
            let report = policies.evaluate(&docs);
            for f in &report.findings {
                let _ = (f.line_col(), f.pointer(), f.span());
            }
        }
    }
    assert!(loaded > 300, "most light damage still loads ({loaded} did)");
}

#[test]
fn damaged_policies_compile_or_fail_cleanly() {
    let mut rng = Rng(0x5eed_1234_abcd_0002);
    let mut compiled = 0;
    for _ in 0..2000 {
        let bytes = mutate(&mut rng, POLICY.as_bytes());
        let Ok(text) = String::from_utf8(bytes) else { continue };
        match Engine::default().compile([("p.policy", text.as_str())]) {
            Ok(_) => compiled += 1,
            Err(errors) => {
                for d in errors.iter() {
                    assert!(!d.message.is_empty());
                    assert!(d.span.end as usize <= text.len(), "spans stay inside the file: {d:?}");
                }
            }
        }
    }
    assert!(compiled > 0, "some mutations keep the policy valid");
}

#[test]
fn damaged_model_files_are_inspected_cleanly() {
    let mut rng = Rng(0x5eed_1234_abcd_0003);
    let seeds: [&[u8]; 3] = [
        b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03.",
        b"(dp0\nS'a'\np1\nI1\nsS'b'\np2\n(lp3\nF1.5\naVtext\np4\nas.",
        b"\x40\x00\x00\x00\x00\x00\x00\x00{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}                \x00\x00\x00\x00\x00\x00\x00\x00",
    ];
    let options = LoadOptions::default();
    for round in 0..3000 {
        let bytes = mutate(&mut rng, seeds[round % seeds.len()]);
        let doc = Document::from_artifact_bytes("m.bin", &bytes, &options);
        assert!(doc.data().get("format").is_some(), "every file gets a document");
    }
}
