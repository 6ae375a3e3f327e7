//! `policy lsp` driven as an editor drives it: the real binary, JSON-RPC messages with Content-Length
//! framing on its standard input, answers read back from its standard output.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

const POLICY: &str = r#"package demo

/// Publishers we trust.
param trusted = ["acme"]

fn org(id) = split(id, "/")[0]

rule "DEMO-001" {
  title = "Base model from a trusted publisher"
  severity = high
  applies_to = ModelCard
  let base = input.base_model
  require org(base) in trusted else "untrusted publisher"
  require input.licence != null
}
"#;

struct Server {
    child: Child,
    stdin: ChildStdin,
    messages: mpsc::Receiver<Value>,
    next_id: i64,
}

fn read_message(out: &mut BufReader<ChildStdout>) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    out.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Server {
    fn start(dir: &std::path::Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_policy"))
            .arg("lsp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("policy lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (tx, messages) = mpsc::channel();
        std::thread::spawn(move || {
            while let Some(m) = read_message(&mut stdout) {
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        Server { child, stdin, messages, next_id: 1 }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next message that satisfies `wanted`; a server that goes quiet fails the test instead of hanging it.
    fn wait(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let m = self.messages.recv_timeout(Duration::from_secs(60)).expect("the server answers within a minute");
            if wanted(&m) {
                return m;
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let response = self.wait(|m| m["id"] == json!(id));
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }
}

/// The protocol position (line, UTF-16 column) of the first `needle`, plus `delta` columns.
fn position(text: &str, needle: &str, delta: usize) -> Value {
    let offset = text.find(needle).expect("needle") + delta;
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let column = before.rsplit('\n').next().unwrap_or("").encode_utf16().count();
    json!({"line": line, "character": column})
}

#[test]
fn the_server_answers_an_editor_session() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("demo.policy");
    std::fs::write(&path, POLICY).expect("write");
    let uri = format!("file://{}", path.display());
    let mut server = Server::start(dir.path());

    let init = server.request("initialize", json!({"processId": null, "rootUri": null, "capabilities": {}}));
    let caps = &init["capabilities"];
    assert_eq!(caps["hoverProvider"], json!(true));
    assert_eq!(caps["definitionProvider"], json!(true));
    assert_eq!(caps["documentFormattingProvider"], json!(true));
    assert_eq!(caps["completionProvider"]["triggerCharacters"], json!(["."]));
    server.notify("initialized", json!({}));

    // Opening the file publishes its problems: the schema warning for `licence`.
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "vigil-policy", "version": 1, "text": POLICY}}),
    );
    let published = server.wait(|m| m["method"] == "textDocument/publishDiagnostics");
    let diagnostics = published["params"]["diagnostics"].as_array().expect("a list").clone();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["code"], "vigil::unknown-path");
    assert_eq!(diagnostics[0]["severity"], 2, "a warning");
    assert_eq!(diagnostics[0]["range"]["start"], position(POLICY, "licence", 0));
    assert!(diagnostics[0]["message"].as_str().unwrap_or("").contains("did you mean `license`?"));

    // A change that breaks a name: an error, as you type.
    let broken = POLICY.replace("split(id", "splt(id");
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": broken}]}),
    );
    let published = server.wait(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 2);
    let codes: Vec<&str> = published["params"]["diagnostics"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(codes.contains(&"vigil::unknown-function"), "{codes:?}");
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": POLICY}]}),
    );
    server.wait(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 3);

    let at =
        |needle: &str, delta: usize| json!({"textDocument": {"uri": uri}, "position": position(POLICY, needle, delta)});
    let hover = server.request("textDocument/hover", at("split(", 1));
    assert!(hover["contents"]["value"].as_str().unwrap_or("").contains("split("), "{hover}");
    let hover = server.request("textDocument/hover", at("base_model", 2));
    assert!(hover["contents"]["value"].as_str().unwrap_or("").contains("derives from"), "{hover}");
    let hover = server.request("textDocument/hover", at("DEMO-001", 2));
    assert!(hover["contents"]["value"].as_str().unwrap_or("").contains("**severity**: high"), "{hover}");

    let definition = server.request("textDocument/definition", at("trusted else", 1));
    assert_eq!(definition["uri"], json!(uri));
    assert_eq!(definition["range"]["start"], position(POLICY, "trusted =", 0));

    // Completion after `input.` in a rule for model cards, while the text does not parse.
    let typing = POLICY.replace("require input.licence != null", "require input.");
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 4}, "contentChanges": [{"text": typing}]}),
    );
    server.wait(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 4);
    let items = server.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": position(&typing, "require input.", "require input.".len())}),
    );
    let labels: Vec<&str> = items.as_array().expect("a list").iter().filter_map(|i| i["label"].as_str()).collect();
    assert!(labels.contains(&"license") && labels.contains(&"base_model"), "{labels:?}");

    // Formatting: trailing spaces go, nothing else changes.
    let messy = POLICY.replace("package demo", "package demo   ");
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 5}, "contentChanges": [{"text": messy}]}),
    );
    server.wait(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 5);
    let edits = server.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(edits[0]["newText"], json!(POLICY));

    // An unknown method is an error response, not a crash; then a clean shutdown.
    server.send(json!({"jsonrpc": "2.0", "id": 99, "method": "textDocument/rename", "params": {}}));
    let error = server.wait(|m| m["id"] == 99);
    assert_eq!(error["error"]["code"], -32601);
    server.request("shutdown", Value::Null);
    server.notify("exit", Value::Null);
    let status = server.child.wait().expect("exits");
    assert!(status.success(), "{status:?}");
}

