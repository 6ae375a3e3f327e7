//! The public entry points: an [`Engine`] compiles policies into a [`PolicySet`], which evaluates documents.
//!
//! ```
//! use vigil::{Document, Engine};
//!
//! let policy = r#"
//! package example
//!
//! rule "EX-001" {
//!   title = "License is declared"
//!   severity = high
//!   applies_to = ModelCard
//!   require input.license in ["mit", "apache-2.0"] else "license `{input.license}` is not allowed"
//! }
//! "#;
//! let engine = Engine::builder().build();
//! let policies = engine.compile([("example.policy", policy)]).unwrap();
//! let docs = Document::from_str("card.yaml", "kind: ModelCard\nlicense: gpl-3.0\n").unwrap();
//! let report = policies.evaluate(&docs);
//! assert_eq!(report.findings.len(), 1);
//! assert_eq!(report.findings[0].message, "license `gpl-3.0` is not allowed");
//! assert_eq!(report.findings[0].line_col(), Some((2, 10)));
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic, Diagnostics, suggestion};
use crate::eval::{Eval, Finding, World, run_rules, run_rules_covered};
use crate::functions::{CallContext, Function, Registry, Ty};
use crate::input::{Document, Kind};
use crate::ir::{Expr, Program, RuleInfo};
use crate::report::Report;
use crate::settings::{RuleSettings, RuleTable};
use crate::source::{Source, Span};
use crate::value::Value;

/// Builds an [`Engine`]: host functions, parameter values, the clock and limits.
#[derive(Default)]
pub struct EngineBuilder {
    registry: Registry,
    params: Vec<(String, Value)>,
    now: Option<jiff::Timestamp>,
    max_steps: Option<u64>,
    plugin_options: crate::plugins::PluginOptions,
    plugin_scopes: crate::plugins::Scopes,
    schemas: Vec<(Kind, Arc<crate::schema::SchemaDoc>)>,
}

impl EngineBuilder {
    /// Adds a JSON Schema for the data of documents of `kind`, named `name` in messages (its path). Policies
    /// that read a member no schema of their rule's kinds allows get a warning (`vigil::unknown-path`); a
    /// schema added here is an alternative to the built-in one, so it can only allow more.
    pub fn schema(self, kind: Kind, name: &str, text: &str) -> Result<EngineBuilder, String> {
        let doc = crate::schema::parse_user(name, text)?;
        Ok(self.schema_doc(kind, Arc::new(doc)))
    }

    /// Adds a parsed schema (the language server parses them once).
    pub(crate) fn schema_doc(mut self, kind: Kind, doc: Arc<crate::schema::SchemaDoc>) -> EngineBuilder {
        self.schemas.push((kind, doc));
        self
    }

    /// How plugins are loaded: limits per call, the unpinned opt-in, digest pins, the compile cache. Set it
    /// before [`EngineBuilder::plugin`]; it also applies to plugins the policies import.
    pub fn plugin_options(mut self, options: crate::plugins::PluginOptions) -> EngineBuilder {
        self.plugin_options = options;
        self
    }

    /// Loads a WASM plugin from bytes or a path; policies call its functions as `alias.function(...)`
    /// without importing it. Its functions join the registry like host functions.
    ///
    /// ```no_run
    /// use vigil::Engine;
    /// use vigil::PluginSource;
    /// let source = PluginSource::file("secrets.wasm").sha256("…");
    /// let engine = Engine::builder().plugin("secrets", source)?.build();
    /// # Ok::<(), vigil::PluginError>(())
    /// ```
    #[cfg(feature = "plugins")]
    pub fn plugin(
        mut self,
        alias: &str,
        source: crate::plugins::PluginSource,
    ) -> Result<EngineBuilder, crate::plugins::PluginError> {
        let plugin = crate::plugins::Plugin::load(&source, &self.plugin_options)?;
        let owner: Arc<str> = format!("{alias} ({})", plugin.label()).into();
        for function in plugin.functions(alias) {
            let id = self.registry.register(function);
            self.plugin_scopes.owners.insert(id, owner.clone());
        }
        Ok(self)
    }

