//! `policy serve`: the policy engine as an HTTP decision service (docs/serve.md).
//!
//! - `POST /v1/check`: documents → the JSON report of `policy check --format json`.
//! - `POST /v1/admission`: a Kubernetes `AdmissionReview` → the review's response.
//! - `POST /v1/guard`: an inference exchange → `allow`, `block` or `redact`.
//! - `GET /healthz`, `/readyz`, `/metrics`.
//!
//! The compiled policies are held behind one lock as an `Arc`: a request clones the `Arc` and decides on
//! that set however long it takes, while a reload (SIGHUP or changed files) swaps in a new one. A reload
//! that fails leaves the old set serving. The command line builds the [`Loader`] (configuration, profile,
//! bundled packs, exactly as `policy check`), so this module knows nothing of flags or files.

mod conn;
pub mod decision_log;
mod guard;
mod http;
pub mod metrics;
mod reload;
mod routes;
pub mod window;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::engine::PolicySet;
use crate::functions::Function;
use crate::rule_info::Severity;

/// What a load of the policies produces.
pub struct Loaded {
    /// The compiled set, with settings applied.
    pub policies: PolicySet,
    /// Findings at or above this severity deny an admission and block an exchange; below it they are
    /// warnings. `None`: nothing denies (only rules that could not be evaluated do).
    pub deny_on: Option<Severity>,
    /// Files whose change triggers a reload (policy files and folders, configuration files).
    pub watch: Vec<PathBuf>,
    /// Waivers applied to every decision, as `policy check` applies them (vigil.toml's and `--waivers`).
    pub waivers: Vec<Arc<crate::waiver::Waiver>>,
}

/// Compiles the policies; called at start and on every reload with the functions the server adds (the
/// live `traffic` builtin). An `Err` is the reason, shown in logs and `/readyz`.
pub type Loader = Arc<dyn Fn(&[Function]) -> Result<Loaded, String> + Send + Sync>;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where to listen (port 0: any free port; the bound address is printed).
    pub addr: SocketAddr,
    /// PEM certificate chain and private key: serve HTTPS (admission webhooks require it).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Time a client has to send the request line and headers, from connecting or from the first byte of a
    /// later request on the connection (slow loris); on HTTPS the handshake counts too.
    pub header_timeout: Duration,
    /// Time a keep-alive connection may wait for its next request (longer than the client pools' own idle
    /// timeouts, so the client closes first and never reuses a connection the server is closing).
    pub idle_timeout: Duration,
    /// Connections open at once, at most; beyond it new clients wait to be accepted.
    pub max_connections: usize,
    /// Time a client has to send the body once the headers are in (408 beyond), and to take its response.
    pub body_timeout: Duration,
    /// Requests decided at once; more wait in line (up to `body_timeout`, then 503).
    pub max_concurrency: usize,
    /// Append each decision to this hash-chained JSON-lines file.
    pub decision_log: Option<PathBuf>,
    /// Decisions answered but not yet written, at most (then callers wait).
    pub decision_log_queue: usize,
    /// Keys the traffic window tracks, at most (least recently seen forgotten first).
    pub window_keys: usize,
    /// How often watched files are checked for changes (`None`: only SIGHUP reloads).
    pub watch_interval: Option<Duration>,
    /// How long requests in flight may take to finish after SIGTERM.
    pub shutdown_grace: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            addr: SocketAddr::from(([127, 0, 0, 1], 8181)),
            tls: None,
            max_body_bytes: 4 << 20,
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(61 * 60),
            max_connections: 10_000,
            body_timeout: Duration::from_secs(10),
            max_concurrency: 256,
            decision_log: None,
            decision_log_queue: 4096,
            window_keys: 4096,
            watch_interval: Some(Duration::from_secs(2)),
            shutdown_grace: Duration::from_secs(25),
        }
    }
}

/// One compiled generation of the policies, and what the routes derive from it once.
pub(crate) struct Generation {
    pub policies: PolicySet,
    /// A session over no other documents, built once: building one walks every expression of the program
    /// (half of a guard request's instructions when it was built per request). Requests take
    /// [`Generation::session`].
    empty: crate::engine::Session,
    /// Whether a rule reads other documents (`documents(...)`): then a check sees its own documents.
    cross_document: bool,
    pub deny_on: Option<Severity>,
    /// `runtime.secret_patterns` and `runtime.pii_patterns`, compiled: what a `redact` decision removes.
    pub redact: Vec<regex::Regex>,
    pub watch: Vec<PathBuf>,
    /// Reloaded with the policies: a changed waiver file swaps in a new generation too.
    pub waivers: Vec<Arc<crate::waiver::Waiver>>,
}

