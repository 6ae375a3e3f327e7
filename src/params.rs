//! The tunable parameters of a policy set: `policy list --params`.
//!
//! A `param` is a `const` users may override (`--param`, `[params]` in vigil.toml). To tune one, a user
//! needs its name, the type a new value must have, the default, what it is for, and which rules it changes.
//! The last is not in the compiled program (constant folding inlines values), so it is read from the
//! policy sources: a rule uses a parameter when the rule's text names it, or names a `const` or `fn` of
//! its package that does, at any depth.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::engine::PolicySet;
use crate::functions::Ty;
use crate::syntax::ast::{File, Item};
use crate::value::Value;

/// One parameter.
#[derive(Clone, Debug, Serialize)]
pub struct ParamInfo {
    /// `package.name`, the name that is unambiguous in `--param`.
    pub name: String,
    /// The type a value must have (that of the default): "array", "string" ...
    #[serde(rename = "type")]
    pub ty: String,
    /// The value in effect: the default, unless `--param` changed it.
    pub default: Value,
    /// The `///` text above the declaration.
    pub description: String,
    /// Ids of the rules that read it, in rule order.
    pub rules: Vec<String>,
    /// Where it is declared: `file:line`.
    pub declared_at: String,
}

static IDENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[A-Za-z_][A-Za-z0-9_]*").expect("valid regex"));

/// Every `param` of `policies`, in declaration order.
pub fn params(policies: &PolicySet) -> Vec<ParamInfo> {
    let program = &policies.program;
    let values: HashMap<&str, &Value> = program
        .const_inits
        .iter()
        .filter_map(|init| Some((init.param.as_deref()?, &program.consts[init.slot as usize])))
        .collect();
    // Per package: the names it declares, and the identifiers each declaration's text mentions.
    let mut mentions: HashMap<(String, String), BTreeSet<String>> = HashMap::new();
    let mut rules: Vec<(String, String, BTreeSet<String>)> = Vec::new();
    let mut declared: Vec<(String, String, String, String)> = Vec::new();
    for source in &program.sources {
        let Ok(file): Result<File, _> = crate::syntax::parse(source) else { continue };
        let package = file.package.name.clone();
        let words = |start: u32, end: u32| -> BTreeSet<String> {
            let text = source.text().get(start as usize..end as usize).unwrap_or("");
            IDENT.find_iter(text).map(|m| m.as_str().to_string()).collect()
        };
        for item in &file.items {
            match item {
                Item::Const(d) | Item::Param(d) => {
                    mentions
                        .insert((package.clone(), d.name.name.clone()), words(d.value.span.start, d.value.span.end));
                    if let Item::Param(d) = item {
                        let (line, _) = source.line_col(d.name.span.start);
                        let at = format!("{}:{line}", source.name());
                        declared.push((package.clone(), d.name.name.clone(), d.doc.trim().to_string(), at));
                    }
                }
                Item::Fn(f) => {
                    mentions.insert((package.clone(), f.name.name.clone()), words(f.body.span.start, f.body.span.end));
                }
                Item::Rule(r) => rules.push((package.clone(), r.id.name.clone(), words(r.span.start, r.span.end))),
                Item::Import(_) => {}
            }
        }
    }
    // Whether `words` (in `package`) reach the declaration `target`, through other declarations.
    let reaches = |package: &str, words: &BTreeSet<String>, target: &str| -> bool {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut stack: Vec<&String> = words.iter().collect();
        while let Some(word) = stack.pop() {
            if word == target {
                return true;
            }
            if !seen.insert(word.clone()) {
                continue;
            }
            if let Some(inner) = mentions.get(&(package.to_string(), word.clone())) {
                stack.extend(inner.iter());
            }
        }
        false
    };
    declared
        .into_iter()
        .map(|(package, name, description, declared_at)| {
            let qualified = format!("{package}.{name}");
            let default = values.get(qualified.as_str()).map_or(Value::Null, |v| (*v).clone());
            let users = rules
                .iter()
                .filter(|(p, _, words)| *p == package && reaches(p, words, &name))
                .map(|(_, id, _)| id.clone())
                .collect();
            // "an array" reads as prose; a column wants "array".
            let ty = Ty::of(&default).to_string();
            let ty = ty.strip_prefix("an ").or_else(|| ty.strip_prefix("a ")).unwrap_or(&ty).to_string();
            ParamInfo { ty, name: qualified, default, description, rules: users, declared_at }
        })
        .collect()
}

