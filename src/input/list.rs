//! Kubernetes lists: what `kubectl get -o yaml` writes (`kind: List`) and what the API returns for a
//! collection (`PodList`, `DeploymentList`, ...). A list is not itself an object the cluster runs: each of
//! its `items` is one, so each is checked as its own document, of its own kind, located inside the list
//! (JSON pointers `/items/3/spec/...`, lines of the list's file).
//!
//! Items of a typed list (`PodList`) may leave out `kind` and `apiVersion`, as the API server does: they
//! take them from the list, so that rules keyed on `input.kind` see them. Items of a plain `List` carry
//! their own; one that does not is an error rather than a document no rule applies to.

use std::collections::HashSet;
use std::sync::Arc;

use super::LoadError;
use super::locate::{NodeSpan, Tree, container, walk_len};
use crate::source::{Source, Span};
use crate::value::Value;

/// One item of a list: its tree (spans inside the list's file) and its pointer prefix (`/items/3`).
pub(crate) struct Item {
    pub tree: Tree,
    pub prefix: String,
}

/// The list's `kind` (`List`, `PodList`) when `value` is a Kubernetes list: `apiVersion`, a `kind` ending
/// in `List` and an `items` array.
fn list_kind(value: &Value) -> Option<&str> {
    let kind = value.get("kind")?.as_str()?;
    value.get("apiVersion")?.as_str()?;
    (kind.ends_with("List") && matches!(value.get("items"), Some(Value::Array(_)))).then_some(kind)
}

/// Whether `value` is a Kubernetes list, whose items [`unwrap`] makes documents.
pub(crate) fn is_list(value: &Value) -> bool {
    list_kind(value).is_some()
}

/// The items of `tree` when it is a Kubernetes list, else `None`.
pub(crate) fn unwrap(src: &Source, tree: &Tree) -> Option<Result<Vec<Item>, LoadError>> {
    let list_kind = list_kind(&tree.value)?;
    let Value::Object(root) = &tree.value else { return None };
    let item_kind = list_kind.strip_suffix("List").filter(|k| !k.is_empty());
    let api_version = root.get("apiVersion").cloned().unwrap_or(Value::Null);
    // Walk the root as the locator does, to find where each entry's spans are: the items' follow the `items`
    // node's own, one subtree after the other.
    let mut seen = HashSet::new();
    seen.insert(container(&tree.value)?);
    let mut at = 1;
    let (mut kind_span, mut api_span) = (NodeSpan::default(), NodeSpan::default());
    let mut out = Vec::new();
    for (key, value) in root.iter() {
        let entry = tree.spans.get(at).copied().unwrap_or_default();
        match &**key {
            "kind" => kind_span = entry,
            "apiVersion" => api_span = entry,
            _ => {}
        }
        let Value::Array(items) = value else {
            at += walk_len(value, &mut seen);
            continue;
        };
        if &**key != "items" || !seen.insert(container(value)?) {
            at += walk_len(value, &mut seen);
            continue;
        }
        at += 1;
        for item in items.iter() {
            let n = walk_len(item, &mut seen);
            out.push((item, tree.spans.get(at..at + n).map(<[NodeSpan]>::to_vec).unwrap_or_default()));
            at += n;
        }
    }
    let mut items = Vec::with_capacity(out.len());
    for (i, (item, mut spans)) in out.into_iter().enumerate() {
        let item_span = spans.first().map_or(Span::default(), |s| s.value);
        let Value::Object(map) = item else {
            let message = format!("item {i} of the {list_kind} is not an object");
            return Some(Err(LoadError::syntax(src, item_span, message)));
        };
        let mut map = map.clone();
        if map.get("kind").is_none() {
            let Some(kind) = item_kind else {
                let message = format!("item {i} of the {list_kind} has no `kind`: Vigil cannot tell what it is");
                return Some(Err(LoadError::syntax(src, item_span, message)));
            };
            // Appended entries come last in the locator's walk, so their spans go last too; they point at
            // the list's own `kind` and `apiVersion`, where the values come from.
            Arc::make_mut(&mut map).insert("kind".into(), Value::from(kind));
            spans.push(kind_span);
        }
        if map.get("apiVersion").is_none() {
            Arc::make_mut(&mut map).insert("apiVersion".into(), api_version.clone());
            spans.push(api_span);
        }
        items.push(Item { tree: Tree { value: Value::Object(map), spans }, prefix: format!("/items/{i}") });
    }
    Some(Ok(items))
}
