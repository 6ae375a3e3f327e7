//! Hot reload: on SIGHUP, or when a watched file changes (polled: policy files and folders, configuration
//! files), the policies are compiled again off the request threads and swapped in at once.
//!
//! Requests in flight keep the `Arc` of the set they started with and finish on it. A new set that does
//! not compile never replaces the old one: the old set keeps serving and the reason is logged, counted
//! (`vigil_policy_reloads_total{result="failed"}`) and shown by `/readyz` until a reload succeeds.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::State;

/// What a file looked like: each watched path with its modification time and size, sorted.
type Fingerprint = Vec<(PathBuf, Option<(SystemTime, u64)>)>;

pub(super) fn spawn(state: Arc<State>) {
    let serialise = Arc::new(tokio::sync::Mutex::new(()));
    #[cfg(unix)]
    {
        let (state, serialise) = (Arc::clone(&state), Arc::clone(&serialise));
        tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut hup) = signal(SignalKind::hangup()) else {
                return tracing::warn!("cannot listen for SIGHUP; reload by changing the policy files");
            };
            while hup.recv().await.is_some() {
                let _one = serialise.lock().await;
                reload(&state, "SIGHUP").await;
            }
        });
    }
    if let Some(every) = state.options.watch_interval {
        tokio::spawn(async move {
            let mut last = fingerprint_of(&state).await;
            loop {
                tokio::time::sleep(every).await;
                let now = fingerprint_of(&state).await;
                if now != last {
                    let _one = serialise.lock().await;
                    // Compiled from what is on disk from now on; a later change is seen at the next poll.
                    last = now;
                    reload(&state, "policy files changed").await;
                }
            }
        });
    }
}

async fn fingerprint_of(state: &Arc<State>) -> Fingerprint {
    let watch = state.current().watch.clone();
    tokio::task::spawn_blocking(move || fingerprint(&watch)).await.unwrap_or_default()
}

/// Compiles and swaps, or keeps the old set and says why.
pub(super) async fn reload(state: &Arc<State>, why: &str) {
    let compiling = Arc::clone(state);
    let started = std::time::Instant::now();
    let result = tokio::task::spawn_blocking(move || compiling.load())
        .await
        .unwrap_or_else(|_| Err("the policy compiler failed (a bug: please report it)".into()));
    match result {
        Ok(generation) => {
            let digest = generation.policies.digest().to_string();
            *state.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(generation);
            *state.reload_error.write().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
            state.metrics.reload(true);
            tracing::info!(why, digest, elapsed = ?started.elapsed(), "policies reloaded");
        }
        Err(reason) => {
            state.metrics.reload(false);
            tracing::error!(why, %reason, "reload failed; the previous policies keep serving");
            *state.reload_error.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reason);
        }
    }
}

/// Every file under the watched paths (folders walked, `.policy` files and others alike), with its
/// modification time and size; a missing path is recorded as missing, so its return is a change too.
fn fingerprint(paths: &[PathBuf]) -> Fingerprint {
    let mut out = Vec::new();
    for path in paths {
        walk(path, 0, &mut out);
    }
    out.sort();
    out
}

fn walk(path: &Path, depth: usize, out: &mut Fingerprint) {
    let Ok(meta) = std::fs::metadata(path) else {
        out.push((path.to_path_buf(), None));
        return;
    };
    if meta.is_dir() {
        // Policy folders are shallow; the depth cap only guards against a link loop.
        if depth > 16 {
            return;
        }
        if let Ok(entries) = std::fs::read_dir(path) {
            for entry in entries.flatten() {
                walk(&entry.path(), depth + 1, out);
            }
        }
    } else {
        out.push((path.to_path_buf(), meta.modified().ok().map(|m| (m, meta.len()))));
    }
}