    /// Adds a host function that policies can call, checked like a builtin.
    pub fn function(mut self, function: Function) -> EngineBuilder {
        self.registry.register(function);
        self
    }

    /// Overrides a `param`, by its name (`trusted_orgs`) or qualified name (`model_card.trusted_orgs`).
    pub fn param(mut self, name: impl Into<String>, value: Value) -> EngineBuilder {
        self.params.push((name.into(), value));
        self
    }

    /// Pins "now" for date builtins, so results are reproducible.
    pub fn now(mut self, now: jiff::Timestamp) -> EngineBuilder {
        self.now = Some(now);
        self
    }

    /// Steps (loop iterations and function calls) one rule may take on one document.
    pub fn max_steps(mut self, steps: u64) -> EngineBuilder {
        self.max_steps = Some(steps);
        self
    }

    /// The engine.
    pub fn build(self) -> Engine {
        Engine {
            registry: Arc::new(self.registry),
            params: self.params,
            now: self.now,
            max_steps: self.max_steps.unwrap_or(crate::eval::DEFAULT_MAX_STEPS),
            plugin_options: self.plugin_options,
            plugin_scopes: self.plugin_scopes,
            schemas: self.schemas,
        }
    }
}

/// Compiles policy sources. Cheap to keep around; compile once, evaluate many times.
pub struct Engine {
    registry: Arc<Registry>,
    params: Vec<(String, Value)>,
    now: Option<jiff::Timestamp>,
    max_steps: u64,
    plugin_options: crate::plugins::PluginOptions,
    plugin_scopes: crate::plugins::Scopes,
    schemas: Vec<(Kind, Arc<crate::schema::SchemaDoc>)>,
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::builder().build()
    }
}

impl Engine {
    /// Starts building an engine.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// The functions policies may call.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Parses, checks and compiles policy sources given as `(name, text)`. Every problem is reported.
    pub fn compile<N, T>(&self, sources: impl IntoIterator<Item = (N, T)>) -> Result<PolicySet, Diagnostics>
    where
        N: Into<Arc<str>>,
        T: Into<Arc<str>>,
    {
        use rayon::prelude::*;
        let sources: Vec<Arc<Source>> = sources.into_iter().map(|(name, text)| Source::new(name, text)).collect();
        // Bundled policies come parsed from the build; the others parse in parallel, then everything is
        // put back in the order given.
        let names: Vec<(&str, &str)> = sources.iter().map(|s| (s.name(), s.text())).collect();
        let prebuilt = crate::bundled::trees_for(&names);
        let parsed: Vec<_> = sources
            .par_iter()
            .zip(prebuilt)
            .map(|(source, tree)| {
                let bundled = tree.is_some();
                (source.clone(), bundled, tree.map_or_else(|| crate::syntax::parse(source), Ok))
            })
            .collect();
        let mut errors = Vec::new();
        let mut files = Vec::new();
        // The bundled packs' regexes are built on first use (the test suite builds every one of them).
        let mut lazy_regexes = Vec::new();
        for (source, bundled, result) in parsed {
            match result {
                Ok(file) => {
                    files.push((source, file));
                    lazy_regexes.push(bundled);
                }
                Err(e) => errors.extend(e),
            }
        }
        // Plugin imports extend a copy of the registry; a policy set without them shares the engine's.
        let mut scopes = self.plugin_scopes.clone();
        let mut registry = self.registry.clone();
        if files.iter().any(|(_, f)| f.items.iter().any(|i| matches!(i, crate::syntax::ast::Item::Import(_)))) {
            let registry = Arc::make_mut(&mut registry);
            let problems = crate::plugins::resolve(&files, &self.plugin_options, registry, &mut scopes);
            // Without its plugin, every call into it would be reported again: the import errors say it all.
            if !problems.is_empty() {
                errors.extend(problems);
                return Err(Diagnostics::from_vec(errors).expect("import problems were just added"));
            }
        }
        // The bundled packs are read without warnings (a test holds them to it), so only the others are linted.
        let warnings = {
            let linted: Vec<_> = files
                .iter()
                .zip(&lazy_regexes)
                .filter(|(_, bundled)| !**bundled)
                .map(|((s, f), _)| (s.clone(), f))
                .collect();
            if linted.is_empty() {
                Vec::new()
            } else {
                crate::schema::lint(&linted, &crate::schema::Schemas::with(&self.schemas), false).0
            }
        };
        let program = match crate::check::check(files, lazy_regexes, &registry, &scopes) {
            Ok(program) if errors.is_empty() => program,
            Ok(_) => return Err(Diagnostics::from_vec(errors).expect("errors were found")),
            Err(e) => {
                errors.extend(e);
                return Err(Diagnostics::from_vec(errors).expect("errors were found"));
            }
        };
        let program = self.evaluate_constants(program, &registry)?;
        Ok(PolicySet {
            table: RuleTable::defaults(&program),
            plugins: !scopes.owners.is_empty(),
            program: Arc::new(program),
            registry,
            now: self.now,
            max_steps: self.max_steps,
            digest: Arc::default(),
            warnings: Arc::new(warnings),
        })
    }

