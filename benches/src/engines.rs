//! The engines under comparison behind one interface, so the harness can time them in the same loop, rotate
//! their order, and check that they agree.
//!
//! Each engine parses text into its own value type ([`Parsed`]) and evaluates that. Timing loops call
//! [`Contender::run`], which does the whole evaluation (results included) and returns only a count, so no
//! engine pays for converting its results into a common form while being timed; [`Contender::records`] does
//! that conversion for the agreement checks.

use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::vm::RegoVM;

use crate::baseline::Baseline;

/// The query every Rego engine answers: the set of `{rule, message}` records.
pub const REGO_QUERY: &str = "data.modelcard.violations";

/// Input text formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON document.
    Json,
    /// One YAML document.
    Yaml,
}

impl Format {
    /// The file extension Vigil picks its parser by.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
        }
    }
}

/// A document parsed into one engine's value type.
pub enum Parsed {
    /// Vigil's document: data plus source spans for locations.
    Vigil(vigil::Document),
    /// regorus's value (both the interpreter and the RVM take it).
    Rego(regorus::Value),
    /// serde_json's value, for the hand-written baseline and the floor.
    Json(serde_json::Value),
    /// A card held by an engine in another process (OPA's driver), by its id there.
    Remote(usize),
}

/// One violation record in a common form: (rule id, message).
pub type Record = (String, String);

/// An engine in the comparison.
pub trait Contender {
    /// Its row label.
    fn name(&self) -> &'static str;
    /// Parses one document named `name` (used for its extension and in findings).
    fn parse(&self, name: &str, text: &str, format: Format) -> Result<Parsed, String>;
    /// Evaluates fully and returns the number of records.
    fn run(&mut self, input: &Parsed) -> usize;
    /// The time of one full evaluation. In-process engines are timed around [`Contender::run`]; an engine in
    /// another process reports its own time, so the round trip to it is not counted.
    fn measure(&mut self, input: &Parsed) -> std::time::Duration {
        let start = std::time::Instant::now();
        std::hint::black_box(self.run(input));
        start.elapsed()
    }
    /// Whether the engine only takes JSON text (it is left out of the YAML measurements).
    fn json_only(&self) -> bool {
        false
    }
    /// The records, for agreement checks.
    fn records(&mut self, input: &Parsed) -> Result<Vec<Record>, String>;
}

/// Every text parsed by every engine (`[engine][document]`), each named `doc-NNNNN.<ext>`; the first failure
/// names its engine.
pub fn parse_all(engines: &[Box<dyn Contender>], texts: &[String], format: Format) -> Result<Vec<Vec<Parsed>>, String> {
    engines
        .iter()
        .map(|e| {
            texts
                .iter()
                .enumerate()
                .map(|(i, t)| e.parse(&format!("doc-{i:05}.{}", format.extension()), t, format))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| format!("{} cannot parse: {err}", e.name()))
        })
        .collect()
}

/// Vigil with the workload's policy (or any policy text).
pub struct VigilEngine {
    session: vigil::Session,
}

impl VigilEngine {
    /// Compiles `policy` (named `name`) and opens a session with no other documents.
    pub fn new(name: &str, policy: &str) -> Result<VigilEngine, String> {
        let set = vigil::Engine::default().compile([(name, policy)]).map_err(|d| d.to_string())?;
        Ok(VigilEngine { session: set.session(&[]) })
    }
}

impl Contender for VigilEngine {
    fn name(&self) -> &'static str {
        "Vigil"
    }
    fn parse(&self, name: &str, text: &str, _: Format) -> Result<Parsed, String> {
        let mut docs = vigil::Document::from_str(name, text).map_err(|e| e.to_string())?;
        docs.truncate(1);
        docs.pop().map(Parsed::Vigil).ok_or_else(|| format!("{name}: no document"))
    }
    fn run(&mut self, input: &Parsed) -> usize {
        let Parsed::Vigil(doc) = input else { unreachable!("Vigil is given Vigil documents") };
        self.session.evaluate(doc).len()
    }
    fn records(&mut self, input: &Parsed) -> Result<Vec<Record>, String> {
        let Parsed::Vigil(doc) = input else { unreachable!("Vigil is given Vigil documents") };
        Ok(self.session.evaluate(doc).into_iter().map(|f| (f.rule.id.clone(), f.message)).collect())
    }
}

