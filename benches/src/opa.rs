//! OPA as an optional contender: a Python process (`opa_driver.py`) that embeds OPA v1 through the
//! `opa-golib-python-bindings` package, driven over a pipe one card at a time.
//!
//! OPA is written in Go and has no Rust embedding; its Go library compiled as a C shared object is the closest
//! to "OPA in process" this machine offers. Each card is timed inside the driver around the native evaluation
//! call only (see the driver's header): the pipe round trip is never counted, and because the harness asks for
//! one card at a time, OPA takes its turn in the same rotating per-card order as the in-process engines.
//! OPA takes its input as JSON text, so its time always includes decoding the card: there is no pre-parsed form.
//!
//! Set up (once; the venv lives under `target/`, outside the repository's files):
//! `python3 -m venv target/opa-venv && target/opa-venv/bin/pip install --ignore-requires-python opa-golib-python-bindings`.
//! `$VIGIL_OPA_PYTHON` names another interpreter. Without one the harness prints why and leaves the row out.

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use crate::engines::{Contender, Format, Parsed, Record};

/// The driver script, next to this file.
fn driver() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/opa_driver.py")
}

/// The Python that has the bindings: `$VIGIL_OPA_PYTHON`, else the venv under the workspace's `target/`.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("VIGIL_OPA_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/opa-venv/bin/python")
}

/// OPA behind its driver process.
pub struct OpaEngine {
    child: Child,
    /// The pipes, behind a `RefCell` because `Contender::parse` takes `&self` and loading a card is a request.
    io: RefCell<Pipes>,
    /// What the driver reported on start (the bindings' version).
    pub version: String,
}

struct Pipes {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Pipes {
    fn line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err("the OPA driver exited".to_string()),
            Ok(_) => Ok(line.trim_end().to_string()),
            Err(e) => Err(format!("reading from the OPA driver: {e}")),
        }
    }

    /// Sends one command and returns its reply (an `error ...` reply becomes `Err`).
    fn ask(&mut self, command: &str) -> Result<String, String> {
        writeln!(self.stdin, "{command}")
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("writing to the OPA driver: {e}"))?;
        let reply = self.line()?;
        match reply.strip_prefix("error ") {
            Some(e) => Err(format!("OPA: {e}")),
            None => Ok(reply),
        }
    }
}

impl OpaEngine {
    /// Starts the driver with the Rego policy at `rego`; `Err` says why OPA is unavailable.
    pub fn start(rego: &std::path::Path) -> Result<OpaEngine, String> {
        let python = python();
        if !python.exists() {
            return Err(format!(
                "no Python with opa-golib-python-bindings at {} (see benches/src/opa.rs to set one up, or set \
                 VIGIL_OPA_PYTHON)",
                python.display()
            ));
        }
        let mut child = Command::new(&python)
            .arg(driver())
            .arg(rego)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err("driver has no pipes".to_string());
        };
        let mut pipes = Pipes { stdin, stdout: BufReader::new(stdout) };
        let hello = pipes.line().and_then(|h| match h.strip_prefix("ready ") {
            Some(v) => Ok(v.to_string()),
            None => Err(h.strip_prefix("unavailable ").unwrap_or(&h).to_string()),
        });
        let version = match hello {
            Ok(v) => v,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        Ok(OpaEngine { child, io: RefCell::new(pipes), version })
    }

    fn ask(&self, command: &str) -> Result<String, String> {
        self.io.borrow_mut().ask(command)
    }

    fn id(input: &Parsed) -> usize {
        let Parsed::Remote(id) = input else { unreachable!("OPA is given the ids of the cards it holds") };
        *id
    }

    /// Forgets every card the driver holds (between data sets, to bound its memory).
    pub fn clear(&self) -> Result<(), String> {
        self.ask("clear").map(drop)
    }

    /// One evaluation of card `id`: OPA's own time for it and the number of records.
    fn eval(&self, id: usize) -> Result<(Duration, usize), String> {
        let reply = self.ask(&format!("eval {id}"))?;
        let mut parts = reply.split(' ').map(str::parse::<u64>);
        match (parts.next(), parts.next()) {
            (Some(Ok(ns)), Some(Ok(n))) => Ok((Duration::from_nanos(ns), n as usize)),
            _ => Err(format!("unexpected reply from the OPA driver: {reply}")),
        }
    }
}

impl Drop for OpaEngine {
    fn drop(&mut self) {
        let io = self.io.get_mut();
        let _ = writeln!(io.stdin, "quit").and_then(|()| io.stdin.flush());
        let _ = self.child.wait();
    }
}

impl Contender for OpaEngine {
    fn name(&self) -> &'static str {
        "OPA (JSON text in)"
    }
    /// Hands the text to the driver, which keeps it as the bytes the native call takes; OPA decodes it
    /// during each evaluation, so nothing is parsed here.
    fn parse(&self, _: &str, text: &str, format: Format) -> Result<Parsed, String> {
        if format != Format::Json {
            return Err("the OPA driver takes JSON input only".to_string());
        }
        let line = if text.contains('\n') {
            // One card per line on the pipe: re-encode multi-line JSON compactly.
            let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
            v.to_string()
        } else {
            text.to_string()
        };
        let reply = self.ask(&format!("load {line}"))?;
        reply
            .strip_prefix("ok ")
            .and_then(|n| n.parse().ok())
            .map(Parsed::Remote)
            .ok_or_else(|| format!("unexpected reply from the OPA driver: {reply}"))
    }
    fn run(&mut self, input: &Parsed) -> usize {
        self.eval(Self::id(input)).map_or(0, |(_, n)| n)
    }
    fn measure(&mut self, input: &Parsed) -> Duration {
        let (d, n) = self.eval(Self::id(input)).unwrap_or_else(|e| panic!("OPA evaluates: {e}"));
        std::hint::black_box(n);
        d
    }
    fn json_only(&self) -> bool {
        true
    }
    fn records(&mut self, input: &Parsed) -> Result<Vec<Record>, String> {
        let reply = self.ask(&format!("records {}", Self::id(input)))?;
        serde_json::from_str(&reply).map_err(|e| format!("OPA records: {e}: {reply}"))
    }
}
