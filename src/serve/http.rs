//! The HTTP side: accepting connections (TLS when configured), the limits every request is held to, the
//! routing table, and graceful shutdown.
//!
//! hyper serves HTTP/1.1; each connection's stream keeps its deadlines (`conn.rs`: headers, taking the
//! response, idle between requests), so a client that trickles its headers (slow loris) is cut off while
//! an idle keep-alive connection is not; at most `max_connections` are open at once. The body is read with a
//! size cap and its own deadline; deciding requests take a permit from a semaphore, so at most
//! `max_concurrency` are decided at once. Every refusal is a JSON error with its status, never a dropped
//! connection or a panic.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::State;
use super::conn::{Deadlines, Phase, Watched};
use super::metrics::Endpoint;

/// A finished answer: status, content type and body.
pub(super) struct Answer {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: String,
    /// The methods a 405 names in `Allow`.
    pub allow: Option<&'static str>,
}

impl Answer {
    pub fn json(status: StatusCode, body: String) -> Answer {
        Answer { status, content_type: "application/json", body, allow: None }
    }

    pub fn text(content_type: &'static str, body: String) -> Answer {
        Answer { status: StatusCode::OK, content_type, body, allow: None }
    }

    /// `{"error": {"code": 400, "message": ...}}`.
    pub fn error(status: StatusCode, message: impl std::fmt::Display) -> Answer {
        let body = serde_json::json!({"error": {"code": status.as_u16(), "message": message.to_string()}});
        Answer::json(status, body.to_string())
    }
}

pub(super) async fn serve(state: Arc<State>) -> Result<(), String> {
    let addr = state.options.addr;
    let listener = TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let tls = match &state.options.tls {
        Some((cert, key)) => Some(tls_acceptor(cert, key)?),
        None => None,
    };
    // On standard output, one line, so a supervisor (or a test) learns the port when `--addr` says 0.
    println!("vigil serve listening on {}://{local}", if tls.is_some() { "https" } else { "http" });
    tracing::info!(%local, tls = tls.is_some(), digest = state.current().policies.digest(), "serving");
    let limit = Arc::new(Semaphore::new(state.options.max_concurrency.max(1)));
    // A connection holds a permit until it closes; at the limit the server stops accepting, so further
    // clients wait in the kernel's listen queue instead of exhausting file descriptors.
    let connections = Arc::new(Semaphore::new(state.options.max_connections.max(1)));
    let deadlines = Deadlines {
        header: state.options.header_timeout,
        respond: state.options.body_timeout,
        idle: state.options.idle_timeout,
    };
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (state, limit, tls, watcher) = (Arc::clone(&state), Arc::clone(&limit), tls.clone(), graceful.watcher());
        tokio::spawn(async move {
            let _permit = permit;
            let phase = Phase::default();
            // From accept, the client has `header_timeout` for its first request's headers (a TLS handshake
            // included): holding a connection open without a request is not an idle keep-alive.
            let stream = Watched::new(stream, phase.clone(), deadlines);
            let service = service_fn(move |req| {
                phase.busy();
                let (state, limit, phase) = (Arc::clone(&state), Arc::clone(&limit), phase.clone());
                async move {
                    let response = route(state, limit, req).await;
                    phase.responding();
                    response
                }
            });
            let mut builder = http1::Builder::new();
            // The deadlines are the stream's: hyper's header timer would also close idle keep-alive connections.
            builder.header_read_timeout(None).max_buf_size(64 << 10);
            let served = match tls {
                None => watcher.watch(builder.serve_connection(TokioIo::new(stream), service)).await,
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => watcher.watch(builder.serve_connection(TokioIo::new(stream), service)).await,
                    Err(e) => return tracing::debug!(%peer, error = %e, "TLS handshake failed or timed out"),
                },
            };
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: draining requests in flight");
    let grace = state.options.shutdown_grace;
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("drained"),
        () = tokio::time::sleep(grace) => tracing::warn!(?grace, "requests still in flight after the grace period"),
    }
    Ok(())
}

/// SIGTERM (Kubernetes stopping the pod) or SIGINT.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = tokio::signal::ctrl_c() => {},
                }
            }
            Err(_) => _ = tokio::signal::ctrl_c().await,
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

