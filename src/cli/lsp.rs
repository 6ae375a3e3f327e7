//! `policy lsp`: the Language Server Protocol over standard input and output (rust-analyzer's `lsp-server`
//! for the JSON-RPC framing, `lsp-types` for the messages). The analysis itself is the library's
//! (`vigil::unstable::lsp`); this file keeps the open documents, converts positions (the protocol counts
//! UTF-16 code units) and answers requests.
//!
//! A request the server cannot answer gets an error response, never a crash: a panic while analysing one
//! document is caught and reported to the editor, and the server goes on.

use std::collections::HashMap;
use std::path::PathBuf;

use clap::Args;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{Completion, Formatting, GotoDefinition, HoverRequest, Request as _};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionOptions, Diagnostic, DiagnosticSeverity, GotoDefinitionResponse,
    Hover, HoverContents, HoverProviderCapability, Location, MarkupContent, MarkupKind, NumberOrString, OneOf,
    Position, PublishDiagnosticsParams, Range, ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextEdit, Uri,
};
use vigil::unstable::lsp::{self as analysis, Analysis, CompletionKind};

use super::Outcome;

#[derive(Args)]
pub struct LspArgs {
    /// Accepted for editors that pass it; standard input and output are always used.
    #[arg(long)]
    stdio: bool,
}

/// An open document: its current text, and the analysis of the last version that parsed (for completion
/// while the user types something that does not parse yet).
struct Open {
    text: String,
    version: i32,
    last: Analysis,
}

pub fn run(_args: LspArgs) -> Outcome {
    let (connection, threads) = Connection::stdio();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into()]),
            ..CompletionOptions::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    };
    let init = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": {"name": "vigil", "version": env!("CARGO_PKG_VERSION")},
    });
    let initialised = connection
        .initialize_start()
        .and_then(|(id, params)| connection.initialize_finish(id, init).map(|()| workspace_roots(&params)));
    let roots = match initialised {
        Ok(roots) => roots,
        Err(e) => {
            eprintln!("error: the language client did not initialise: {e}");
            return Outcome::Error;
        }
    };
    let mut docs: HashMap<String, Open> = HashMap::new();
    let mut outcome = Outcome::Pass;
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                match connection.handle_shutdown(&request) {
                    Ok(true) => break,
                    Ok(false) => {}
                    Err(_) => {
                        outcome = Outcome::Error;
                        break;
                    }
                }
                let id = request.id.clone();
                let response = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| answer(&docs, request)))
                    .unwrap_or_else(|_| {
                        Response::new_err(id, ErrorCode::InternalError as i32, "internal error in Vigil (a bug)".into())
                    });
                if connection.sender.send(Message::Response(response)).is_err() {
                    break;
                }
            }
            Message::Notification(n) => {
                let published = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| notify(&mut docs, &roots, n)))
                    .ok()
                    .flatten();
                if let Some(p) = published
                    && connection.sender.send(Message::Notification(p)).is_err()
                {
                    break;
                }
            }
            Message::Response(_) => {}
        }
    }
    drop(connection);
    if threads.join().is_err() {
        outcome = Outcome::Error;
    }
    outcome
}