/// A rule file of a project whose `vigil.toml` names two policy folders, sets parameters and adds a schema.
const PROJECT_RULES: &str = r#"package demo

param max_layers = 3

rule "DEMO-002" {
  title = "Cards from a trusted publisher"
  severity = high
  applies_to = ModelCard
  require org(input.base_model) in ["acme"] else "untrusted publisher"
  require input.licence != null
  require len(input.layers ?? []) <= max_layers
}

rule "MC-LIC-001" {
  title = "A second rule with a bundled rule's id"
  severity = low
  applies_to = ModelCard
  require input.license != null
}
"#;

const PROJECT_CONFIG: &str = r#"policies = ["policies/shared", "policies/rules"]

[params]
"demo.max_layers" = "three"
"demo.max_layer" = 4

[schemas]
ModelCard = "schemas/card.json"
"#;

/// The server checks a file with its project, as `policy check` would: the workspace folder from
/// `initialize`, the `vigil.toml` above the file, the policy folders it names (a function of the package in
/// another folder), its `[params]` (a value of the wrong type, a name no policy declares), its `[schemas]`
/// and the bundled packs (a rule id they already use).
#[test]
fn the_server_checks_a_file_with_its_project() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("proj");
    for (name, text) in [
        ("vigil.toml", PROJECT_CONFIG),
        ("policies/shared/helpers.policy", "package demo\n\nfn org(id) = split(id, \"/\")[0]\n"),
        ("policies/rules/demo.policy", PROJECT_RULES),
        ("schemas/card.json", r#"{"type": "object", "properties": {"licence": {"description": "Our spelling."}}}"#),
    ] {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let root = std::fs::canonicalize(&root).expect("canonical");
    let path = root.join("policies/rules/demo.policy");
    let uri = format!("file://{}", path.display());
    // Started elsewhere, as editors start servers: only `initialize` says where the project is.
    let mut server = Server::start(dir.path());
    let root_uri = format!("file://{}", root.display());
    server.request(
        "initialize",
        json!({"processId": null, "rootUri": root_uri, "workspaceFolders": [{"uri": root_uri, "name": "proj"}], "capabilities": {}}),
    );
    server.notify("initialized", json!({}));
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "vigil-policy", "version": 1, "text": PROJECT_RULES}}),
    );
    // A rule id the bundled packs already use: `policy check` stops there, and so does the server.
    let published = server.wait(|m| m["method"] == "textDocument/publishDiagnostics");
    let diagnostics = published["params"]["diagnostics"].as_array().expect("a list").clone();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["code"], "vigil::duplicate");
    assert_eq!(diagnostics[0]["range"]["start"], position(PROJECT_RULES, "\"MC-LIC-001", 0));

    let renamed = PROJECT_RULES.replace("MC-LIC-001", "DEMO-003");
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": renamed}]}),
    );
    let published = server.wait(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 2);
    let diagnostics = published["params"]["diagnostics"].as_array().expect("a list").clone();
    let shown: Vec<(String, String)> = diagnostics
        .iter()
        .map(|d| (d["code"].as_str().unwrap_or("").to_string(), d["message"].as_str().unwrap_or("").to_string()))
        .collect();
    let has = |code: &str, text: &str| shown.iter().any(|(c, m)| c == code && m.contains(text));
    // `org` comes from policies/shared, `licence` from the project's schema: neither is a problem.
    assert!(!shown.iter().any(|(c, _)| c == "vigil::unknown-function" || c == "vigil::unknown-path"), "{shown:?}");
    assert!(has("vigil::param", "parameter `demo.max_layers` must be"), "{shown:?}");
    assert!(has("vigil::param", "vigil.toml `[params]`: no policy declares a parameter `demo.max_layer`"), "{shown:?}");
    let param = diagnostics.iter().find(|d| d["message"].as_str().unwrap_or("").contains("must be")).expect("error");
    assert_eq!(param["range"]["start"], position(&renamed, "max_layers =", 0), "at the declaration");

    // Go to definition reaches the other folder of the package.
    let definition = server.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": position(&renamed, "org(", 1)}),
    );
    let helpers = format!("file://{}", root.join("policies/shared/helpers.policy").display());
    assert_eq!(definition["uri"], json!(helpers), "{definition}");
    server.request("shutdown", Value::Null);
    server.notify("exit", Value::Null);
    assert!(server.child.wait().expect("exits").success());
}