impl Generation {
    /// A session in which `documents(...)` sees `docs`: the prebuilt one, stamped with the time of the
    /// request, when no rule reads other documents or there are none to see.
    pub fn session(&self, docs: &[crate::input::Document]) -> crate::engine::Session {
        if self.cross_document && !docs.is_empty() { self.policies.session(docs) } else { self.empty.refreshed() }
    }

    /// [`PolicySet::evaluate`] with [`Generation::session`]: the report of `policy check` on these documents.
    pub fn evaluate(&self, docs: &[crate::input::Document]) -> crate::report::Report {
        let session = self.session(docs);
        let mut report = crate::report::Report::default();
        for doc in docs {
            report.findings.extend(session.evaluate(doc).into_iter().map(crate::report::Reported::from));
            report.count_document(doc);
            if !report.inputs.iter().any(|i| i.path == doc.name()) {
                report.inputs.push(crate::report::InputRecord { path: doc.name().to_string(), sha256: None });
            }
        }
        report.files = report.inputs.len();
        report
    }
}

/// Everything the routes share.
pub(crate) struct State {
    current: RwLock<Arc<Generation>>,
    /// Why the last reload failed, while it has not succeeded since (shown by `/readyz`).
    pub reload_error: RwLock<Option<String>>,
    pub loader: Loader,
    pub window: Arc<window::Window>,
    pub metrics: Arc<metrics::Metrics>,
    pub log: Option<decision_log::DecisionLog>,
    pub options: Options,
}

impl State {
    /// The set deciding now: requests keep their `Arc` to the end, so a swap never changes a decision
    /// half-way.
    pub fn current(&self) -> Arc<Generation> {
        Arc::clone(&self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Loads a new generation.
    fn load(&self) -> Result<Generation, String> {
        let loaded = (self.loader)(&[self.window.builtin()])?;
        generation(loaded)
    }
}

/// The parameters whose patterns a `redact` decision removes from a response (policies/runtime/).
const REDACT_PARAMS: [&str; 2] = ["runtime.secret_patterns", "runtime.pii_patterns"];

fn generation(loaded: Loaded) -> Result<Generation, String> {
    let mut redact = Vec::new();
    let params = crate::params::params(&loaded.policies);
    for p in params.iter().filter(|p| REDACT_PARAMS.contains(&p.name.as_str())) {
        for pattern in p.default.as_array().into_iter().flatten() {
            let text = pattern.as_str().ok_or_else(|| format!("`{}` must be an array of strings", p.name))?;
            redact.push(regex::Regex::new(text).map_err(|e| format!("`{}`: {e}", p.name))?);
        }
    }
    let Loaded { policies, deny_on, watch, waivers } = loaded;
    let (empty, cross_document) = (policies.session(&[]), policies.cross_document());
    Ok(Generation { policies, empty, cross_document, deny_on, redact, watch, waivers })
}

/// Runs the server until SIGTERM or SIGINT (then drains and returns `Ok`). Fails before serving when the
/// policies do not load, the address cannot be bound or the TLS files are unusable.
pub fn run(options: Options, loader: Loader) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("vigil-serve")
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let window = Arc::new(window::Window::new(options.window_keys));
        let first = generation(loader(&[window.builtin()])?)?;
        let metrics = Arc::new(metrics::Metrics::default());
        let log = match &options.decision_log {
            None => None,
            Some(path) => {
                let counter = Arc::clone(&metrics);
                let on_write: decision_log::OnWrite =
                    Arc::new(move |n| _ = counter.logged.fetch_add(n, std::sync::atomic::Ordering::Relaxed));
                Some(
                    decision_log::DecisionLog::open(path, options.decision_log_queue, on_write)
                        .map_err(|e| format!("cannot open the decision log {}: {e}", path.display()))?,
                )
            }
        };
        let state = Arc::new(State {
            current: RwLock::new(Arc::new(first)),
            reload_error: RwLock::new(None),
            loader,
            window,
            metrics,
            log,
            options,
        });
        reload::spawn(Arc::clone(&state));
        let served = http::serve(Arc::clone(&state)).await;
        if let Some(log) = &state.log {
            log.close().await;
        }
        served
    })
}
