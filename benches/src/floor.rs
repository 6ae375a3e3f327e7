//! The shared hand-written floor (`native_floor.rs` beside the workload) as a contender: the ten rules in plain
//! Rust over `serde_json::Value` with byte-level hex checks and nothing allocated unless a record is produced.
//! It is the physical limit the issue measures evaluation against, next to this crate's own baseline
//! ([`crate::baseline`], which mirrors every Rego corner case and uses `regex`).
//!
//! The file is compiled in when the build finds it (see `build.rs`); otherwise [`FloorEngine::new`] says why
//! and the harness leaves the row out.

use crate::engines::{Contender, Format, Parsed, Record};

#[cfg(vigil_floor)]
include!(concat!(env!("OUT_DIR"), "/native_floor_mod.rs"));

/// The floor's row label.
pub const FLOOR: &str = "floor (native_floor.rs)";

/// The floor, when it was compiled in.
pub struct FloorEngine {
    // Reused between cards like a caller of `check` would; cleared, never shrunk.
    #[cfg(vigil_floor)]
    out: Vec<native::Violation>,
}

impl FloorEngine {
    /// The floor, or why it is not part of this build.
    pub fn new() -> Result<FloorEngine, String> {
        #[cfg(vigil_floor)]
        return Ok(FloorEngine { out: Vec::new() });
        #[cfg(not(vigil_floor))]
        Err("no ../shared/bench/modelcard/native_floor.rs when vigil-bench was built (set VIGIL_BENCH_WORKLOAD \
             and rebuild)"
            .to_string())
    }

    #[cfg(vigil_floor)]
    fn check(&mut self, input: &Parsed) -> &[native::Violation] {
        let Parsed::Json(v) = input else { unreachable!("the floor is given serde_json values") };
        self.out.clear();
        native::check(v, &mut self.out);
        &self.out
    }
}

impl Contender for FloorEngine {
    fn name(&self) -> &'static str {
        FLOOR
    }
    /// serde_json for JSON, yaml_serde (as the baseline) for YAML.
    fn parse(&self, _: &str, text: &str, format: Format) -> Result<Parsed, String> {
        crate::engines::parse_serde(text, format)
    }
    fn run(&mut self, input: &Parsed) -> usize {
        #[cfg(vigil_floor)]
        return self.check(input).len();
        #[cfg(not(vigil_floor))]
        unreachable!("no floor in this build: {}", matches!(input, Parsed::Json(_)))
    }
    fn records(&mut self, input: &Parsed) -> Result<Vec<Record>, String> {
        #[cfg(vigil_floor)]
        return Ok(self.check(input).iter().map(|(r, m)| (r.to_string(), m.clone())).collect());
        #[cfg(not(vigil_floor))]
        Err(format!("no floor in this build: {}", matches!(input, Parsed::Json(_))))
    }
}