fn tls_acceptor(cert: &std::path::Path, key: &std::path::Path) -> Result<tokio_rustls::TlsAcceptor, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect)
        .map_err(|e| format!("{}: cannot read the certificate chain: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in the file", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("{}: cannot read the private key: {e}", key.display()))?;
    let mut config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the TLS certificate and key do not work together: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

async fn route(
    state: Arc<State>,
    limit: Arc<Semaphore>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let endpoint = match req.uri().path() {
        "/v1/check" => Some(Endpoint::Check),
        "/v1/admission" => Some(Endpoint::Admission),
        "/v1/guard" => Some(Endpoint::Guard),
        _ => None,
    };
    let answer = match (req.method(), req.uri().path(), endpoint) {
        (&Method::GET, "/healthz", _) => Answer::text("text/plain", "ok\n".into()),
        (&Method::GET, "/readyz", _) => super::routes::ready(&state),
        (&Method::GET, "/metrics", _) => {
            Answer::text("text/plain; version=0.0.4", state.metrics.render(state.current().policies.digest()))
        }
        (&Method::POST, _, Some(endpoint)) => decide(&state, &limit, endpoint, req).await,
        (_, "/healthz" | "/readyz" | "/metrics", _) => {
            Answer { allow: Some("GET"), ..Answer::error(StatusCode::METHOD_NOT_ALLOWED, "use GET") }
        }
        (_, _, Some(_)) => Answer { allow: Some("POST"), ..Answer::error(StatusCode::METHOD_NOT_ALLOWED, "use POST") },
        (_, path, None) => Answer::error(StatusCode::NOT_FOUND, format!("no endpoint `{path}` (see docs/serve.md)")),
    };
    if answer.status.is_client_error() || answer.status.is_server_error() {
        state.metrics.error(answer.status.as_u16());
    }
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = answer.status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(answer.content_type));
    if let Some(methods) = answer.allow {
        response.headers_mut().insert(ALLOW, HeaderValue::from_static(methods));
    }
    Ok(response)
}

/// Takes a permit, reads the body within the limits, decides, and records the decision.
async fn decide(state: &Arc<State>, limit: &Semaphore, endpoint: Endpoint, req: Request<Incoming>) -> Answer {
    let options = &state.options;
    let Ok(Ok(_permit)) = tokio::time::timeout(options.body_timeout, limit.acquire()).await else {
        return Answer::error(StatusCode::SERVICE_UNAVAILABLE, "too many requests in flight; retry later");
    };
    if state.log.as_ref().is_some_and(|l| l.is_broken()) {
        return Answer::error(StatusCode::SERVICE_UNAVAILABLE, "the decision log cannot be written");
    }
    let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let body = Limited::new(req.into_body(), options.max_body_bytes);
    let bytes = match tokio::time::timeout(options.body_timeout, body.collect()).await {
        Err(_) => return Answer::error(StatusCode::REQUEST_TIMEOUT, "the request body did not arrive in time"),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            let max = options.max_body_bytes;
            return Answer::error(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is over the {max} byte limit"));
        }
        Ok(Err(e)) => return Answer::error(StatusCode::BAD_REQUEST, format!("cannot read the body: {e}")),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Answer::error(StatusCode::BAD_REQUEST, "the body is not UTF-8 text");
    };
    let started = Instant::now();
    let generation = state.current();
    let decided = match endpoint {
        Endpoint::Check => super::routes::check(&generation, text, &content_type, &query),
        Endpoint::Admission => super::routes::admission(&generation, text),
        Endpoint::Guard => super::guard::guard(state, &generation, text),
    };
    let decision = match decided {
        Ok(d) => d,
        Err(message) => return Answer::error(StatusCode::BAD_REQUEST, message),
    };
    state.metrics.decision(endpoint, decision.outcome, decision.rules.iter().map(String::as_str), started.elapsed());
    if let Some(log) = &state.log {
        let mut record = decision.record;
        if let Some(object) = record.as_object_mut() {
            object.insert("endpoint".into(), endpoint.name().into());
            object.insert("time".into(), jiff::Timestamp::now().to_string().into());
            object.insert("policies_sha256".into(), generation.policies.digest().into());
            object.insert("input_sha256".into(), crate::hex::sha256(&bytes).into());
        }
        // Waits while the queue is full: back-pressure reaches the caller, records are never dropped.
        if let Err(message) = log.record(record).await {
            return Answer::error(StatusCode::SERVICE_UNAVAILABLE, message);
        }
    }
    Answer::json(StatusCode::OK, decision.body)
}

/// What a deciding route produced.
pub(super) struct Decision {
    /// The response body (JSON).
    pub body: String,
    /// The outcome label for metrics (`allow`, `deny`, `block`, `redact`, `pass`, `fail`).
    pub outcome: &'static str,
    /// Rules with findings.
    pub rules: Vec<String>,
    /// The decision-log record (endpoint, time and digests are added).
    pub record: serde_json::Value,
}
