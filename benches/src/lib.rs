//! Shared pieces of Vigil's benchmarks: a deterministic generator of model-card documents shaped like the
//! shared benchmark workload (`../shared/bench/modelcard`), and helpers to write them out; and the pieces of
//! the side-by-side comparison with regorus (`src/bin/compare.rs`, `tests/conformance.rs`).

pub mod baseline;
pub mod engines;
pub mod floor;
pub mod measure;
pub mod opa;
pub mod scaling;
pub mod workload;
pub mod yaml_parsers;

use std::fmt::Write as _;
use std::path::Path;

/// The regorus release the comparison runs (kept equal to Cargo.lock by a test).
pub const REGORUS_VERSION: &str = "0.14.1";

/// The allocator the harness binaries run under: mimalloc (as the `policy` binary) with the `mimalloc`
/// feature, the system allocator without it.
pub const ALLOCATOR: &str = if cfg!(feature = "mimalloc") { "mimalloc" } else { "system" };

/// A small deterministic PRNG (xorshift64*): the same seed gives the same documents on every machine.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (0 is replaced by a constant).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// One of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// `n` lowercase hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from_digit(self.below(16) as u32, 16).unwrap_or('0')).collect()
    }
}

/// A model card in the workload's shape, as YAML; about 30 % break one of the ten rules.
pub fn model_card_yaml(rng: &mut Rng, i: usize) -> String {
    let orgs = ["meta-llama", "mistralai", "google", "microsoft", "our-org"];
    let broken = rng.below(10) < 3;
    let mut y = String::new();
    let license = if broken && rng.below(3) == 0 { "gpl-3.0" } else { rng.pick(&["apache-2.0", "mit", "llama3.1"]) };
    let _ = writeln!(y, "kind: ModelCard\nname: our-org/model-{i:05}\nlicense: {license}");
    let revision = if broken && rng.below(3) == 0 { "main".to_string() } else { rng.hex(40) };
    let _ = writeln!(y, "base_model:\n  name: {}/base-{}\n  revision: {revision}", rng.pick(&orgs), rng.below(9));
    y.push_str("artifacts:\n");
    let artifacts = 1 + rng.below(8);
    for k in 0..artifacts {
        let format = if broken && k == 0 && rng.below(2) == 0 { "pickle" } else { "safetensors" };
        let _ = writeln!(
            y,
            "- path: model-{:05}-of-{artifacts:05}.safetensors\n  format: {format}\n  sha256: {}\n  size: {}",
            k + 1,
            rng.hex(64),
            1_000_000 + rng.below(9_000_000_000)
        );
    }
    y.push_str("datasets:\n");
    for _ in 0..1 + rng.below(5) {
        let pii = rng.below(4) == 0;
        let name = format!("{}-corpus-{}", rng.pick(&["web", "code", "math", "dialog", "legal"]), rng.below(999));
        let _ = writeln!(
            y,
            "- name: {name}\n  source: s3://approved-data/{name}/v{}/\n  sha256: {}\n  license: cc-by-4.0\n  contains_pii: {pii}\n  processing:\n  - dedup\n{}",
            1 + rng.below(9),
            rng.hex(64),
            if pii { "  - pii_redaction" } else { "  - language_filter" }
        );
    }
    let risk = rng.pick(&["high", "limited", "minimal"]);
    let _ = writeln!(
        y,
        "evaluation:\n  date: '2026-0{}-1{}'\n  metrics:\n  - name: accuracy\n    value: 0.{}\n  - name: bias_gap\n    value: 0.0{}",
        1 + rng.below(9),
        rng.below(9),
        600 + rng.below(399),
        rng.below(5)
    );
    let _ = writeln!(
        y,
        "intended_use: Internal document summarization for support agents.\nlimitations: Not evaluated on languages other than English.\nrisk_level: {risk}\nhuman_oversight:\n  required: true\n  contact: ml-risk@example.com"
    );
    y
}

/// Writes `count` generated model cards as `dir/doc-NNNNN.yaml`.
pub fn write_model_cards(dir: &Path, count: usize, seed: u64) -> std::io::Result<()> {
    let mut rng = Rng::new(seed);
    for i in 0..count {
        std::fs::write(dir.join(format!("doc-{i:05}.yaml")), model_card_yaml(&mut rng, i))?;
    }
    Ok(())
}

/// The workload's ten rules in Vigil (`benches/workloads/modelcard.policy`).
pub const WORKLOAD_POLICY: &str = include_str!("../workloads/modelcard.policy");

/// The workload policy's path, for `--policy`.
pub fn workload_policy_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/modelcard.policy")
}
