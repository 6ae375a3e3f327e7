// The Vigil policy extension: starts `policy lsp` (diagnostics, hover, go to definition, completion,
// formatting) for `.policy` files. Highlighting comes from the TextMate grammar alone.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("vigil").get("path") || "policy";
  const server = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "vigil",
    "Vigil policies",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "vigil-policy" }] }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