/// Updates the open documents; returns the diagnostics to publish.
fn notify(docs: &mut HashMap<String, Open>, roots: &[PathBuf], n: Notification) -> Option<Notification> {
    let (uri, text, version) = match n.method.as_str() {
        DidOpenTextDocument::METHOD => {
            let p: lsp_types::DidOpenTextDocumentParams = serde_json::from_value(n.params).ok()?;
            (p.text_document.uri, p.text_document.text, p.text_document.version)
        }
        DidChangeTextDocument::METHOD => {
            let p: lsp_types::DidChangeTextDocumentParams = serde_json::from_value(n.params).ok()?;
            // Full synchronisation: the last change holds the whole text.
            let text = p.content_changes.into_iter().last()?.text;
            (p.text_document.uri, text, p.text_document.version)
        }
        DidSaveTextDocument::METHOD => {
            let p: lsp_types::DidSaveTextDocumentParams = serde_json::from_value(n.params).ok()?;
            let open = docs.get(p.text_document.uri.as_str())?;
            (p.text_document.uri, open.text.clone(), open.version)
        }
        DidCloseTextDocument::METHOD => {
            let p: lsp_types::DidCloseTextDocumentParams = serde_json::from_value(n.params).ok()?;
            docs.remove(p.text_document.uri.as_str());
            let params = PublishDiagnosticsParams { uri: p.text_document.uri, diagnostics: Vec::new(), version: None };
            return Some(Notification::new(PublishDiagnostics::METHOD.into(), params));
        }
        _ => return None,
    };
    let path = file_path(&uri);
    let name = path.as_ref().map_or_else(|| uri.as_str().to_string(), |p| p.display().to_string());
    // Found again on every change: vigil.toml and the other files may have changed on disk meanwhile.
    let project = path.as_deref().map(|p| analysis::project(p, roots)).unwrap_or_default();
    let fresh = analysis::analyse_in(&name, &text, &project);
    let diagnostics = fresh
        .problems
        .iter()
        .map(|p| Diagnostic {
            range: Range { start: position(&text, p.start), end: position(&text, p.end) },
            severity: Some(if p.warning { DiagnosticSeverity::WARNING } else { DiagnosticSeverity::ERROR }),
            code: Some(NumberOrString::String(p.code.to_string())),
            source: Some("vigil".into()),
            message: p.message.clone(),
            ..Diagnostic::default()
        })
        .collect();
    // Keep the last analysis of a text that parsed, for completion while typing.
    let parses = !fresh.problems.iter().any(|p| p.code == "vigil::syntax");
    match docs.get_mut(uri.as_str()) {
        Some(open) => {
            open.text = text;
            open.version = version;
            if parses {
                open.last = fresh;
            }
        }
        None => {
            docs.insert(uri.as_str().to_string(), Open { text, version, last: fresh });
        }
    }
    let params = PublishDiagnosticsParams { uri, diagnostics, version: Some(version) };
    Some(Notification::new(PublishDiagnostics::METHOD.into(), params))
}