/// regorus's value parsers, shared by the interpreter and the RVM.
fn rego_parse(text: &str, format: Format) -> Result<Parsed, String> {
    let value = match format {
        Format::Json => regorus::Value::from_json_str(text),
        Format::Yaml => regorus::Value::from_yaml_str(text),
    };
    value.map(Parsed::Rego).map_err(|e| e.to_string())
}

fn rego_input(input: &Parsed) -> regorus::Value {
    let Parsed::Rego(v) = input else { unreachable!("regorus is given regorus values") };
    // With the `arc` feature a clone is a reference-count bump.
    v.clone()
}

/// The records of a `violations` set (undefined counts as empty).
fn rego_records(result: &regorus::Value) -> Result<Vec<Record>, String> {
    let set = match result {
        regorus::Value::Undefined => return Ok(Vec::new()),
        v => v.as_set().map_err(|e| format!("violations is not a set: {e}"))?,
    };
    let field = |o: &regorus::Value, k: &str| -> String {
        match &o[k] {
            regorus::Value::String(s) => s.to_string(),
            other => other.to_string(),
        }
    };
    Ok(set.iter().map(|r| (field(r, "rule"), field(r, "message"))).collect())
}

/// regorus's tree-walking interpreter, used the documented way: `set_input` then `eval_rule` per document.
pub struct RegorusEngine {
    engine: regorus::Engine,
}

impl RegorusEngine {
    /// Loads the Rego policy (Rego v1, regorus's default).
    pub fn new(policy: &str) -> Result<RegorusEngine, String> {
        let mut engine = regorus::Engine::new();
        engine.add_policy("modelcard.rego".to_string(), policy.to_string()).map_err(|e| e.to_string())?;
        Ok(RegorusEngine { engine })
    }

    fn eval(&mut self, input: &Parsed) -> Result<regorus::Value, String> {
        self.engine.set_input(rego_input(input));
        self.engine.eval_rule(REGO_QUERY.to_string()).map_err(|e| e.to_string())
    }
}

impl Contender for RegorusEngine {
    fn name(&self) -> &'static str {
        "regorus"
    }
    fn parse(&self, _: &str, text: &str, format: Format) -> Result<Parsed, String> {
        rego_parse(text, format)
    }
    fn run(&mut self, input: &Parsed) -> usize {
        match self.eval(input).expect("regorus evaluates") {
            regorus::Value::Set(s) => s.len(),
            _ => 0,
        }
    }
    fn records(&mut self, input: &Parsed) -> Result<Vec<Record>, String> {
        rego_records(&self.eval(input)?)
    }
}

/// regorus's register VM running the policy compiled once for the query's entry point.
pub struct RegorusVm {
    vm: RegoVM,
}

impl RegorusVm {
    /// Compiles the policy for the `violations` entry point and loads it into a VM reused for every document.
    pub fn new(policy: &str) -> Result<RegorusVm, String> {
        let mut engine = regorus::Engine::new();
        engine.add_policy("modelcard.rego".to_string(), policy.to_string()).map_err(|e| e.to_string())?;
        let compiled = engine.compile_with_entrypoint(&REGO_QUERY.into()).map_err(|e| e.to_string())?;
        let program = Compiler::compile_from_policy(&compiled, &[REGO_QUERY]).map_err(|e| e.to_string())?;
        let mut vm = RegoVM::new();
        // The default budget (25,000 instructions) stops a 1,000-rule policy or a 100,000-item document; the
        // interpreter has no such limit, so neither does the comparison.
        vm.set_max_instructions(usize::MAX);
        vm.load_program(program);
        Ok(RegorusVm { vm })
    }