    /// Computes every `const` and `param` (with overrides), then turns membership tests against constant
    /// arrays into hash-set lookups.
    fn evaluate_constants(&self, mut program: Program, registry: &Registry) -> Result<Program, Diagnostics> {
        let mut errors = Vec::new();
        let mut used = vec![false; self.params.len()];
        let cx = CallContext { now: self.now.unwrap_or_else(jiff::Timestamp::now) };
        let world = World::default();
        let mut consts = std::mem::take(&mut program.consts);
        for init in &program.const_inits {
            let computed = {
                let mut ev = Eval::new(&program, &consts, registry, &world, cx);
                ev.max_steps = self.max_steps;
                ev.reset_frame(init.locals);
                ev.eval(init.value).map(|v| v.into_owned()).map_err(|f| f.message(&program))
            };
            let source = &program.sources[init.origin.source as usize];
            let mut value = match computed {
                Ok(v) => v,
                Err(message) => {
                    errors.push(Diagnostic::new(
                        Code::Const,
                        source,
                        init.origin.span,
                        format!("cannot compute this value: {message}"),
                    ));
                    continue;
                }
            };
            if let Some(qualified) = &init.param {
                let short = qualified.rsplit('.').next().unwrap_or(qualified);
                for (i, (name, over)) in self.params.iter().enumerate() {
                    if name != qualified && name != short {
                        continue;
                    }
                    used[i] = true;
                    if Ty::of(over).disjoint(Ty::of(&value)) && !value.is_null() {
                        let message = format!(
                            "parameter `{name}` must be {}, like its default, but is given {}",
                            Ty::of(&value),
                            Ty::of(over)
                        );
                        errors.push(Diagnostic::new(Code::Param, source, init.origin.span, message));
                    } else {
                        value = over.clone();
                    }
                }
            }
            consts[init.slot as usize] = value;
        }
        let declared: Vec<&str> = program.const_inits.iter().filter_map(|i| i.param.as_deref()).collect();
        for (i, (name, _)) in self.params.iter().enumerate() {
            if !used[i] {
                let text = format!("--param {name}=...");
                let source = Source::new("<parameters>", text.clone());
                let shorts = declared.iter().map(|q| q.rsplit('.').next().unwrap_or(q));
                let help = suggestion(name, declared.iter().copied().chain(shorts)).or_else(|| {
                    Some(format!(
                        "declared parameters: {}",
                        if declared.is_empty() { "none".into() } else { declared.join(", ") }
                    ))
                });
                let d = Diagnostic::new(
                    Code::Param,
                    &source,
                    Span::new(8, 8 + name.len()),
                    format!("no policy declares a parameter `{name}`"),
                )
                .with_help_opt(help);
                errors.push(d);
            }
        }
        program.consts = consts;
        crate::optimise::optimise(&mut program, registry, cx, self.max_steps);
        Diagnostics::from_vec(errors).map_or(Ok(program), Err)
    }
}

