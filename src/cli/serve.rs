//! `policy serve`: the decision API (docs/serve.md). The policies are planned exactly as `policy check`
//! plans them (vigil.toml layers, profile, parameters, rule settings, bundled packs), with the server's live
//! `traffic` builtin added; the server itself is `vigil::unstable::serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use vigil::unstable::config::FailOn;
use vigil::unstable::serve::{Loader, Options};

use super::Outcome;
use super::output::{capture, eprint};
use super::policies::PolicyArgs;

const EXAMPLES: &str = "Examples:
  policy serve                                        http://127.0.0.1:8181 with the bundled policies
  policy serve --addr 0.0.0.0:8443 --tls-cert tls.crt --tls-key tls.key   HTTPS, for an admission webhook
  policy serve --profile prod --decision-log /var/log/vigil/decisions.jsonl
  curl -s localhost:8181/v1/guard -d '{\"prompt\": \"hi\", \"response\": \"hello\", \"caller\": \"u1\"}'
  kill -HUP $(pidof policy)                            reload the policies (also done when their files change)

Logs go to standard error; set the level with VIGIL_LOG (or RUST_LOG), e.g. VIGIL_LOG=debug.";

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the address is printed on standard output).
    #[arg(long, default_value = "127.0.0.1:8181", value_name = "HOST:PORT")]
    addr: SocketAddr,
    #[command(flatten)]
    policies: PolicyArgs,
    /// Read settings from this file instead of looking for vigil.toml.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    config: Option<PathBuf>,
    /// Do not read vigil.toml.
    #[arg(long)]
    no_config: bool,
    /// Apply a profile of vigil.toml (its `fail_on` is the deny threshold).
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Deny admissions and block exchanges on findings at or above this severity (info, low, medium,
    /// high, critical or never) [default: `fail_on` of the profile or vigil.toml, else low]. Findings below
    /// it are warnings.
    #[arg(long, value_name = "SEVERITY")]
    deny_on: Option<FailOn>,
    /// Switch a rule off: id or glob such as `RT-*` (repeatable).
    #[arg(long, value_name = "RULE")]
    disable: Vec<String>,
    /// Switch a rule back on (repeatable).
    #[arg(long, value_name = "RULE")]
    enable: Vec<String>,
    /// Change a rule's severity: RULE=SEVERITY (repeatable).
    #[arg(long = "severity", value_name = "RULE=SEVERITY")]
    severities: Vec<String>,
    /// Waivers file (YAML or JSON), besides vigil.toml's `waivers` (repeatable); reloaded like the policies.
    #[arg(long, value_name = "FILE")]
    waivers: Vec<PathBuf>,
    /// PEM certificate chain: serve HTTPS (with `--tls-key`).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of `--tls-cert`.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Largest request body, in bytes (413 beyond).
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 20)]
    max_body_bytes: usize,
    /// Seconds a client has to send its request headers, from connecting or from a request's first byte
    /// (slow clients are cut off; on HTTPS the handshake counts too).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    header_timeout: f64,
    /// Seconds a client has to send its body (408 beyond) and to take its response; also the longest wait
    /// for a free slot (503).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    body_timeout: f64,
    /// Seconds a keep-alive connection may wait for its next request. The default, 61 minutes, outlasts
    /// Envoy's one-hour upstream idle timeout and the Kubernetes API server's 90 seconds, so the client
    /// closes first and never sends a request on a connection the server is closing.
    #[arg(long, value_name = "SECONDS", default_value_t = 3660.0)]
    idle_timeout: f64,
    /// Connections open at once, at most; beyond it new clients wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_connections: usize,
    /// Requests decided at once; more wait for a slot.
    #[arg(long, value_name = "N", default_value_t = 256)]
    max_concurrency: usize,
    /// Append every decision to this hash-chained JSON-lines file (`policy audit verify` checks it).
    #[arg(long, value_name = "FILE")]
    decision_log: Option<PathBuf>,
    /// Decisions answered but not yet written, at most; beyond it callers wait (nothing is dropped).
    #[arg(long, value_name = "N", default_value_t = 4096)]
    decision_log_queue: usize,
    /// Keys (callers, API keys, models) the traffic window tracks, at most; about 3.4 KiB each.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    window_keys: usize,
    /// Seconds between checks of the policy and configuration files for changes; 0: reload on SIGHUP only.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    watch_interval: f64,
    /// Seconds requests in flight may take to finish after SIGTERM.
    #[arg(long, value_name = "SECONDS", default_value_t = 25.0)]
    shutdown_grace: f64,
}

pub fn run(args: ServeArgs) -> Outcome {
    init_logging();
    let seconds = |name: &str, s: f64, zero_ok: bool| -> Result<Option<Duration>, Outcome> {
        if !s.is_finite() || s < 0.0 || (s == 0.0 && !zero_ok) || s > 86_400.0 {
            return Err(super::policies::usage(format!("`--{name} {s}` must be a number of seconds above 0")));
        }
        Ok((s > 0.0).then(|| Duration::from_secs_f64(s)))
    };
    let durations = (|| {
        Ok::<_, Outcome>((
            seconds("header-timeout", args.header_timeout, false)?,
            seconds("body-timeout", args.body_timeout, false)?,
            seconds("idle-timeout", args.idle_timeout, false)?,
            seconds("watch-interval", args.watch_interval, true)?,
            seconds("shutdown-grace", args.shutdown_grace, true)?,
        ))
    })();
    let Ok((Some(header_timeout), Some(body_timeout), Some(idle_timeout), watch_interval, grace)) = durations else {
        return durations.err().unwrap_or(Outcome::Error);
    };
    let options = Options {
        addr: args.addr,
        tls: args.tls_cert.clone().zip(args.tls_key.clone()),
        max_body_bytes: args.max_body_bytes,
        header_timeout,
        body_timeout,
        idle_timeout,
        max_connections: args.max_connections,
        max_concurrency: args.max_concurrency,
        decision_log: args.decision_log.clone(),
        decision_log_queue: args.decision_log_queue,
        window_keys: args.window_keys,
        watch_interval,
        shutdown_grace: grace.unwrap_or_default(),
    };
    let loader: Loader = Arc::new(move |functions| {
        let mut policies = args.policies.clone();
        policies.functions = functions.to_vec();
        let check = super::check::for_serve(
            policies,
            args.config.clone(),
            args.no_config,
            args.profile.clone(),
            args.deny_on,
            args.disable.clone(),
            args.enable.clone(),
            args.severities.clone(),
            args.waivers.clone(),
        );
        // The problems are the ones `policy check` would print, collected for the log and `/readyz`.
        let (planned, printed) = capture(|| super::check::serve_plan(&check));
        planned.map_err(|_| printed.trim().to_string())
    });
    match vigil::unstable::serve::run(options, loader) {
        Ok(()) => Outcome::Pass,
        Err(message) => {
            eprint(&format!("error: {message}\n"));
            Outcome::Error
        }
    }
}

/// Structured logs on standard error, the level from `VIGIL_LOG`, else `RUST_LOG`, else `info`.
fn init_logging() {
    let filter = std::env::var("VIGIL_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| "info".into());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|e| {
        eprint(&format!("warning: ignoring the log filter `{filter}`: {e}\n"));
        tracing_subscriber::EnvFilter::new("info")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