    fn eval(&mut self, input: &Parsed) -> Result<regorus::Value, String> {
        self.vm.set_input(rego_input(input));
        self.vm.execute().map_err(|e| e.to_string())
    }
}

impl Contender for RegorusVm {
    fn name(&self) -> &'static str {
        "regorus RVM"
    }
    fn parse(&self, _: &str, text: &str, format: Format) -> Result<Parsed, String> {
        rego_parse(text, format)
    }
    fn run(&mut self, input: &Parsed) -> usize {
        match self.eval(input).expect("regorus RVM evaluates") {
            regorus::Value::Set(s) => s.len(),
            _ => 0,
        }
    }
    fn records(&mut self, input: &Parsed) -> Result<Vec<Record>, String> {
        rego_records(&self.eval(input)?)
    }
}

/// The hand-written baseline over serde_json (YAML through yaml_serde, the parser regorus uses).
#[derive(Default)]
pub struct BaselineEngine {
    rules: Baseline,
}

impl Contender for BaselineEngine {
    fn name(&self) -> &'static str {
        "baseline (hand-written Rust)"
    }
    fn parse(&self, _: &str, text: &str, format: Format) -> Result<Parsed, String> {
        parse_serde(text, format)
    }
    fn run(&mut self, input: &Parsed) -> usize {
        let Parsed::Json(v) = input else { unreachable!("the baseline is given serde_json values") };
        self.rules.evaluate(v).len()
    }
    fn records(&mut self, input: &Parsed) -> Result<Vec<Record>, String> {
        let Parsed::Json(v) = input else { unreachable!("the baseline is given serde_json values") };
        Ok(self.rules.evaluate(v).into_iter().map(|r| (r.rule.to_string(), r.message)).collect())
    }
}

/// The optional contenders, after the four of [`modelcard_contenders`]: the shared floor and OPA, each when
/// available here. Returns them with a note for each one left out.
pub fn optional_contenders(rego_path: &std::path::Path) -> (Vec<Box<dyn Contender>>, Vec<String>) {
    let mut engines: Vec<Box<dyn Contender>> = Vec::new();
    let mut notes = Vec::new();
    match crate::floor::FloorEngine::new() {
        Ok(f) => engines.push(Box::new(f)),
        Err(why) => notes.push(format!("floor row left out: {why}")),
    }
    if std::env::var_os("VIGIL_BENCH_NO_OPA").is_some() {
        notes.push("OPA row left out: VIGIL_BENCH_NO_OPA is set".to_string());
    } else {
        match crate::opa::OpaEngine::start(rego_path) {
            Ok(o) => engines.push(Box::new(o)),
            Err(why) => notes.push(format!("OPA row left out: {why}")),
        }
    }
    (engines, notes)
}

/// All four contenders for the model-card workload, in table order, with each one's compile step.
pub fn modelcard_contenders(vigil_policy: &str, rego: &str) -> Result<Vec<Box<dyn Contender>>, String> {
    Ok(vec![
        Box::new(VigilEngine::new("modelcard.policy", vigil_policy)?),
        Box::new(RegorusEngine::new(rego)?),
        Box::new(RegorusVm::new(rego)?),
        Box::new(BaselineEngine::default()),
    ])
}

/// serde_json for JSON, yaml_serde (the YAML crate regorus uses) for YAML: how the baseline and the floor read
/// their input.
pub(crate) fn parse_serde(text: &str, format: Format) -> Result<Parsed, String> {
    let value = match format {
        Format::Json => serde_json::from_str(text).map_err(|e| e.to_string()),
        Format::Yaml => yaml_serde::from_str(text).map_err(|e| e.to_string()),
    };
    value.map(Parsed::Json)
}