/// SHA-256 over every policy file's name and text, in order: identifies the exact policy set of a run.
fn policy_digest(sources: &[Arc<Source>]) -> Arc<str> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for source in sources {
        for part in [source.name(), source.text()] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
    }
    crate::hex::encode(&hasher.finalize()).into()
}

/// Compiled policies: immutable, `Send + Sync`, shareable across threads.
#[derive(Clone)]
pub struct PolicySet {
    pub(crate) program: Arc<Program>,
    registry: Arc<Registry>,
    now: Option<jiff::Timestamp>,
    max_steps: u64,
    table: Arc<RuleTable>,
    /// Some rule may call a plugin: each document then starts with fresh plugin instances.
    plugins: bool,
    /// Computed on first use: only the audit log needs it, and hashing every bundled pack costs a sixth of
    /// a cold start.
    digest: Arc<std::sync::OnceLock<Arc<str>>>,
    /// Problems that do not stop the policies from running (`Code::is_warning`).
    warnings: Arc<Vec<Diagnostic>>,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PolicySet({} rules)", self.program.rules.len())
    }
}

impl PolicySet {
    /// The rules, in the order they were written.
    pub fn rules(&self) -> impl Iterator<Item = &Arc<RuleInfo>> {
        self.program.rules.iter().map(|r| &r.info)
    }

    /// The same policies with rules switched off or on, or their severity changed (configuration and
    /// profiles). Fails with [`Error::Settings`](crate::Error::Settings) when a pattern matches no loaded rule.
    pub fn with_settings(&self, settings: &RuleSettings) -> Result<PolicySet, crate::Error> {
        let table = RuleTable::with(&self.program, settings).map_err(crate::Error::Settings)?;
        Ok(PolicySet { table, ..self.clone() })
    }

    /// Warnings found while compiling: paths the input schemas do not allow (`vigil::unknown-path`). Empty
    /// for the bundled packs.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// SHA-256 of the policy sources (names and texts, in order), for the audit log.
    pub fn digest(&self) -> &str {
        self.digest.get_or_init(|| policy_digest(&self.program.sources))
    }

    /// The policy files of the set, in order: each one's name (path as given, or the bundled pack's name)
    /// and text. Attestations record each file's digest.
    pub(crate) fn sources(&self) -> impl Iterator<Item = (&str, &str)> {
        self.program.sources.iter().map(|s| (s.name(), s.text()))
    }

    /// The moment "now" for date rules: pinned by the builder, else the clock.
    pub fn now(&self) -> jiff::Timestamp {
        self.now.unwrap_or_else(jiff::Timestamp::now)
    }

    /// Whether the rule with this id runs under the current settings.
    pub fn is_enabled(&self, id: &str) -> bool {
        self.program.rules.iter().zip(&self.table.enabled).any(|(r, on)| *on && r.info.id == id)
    }

    /// How many rules apply to documents of `kind`.
    pub fn rules_for(&self, kind: Kind) -> usize {
        self.program.by_kind[kind as usize].len()
    }

    /// Whether some rule reads other documents (`documents(...)`), so all inputs must be evaluated together.
    pub fn cross_document(&self) -> bool {
        self.program.exprs.iter().any(|e| matches!(e, Expr::Documents(_)))
    }

    /// Finds, loads and evaluates the files and folders of `options` in parallel (on rayon's global pool,
    /// or the pool this is called in), as `policy check` does; input problems are in the report.
    pub fn check(&self, options: &crate::CheckOptions) -> Report {
        crate::pipeline::check(self, options)
    }

    /// Evaluates every document; `documents(...)` sees all of them.
    pub fn evaluate(&self, documents: &[Document]) -> Report {
        let session = self.session(documents);
        let mut report = Report::default();
        let mut files = std::collections::HashSet::new();
        for doc in documents {
            report.findings.extend(session.evaluate(doc).into_iter().map(crate::report::Reported::from));
            report.count_document(doc);
            if files.insert(doc.name()) {
                report.inputs.push(crate::report::InputRecord { path: doc.name().to_string(), sha256: None });
            }
        }
        report.files = files.len();
        report
    }