fn answer(docs: &HashMap<String, Open>, request: Request) -> Response {
    let id = request.id.clone();
    let missing = |id| Response::new_err(id, ErrorCode::InvalidParams as i32, "the document is not open".into());
    match request.method.as_str() {
        HoverRequest::METHOD => {
            let Ok(p) = serde_json::from_value::<lsp_types::HoverParams>(request.params) else { return bad(id) };
            let doc = &p.text_document_position_params;
            let Some(open) = docs.get(doc.text_document.uri.as_str()) else { return missing(id) };
            let fresh = &open.last;
            let hover = fresh.hover(offset(&open.text, doc.position)).map(|text| Hover {
                contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: text }),
                range: None,
            });
            Response::new_ok(id, hover)
        }
        GotoDefinition::METHOD => {
            let Ok(p) = serde_json::from_value::<lsp_types::GotoDefinitionParams>(request.params) else {
                return bad(id);
            };
            let doc = &p.text_document_position_params;
            let Some(open) = docs.get(doc.text_document.uri.as_str()) else { return missing(id) };
            let fresh = &open.last;
            let place = fresh.definition(offset(&open.text, doc.position));
            let location = place.and_then(|place| {
                let uri = if file_path(&doc.text_document.uri).is_some_and(|p| p.display().to_string() == place.file) {
                    doc.text_document.uri.clone()
                } else {
                    file_uri(&place.file)?
                };
                let text = if uri == doc.text_document.uri {
                    open.text.clone()
                } else {
                    std::fs::read_to_string(&place.file).ok()?
                };
                Some(GotoDefinitionResponse::Scalar(Location {
                    uri,
                    range: Range { start: position(&text, place.start), end: position(&text, place.end) },
                }))
            });
            Response::new_ok(id, location)
        }
        Completion::METHOD => {
            let Ok(p) = serde_json::from_value::<lsp_types::CompletionParams>(request.params) else { return bad(id) };
            let doc = &p.text_document_position;
            let Some(open) = docs.get(doc.text_document.uri.as_str()) else { return missing(id) };
            let items: Vec<CompletionItem> = open
                .last
                .completion(&open.text, offset(&open.text, doc.position))
                .into_iter()
                .map(|c| CompletionItem {
                    label: c.label,
                    kind: Some(match c.kind {
                        CompletionKind::Function => CompletionItemKind::FUNCTION,
                        CompletionKind::Field => CompletionItemKind::FIELD,
                        CompletionKind::Kind => CompletionItemKind::ENUM_MEMBER,
                        CompletionKind::Keyword => CompletionItemKind::KEYWORD,
                        CompletionKind::Constant => CompletionItemKind::CONSTANT,
                        CompletionKind::Variable => CompletionItemKind::VARIABLE,
                    }),
                    detail: c.detail,
                    documentation: c.documentation.map(|d| {
                        lsp_types::Documentation::MarkupContent(MarkupContent { kind: MarkupKind::Markdown, value: d })
                    }),
                    ..CompletionItem::default()
                })
                .collect();
            Response::new_ok(id, items)
        }
        Formatting::METHOD => {
            let Ok(p) = serde_json::from_value::<lsp_types::DocumentFormattingParams>(request.params) else {
                return bad(id);
            };
            let Some(open) = docs.get(p.text_document.uri.as_str()) else { return missing(id) };
            let edits: Vec<TextEdit> = analysis::format(p.text_document.uri.as_str(), &open.text)
                .map(|new_text| {
                    let end = position(&open.text, open.text.len());
                    vec![TextEdit { range: Range { start: Position::new(0, 0), end }, new_text }]
                })
                .unwrap_or_default();
            Response::new_ok(id, edits)
        }
        _ => Response::new_err(id, ErrorCode::MethodNotFound as i32, format!("`{}` is not supported", request.method)),
    }
}

fn bad(id: lsp_server::RequestId) -> Response {
    Response::new_err(id, ErrorCode::InvalidParams as i32, "invalid parameters".into())
}

/// The editor's workspace folders (`workspaceFolders`, else the older `rootUri` and `rootPath`), where
/// `policy check` would run: the project of a file outside every `vigil.toml` is found from there.
fn workspace_roots(params: &serde_json::Value) -> Vec<PathBuf> {
    let uri = |v: &serde_json::Value| v.as_str().and_then(|u| u.parse::<Uri>().ok()).and_then(|u| file_path(&u));
    let mut roots: Vec<PathBuf> =
        params["workspaceFolders"].as_array().into_iter().flatten().filter_map(|f| uri(&f["uri"])).collect();
    if roots.is_empty() {
        roots.extend(uri(&params["rootUri"]).or_else(|| params["rootPath"].as_str().map(PathBuf::from)));
    }
    roots
}

/// The path of a `file:` URI (percent-decoded).
fn file_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = rest.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok().map(PathBuf::from)
}

fn file_uri(path: &str) -> Option<Uri> {
    let absolute = std::path::absolute(path).ok()?;
    let mut encoded = String::from("file://");
    for b in absolute.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    encoded.parse().ok()
}

/// A protocol position (line, UTF-16 column) as a byte offset, clamped to the text.
fn offset(text: &str, position: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let mut units = 0;
    for (i, c) in text[line_start..].char_indices() {
        if c == '\n' || units >= position.character as usize {
            return line_start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// A byte offset as a protocol position.
fn position(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = before[line_start..].chars().map(char::len_utf16).sum();
    Position::new(line as u32, character as u32)
}
