// Tokenises every policy file given (or every bundled one) with the extension's TextMate grammar, as VS Code
// does (vscode-textmate + the Oniguruma regex engine), and fails when any character gets an `invalid` scope
// or a file ends inside a string or interpolation: the grammar's catch-all marks whatever it does not know
// as invalid, so a construct it misreads shows up here. Also checks a few scopes that matter.
// Usage: node test/tokenize.js [FILE...]   (run `npm ci` first for the two dev dependencies)
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const root = path.join(__dirname, "..");
const wasm = fs.readFileSync(path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm")).buffer;

function policyFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...policyFiles(p));
    else if (entry.name.endsWith(".policy")) out.push(p);
  }
  return out.sort();
}

async function main() {
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async () => {
      const file = path.join(root, "syntaxes", "policy.tmLanguage.json");
      return vsctm.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
    },
  });
  const grammar = await registry.loadGrammar("source.vigil-policy");
  const files = process.argv.length > 2 ? process.argv.slice(2) : policyFiles(path.join(root, "..", "..", "policies"));
  if (files.length === 0) throw new Error("no policy files found");
  let problems = 0;
  const seen = new Set();
  for (const file of files) {
    const lines = fs.readFileSync(file, "utf8").split("\n");
    let stack = vsctm.INITIAL;
    lines.forEach((line, i) => {
      const result = grammar.tokenizeLine(line, stack);
      for (const token of result.tokens) {
        const text = line.slice(token.startIndex, token.endIndex);
        for (const scope of token.scopes) seen.add(scope.split(".").slice(0, 2).join("."));
        if (token.scopes.some((s) => s.startsWith("invalid"))) {
          problems++;
          console.error(`${file}:${i + 1}:${token.startIndex + 1}: \`${text}\` is ${token.scopes.join(" ")}`);
        }
      }
      stack = result.ruleStack;
    });
    if (stack.depth > 1) {
      problems++;
      console.error(`${file}: ends inside a string or interpolation (the grammar lost track)`);
    }
  }
  // The bundled policies use every kind of token; a grammar whose rules stopped matching loses some.
  const expected = ["comment.line", "string.quoted", "string.regexp", "keyword.control", "storage.type",
    "entity.name", "constant.numeric", "support.class", "variable.other", "keyword.operator", "meta.interpolation"];
  if (process.argv.length <= 2) {
    for (const scope of expected) {
      if (!seen.has(scope)) {
        problems++;
        console.error(`no token has the scope ${scope}`);
      }
    }
  }
  console.log(`${files.length} files tokenised, ${problems} problems`);
  process.exit(problems === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