    /// Every check of the set (`require`, `forbid`, `when`, `for ... where`) with the counts in `hits`.
    #[doc(hidden)]
    pub fn coverage(&self, hits: &crate::eval::cover::Hits) -> Vec<crate::eval::cover::CheckSite> {
        crate::eval::cover::sites(&self.program, hits)
    }

    /// A session evaluates documents one at a time against a fixed set of others (for `documents(...)`).
    pub fn session(&self, documents: &[Document]) -> Session {
        Session {
            policies: self.clone(),
            world: Arc::new(World::new(&self.program, documents)),
            cx: CallContext { now: self.now() },
        }
    }
}

/// Evaluates documents against a policy set; cheap to clone into worker threads.
#[derive(Clone, Debug)]
pub struct Session {
    policies: PolicySet,
    world: Arc<World>,
    cx: CallContext,
}

impl Session {
    /// The same session with "now" read again from the policies' clock: a long-lived session (`policy serve`
    /// keeps one per policy generation, as building one walks the whole program) is re-stamped per request
    /// rather than rebuilt, so date rules still see the time of the request.
    #[cfg(feature = "serve")]
    pub(crate) fn refreshed(&self) -> Session {
        Session {
            policies: self.policies.clone(),
            world: Arc::clone(&self.world),
            cx: CallContext { now: self.policies.now() },
        }
    }

    /// Why rule `rule_id` passed, failed, did not apply or could not be evaluated on each of `docs`
    /// (`policy explain`). A separate walk: `evaluate` is not slowed by it.
    pub(crate) fn explain(&self, rule_id: &str, docs: &[Document]) -> Result<Vec<crate::explain::Explanation>, String> {
        let cx = crate::explain::Context {
            program: &self.policies.program,
            registry: &self.policies.registry,
            world: &self.world,
            cx: self.cx,
            max_steps: self.policies.max_steps,
        };
        crate::explain::explain_all(&cx, rule_id, docs)
    }

    /// The findings for one document, in rule order.
    pub fn evaluate(&self, doc: &Document) -> Vec<Finding> {
        self.evaluate_with(doc, None)
    }

    /// [`Session::evaluate`], recording which way each rule and check went (`policy test --coverage`).
    #[doc(hidden)]
    pub fn evaluate_covered(&self, doc: &Document, hits: &mut crate::eval::cover::Hits) -> Vec<Finding> {
        self.evaluate_with(doc, Some(hits))
    }

    fn evaluate_with(&self, doc: &Document, hits: Option<&mut crate::eval::cover::Hits>) -> Vec<Finding> {
        let program = &*self.policies.program;
        let rules = &program.by_kind[doc.kind() as usize];
        let mut out = Vec::new();
        if rules.is_empty() {
            return out;
        }
        if self.policies.plugins {
            crate::plugins::begin_document();
        }
        let mut ev = Eval::new(program, &program.consts, &self.policies.registry, &self.world, self.cx);
        ev.max_steps = self.policies.max_steps;
        let table = &self.policies.table;
        let active = rules
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| table.enabled[i])
            .map(|i| (&program.rules[i], table.severity[i]));
        match hits {
            None => run_rules(&mut ev, active, doc, &mut out),
            Some(hits) => run_rules_covered(&mut ev, active, doc, &mut out, hits),
        }
        // By position in the file; the stable sort keeps rule order among findings at the same place.
        out.sort_by_key(|f| f.location.as_ref().map_or(0, |l| l.span.start));
        out
    }
}

#[allow(dead_code)]
fn assert_thread_safe() {
    fn check<T: Send + Sync>() {}
    check::<PolicySet>();
    check::<Session>();
    check::<Document>();
    let _: HashMap<(), ()> = HashMap::new();
}
