//! A `policy serve` process on a loopback port, and a minimal HTTP/1.1 client over `TcpStream` (no client
//! library: the tests also need to send malformed and deliberately slow requests).

#![allow(dead_code, reason = "each test file uses a part of it")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running server; killed when dropped.
pub struct Server {
    pub child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Server {
    /// Starts `policy serve --addr 127.0.0.1:0 --no-config ARGS` in `dir` and waits for its address.
    pub fn start(args: &[&str], dir: &Path) -> Server {
        Server::start_raw(&[&["--no-config"], args].concat(), dir)
    }

    /// Starts `policy serve --addr 127.0.0.1:0 ARGS` in `dir` (configuration as ARGS say).
    pub fn start_raw(args: &[&str], dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_policy"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .current_dir(dir)
            .env("VIGIL_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start policy serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read the address line");
        let addr = line.trim().rsplit("://").next().unwrap_or_default().to_string();
        assert!(addr.starts_with("127.0.0.1:"), "no address announced: {line:?}");
        Server { child, addr }
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Sends a signal to this server (by its own pid).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill").args([&format!("-{name}"), &self.pid()]).status().expect("kill");
        assert!(status.success());
    }

    /// Waits up to `secs` for the process to exit; its exit code.
    pub fn wait_exit(&mut self, secs: u64) -> Option<i32> {
        for _ in 0..secs * 20 {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn get(&self, path: &str) -> Response {
        request(&self.addr, &format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").into_bytes())
    }

    pub fn post(&self, path: &str, body: &str) -> Response {
        post(&self.addr, path, body)
    }

    pub fn json(&self, path: &str, body: &serde_json::Value) -> serde_json::Value {
        let r = self.post(path, &body.to_string());
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", r.body))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Status, headers (lowercase names) and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

pub fn post(addr: &str, path: &str, body: &str) -> Response {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    request(addr, &[head.as_bytes(), body.as_bytes()].concat())
}

/// Sends raw bytes and reads the answer to the end (the request says `Connection: close`).
pub fn request(addr: &str, raw: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    stream.write_all(raw).expect("send");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read the response");
    parse(&bytes)
}

pub fn parse(bytes: &[u8]) -> Response {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP response: {text:?}"));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Response { status, headers, body: body.to_string() }
}

/// A `POST /v1/guard` body.
pub fn exchange(caller: &str, prompt: &str, response: &str) -> serde_json::Value {
    serde_json::json!({"caller": caller, "model": "m", "prompt": prompt, "response": response,
        "tokens": {"prompt": 20, "completion": 40}})
}

/// An AdmissionReview of `object` (as JSON).
pub fn review(uid: &str, object: serde_json::Value, dry_run: bool) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": uid, "operation": "CREATE", "dryRun": dry_run, "object": object,
            "namespace": object.pointer("/metadata/namespace").cloned().unwrap_or("default".into())}
    })
}