/// Aligned columns: name, type, default and rules; the description on the next line.
pub fn table(params: &[ParamInfo]) -> String {
    let shown: Vec<(String, String)> = params
        .iter()
        .map(|p| {
            let mut default = serde_json::to_string(&p.default).unwrap_or_default();
            if default.chars().count() > 48 {
                default = default.chars().take(47).collect::<String>() + "…";
            }
            let rules = if p.rules.is_empty() { "-".to_string() } else { p.rules.join(", ") };
            (default, rules)
        })
        .collect();
    let width = |f: &dyn Fn(usize) -> usize, title: usize| (0..params.len()).map(f).max().unwrap_or(0).max(title);
    let name_w = width(&|i| params[i].name.chars().count(), 5);
    let ty_w = width(&|i| params[i].ty.chars().count(), 4);
    let default_w = width(&|i| shown[i].0.chars().count(), 7);
    let mut out = format!("{:name_w$}  {:ty_w$}  {:default_w$}  RULES\n", "PARAM", "TYPE", "DEFAULT");
    for (p, (default, rules)) in params.iter().zip(&shown) {
        out.push_str(&format!("{:name_w$}  {:ty_w$}  {:default_w$}  {rules}\n", p.name, p.ty, default));
        let description = p.description.split_whitespace().collect::<Vec<_>>().join(" ");
        if !description.is_empty() {
            out.push_str(&format!("    {description}\n"));
        }
    }
    out
}

/// A JSON array of parameters.
pub fn json(params: &[ParamInfo]) -> String {
    let mut text = serde_json::to_string_pretty(params).unwrap_or_default();
    text.push('\n');
    text
}

/// A Markdown table.
pub fn markdown(params: &[ParamInfo]) -> String {
    let mut out = String::from("| parameter | type | default | rules | description |\n|---|---|---|---|---|\n");
    for p in params {
        let default = serde_json::to_string(&p.default).unwrap_or_default().replace('|', "\\|");
        let description = p.description.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|");
        out.push_str(&format!("| `{}` | {} | `{default}` | {} | {description} |\n", p.name, p.ty, p.rules.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Engine;

    #[test]
    fn parameters_name_their_type_default_and_rules_through_consts_and_functions() {
        let policy = r#"package p
/// Licences that pass.
param allowed = ["mit"]
param limit = 3
param unused = "x"
const also = allowed
fn ok(l) = l in also
rule "P-1" {
  title = "a"
  severity = low
  applies_to = ModelCard
  require ok(input.license)
}
rule "P-2" {
  title = "b"
  severity = low
  applies_to = ModelCard
  require len(input.tags ?? []) <= limit
}
"#;
        let policies = Engine::default().compile([("p.policy", policy)]).expect("compiles");
        let got = params(&policies);
        let rows: Vec<(&str, &str, Vec<&str>)> = got
            .iter()
            .map(|p| (p.name.as_str(), p.ty.as_str(), p.rules.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            rows,
            [("p.allowed", "array", vec!["P-1"]), ("p.limit", "number", vec!["P-2"]), ("p.unused", "string", vec![])]
        );
        assert_eq!(got[0].description, "Licences that pass.");
        assert_eq!(got[0].declared_at, "p.policy:3");
        assert_eq!(got[0].default, Value::from_json("[\"mit\"]").unwrap());
        let table = table(&got);
        assert!(table.starts_with("PARAM      TYPE    DEFAULT  RULES\np.allowed  array   [\"mit\"]  P-1\n"), "{table}");
    }
}
