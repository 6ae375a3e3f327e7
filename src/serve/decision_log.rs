//! The decision log: one JSON line per decision, hash-chained exactly like the audit log (src/audit.rs),
//! so `policy audit verify decisions.jsonl` checks it.
//!
//! Records pass through a bounded queue to one writer thread. When the queue is full, a request waits for
//! room before it is answered: under back-pressure the log slows callers down and never drops a record
//! (OPA's decision logger drops them: opa#7454, opa#8123). The bound is the queue's capacity: at most that
//! many decisions are answered but not yet written. A write that fails marks the log broken: from then
//! on every deciding request gets 503 and `/readyz` fails, so nothing is decided unrecorded; the records
//! still queued when it broke are the ones at risk, and the error is logged.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value as Json;
use tokio::sync::mpsc;

use crate::audit::{GENESIS, chain_line};

/// A handle to the writer; cheap to clone.
#[derive(Clone)]
pub struct DecisionLog {
    tx: mpsc::Sender<Json>,
    broken: Arc<AtomicBool>,
    path: Arc<PathBuf>,
    writer: Arc<std::sync::Mutex<Option<std::thread::JoinHandle<()>>>>,
}

/// What the writer needs to report into.
pub type OnWrite = Arc<dyn Fn(u64) + Send + Sync>;

impl DecisionLog {
    /// Opens (or creates) the log and starts its writer thread, with room for `capacity` queued records.
    pub fn open(path: &Path, capacity: usize, on_write: OnWrite) -> std::io::Result<DecisionLog> {
        let mut file = crate::confine::open_for_write(path, true)?;
        if !file.metadata()?.is_file() {
            return Err(std::io::Error::other("not a regular file"));
        }
        let (prev, torn) = last_line(&mut file)?;
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let broken = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&broken);
        let shown = path.display().to_string();
        let writer = std::thread::Builder::new()
            .name("vigil-decision-log".into())
            .spawn(move || write_loop(file, prev, torn, rx, &flag, &shown, &on_write))?;
        let writer = Arc::new(std::sync::Mutex::new(Some(writer)));
        Ok(DecisionLog { tx, broken, path: Arc::new(path.to_path_buf()), writer })
    }

    /// Writes everything queued, syncs the file and stops the writer (at shutdown, once no request is in
    /// flight).
    pub async fn close(&self) {
        // `null` is the end marker: records queued before it are written first.
        let _ = self.tx.send(Json::Null).await;
        let writer = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(writer) = writer {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
    }

    /// Queues a record, waiting while the queue is full. Fails when the log is broken or closed.
    pub async fn record(&self, record: Json) -> Result<(), String> {
        if self.broken.load(Ordering::Acquire) {
            return Err(self.unavailable());
        }
        self.tx.send(record).await.map_err(|_| self.unavailable())
    }

    /// Whether writes are failing.
    pub fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Acquire)
    }

    fn unavailable(&self) -> String {
        format!("the decision log {} cannot be written; no decision is made unrecorded", self.path.display())
    }
}

/// The digest of the last complete line (the genesis digest for an empty file), and whether the file ends
/// in half a line (a crash mid-write): then the next record starts on a new line, as the audit log does.
fn last_line(file: &mut std::fs::File) -> std::io::Result<(String, bool)> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok((GENESIS.to_string(), false));
    }
    // The last line is within the tail: records are small, so 1 MiB is ample and a large log is not read.
    let start = len.saturating_sub(1 << 20);
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)?;
    let torn = tail.last() != Some(&b'\n');
    let text = String::from_utf8_lossy(&tail);
    let last = text.lines().rfind(|l| !l.trim().is_empty());
    let prev = last.map_or(GENESIS.to_string(), |l| crate::hex::sha256(l.as_bytes()));
    file.seek(SeekFrom::End(0))?;
    Ok((prev, torn))
}

fn write_loop(
    mut file: std::fs::File,
    mut prev: String,
    mut torn: bool,
    mut rx: mpsc::Receiver<Json>,
    broken: &AtomicBool,
    shown: &str,
    on_write: &OnWrite,
) {
    let mut batch = Vec::new();
    let mut closing = false;
    // Blocks until a record arrives; ends at the end marker or when every sender is gone.
    while let Some(first) = rx.blocking_recv() {
        closing |= first.is_null();
        batch.push(first);
        while batch.len() < 256 && !closing {
            match rx.try_recv() {
                Ok(r) => {
                    closing |= r.is_null();
                    batch.push(r);
                }
                Err(_) => break,
            }
        }
        batch.retain(|r| !r.is_null());
        let mut out = String::new();
        if torn {
            out.push('\n');
            torn = false;
        }
        let n = batch.len() as u64;
        if n == 0 && closing {
            break;
        }
        for record in batch.drain(..) {
            match chain_line(record, &prev) {
                Ok((line, digest)) => {
                    out.push_str(&line);
                    prev = digest;
                }
                Err(e) => tracing::error!(log = shown, error = %e, "a decision record is not a JSON object"),
            }
        }
        // One write and one flush per batch: under load, records queue while the previous batch is written.
        if let Err(e) = file.write_all(out.as_bytes()).and_then(|()| file.flush()) {
            broken.store(true, Ordering::Release);
            tracing::error!(log = shown, error = %e, "cannot write the decision log; deciding requests now get 503");
            return;
        }
        on_write(n);
        if closing {
            break;
        }
    }
    let _ = file.sync_data();
}
