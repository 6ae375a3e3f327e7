//! `compare --scaling`: how per-document cost grows with the number of documents, of rules and of array items.
//!
//! - Documents (1k / 10k / 100k): per-document time should stay flat; growth means something cached per
//!   document, or a working set that stops fitting in cache.
//! - Rules (10 / 100 / 1,000): the ten rules cloned under new ids, with `applies_to` alternating between
//!   ModelCard and MLBom, so only about half of them apply to the (ModelCard) documents. Vigil indexes rules
//!   by kind and never looks at the others; Rego has no kinds, so its clones start with the equivalent guard
//!   (`input.kind == "MLBom"`) and every clone is visited.
//! - Array items (10 / 1,000 / 100,000 artifacts in one document): the per-item rules (R2, R3) dominate, so
//!   this shows the per-element cost of a `for` loop against Rego's `some ... in`.
//!
//! Every configuration is checked for agreement between the engines before it is timed.

use std::time::Instant;

use crate::engines::{Contender, Format, Parsed, RegorusEngine, RegorusVm, VigilEngine, modelcard_contenders};
use crate::measure::{Samples, Stats, Table, interleaved, median_micros, micros, ratio, thousands};
use crate::workload::{DataDir, Workload, agreement, rego_policy};

/// Parses `texts` with every engine: `inputs[engine][doc]`.
fn parse_all(engines: &[Box<dyn Contender>], texts: &[String], format: Format) -> Result<Vec<Vec<Parsed>>, String> {
    let names: Vec<String> = (0..texts.len()).map(|i| format!("doc-{i:05}.{}", format.extension())).collect();
    engines
        .iter()
        .map(|e| texts.iter().zip(&names).map(|(t, n)| e.parse(n, t, format)).collect::<Result<Vec<_>, _>>())
        .collect()
}

/// Times pre-parsed evaluation of `docs` samples (sample `i` evaluates document `i % inputs.len()`).
fn time_preparsed(
    engines: &mut [Box<dyn Contender>],
    inputs: &[Vec<Parsed>],
    docs: usize,
    passes: usize,
) -> Vec<Stats> {
    let names: Vec<&str> = engines.iter().map(|e| e.name()).collect();
    let per = inputs[0].len();
    let samples: Vec<Samples> = interleaved(&names, docs, passes, 1, |e, i| {
        let start = Instant::now();
        std::hint::black_box(engines[e].run(&inputs[e][i % per]));
        (start.elapsed(), Default::default())
    });
    samples.iter().map(|s| Stats::of(&s.total)).collect()
}

/// Rows for 1k/10k/100k generated documents, all four engines.
pub fn documents(counts: &[usize], passes: usize) -> Result<String, String> {
    let mut table = Table::new(&[
        "documents",
        "Vigil",
        "regorus",
        "regorus RVM",
        "baseline",
        "Vigil ÷ regorus",
        "Vigil ÷ baseline",
        "Vigil docs/s",
    ]);
    let rego = rego_policy().map_err(|e| e.to_string())?;
    for &count in counts {
        eprintln!("scaling: {count} documents");
        let data = DataDir::prepare(None, count, false)?;
        let workload = Workload::read(&data.path, false)?;
        let mut engines = modelcard_contenders(crate::WORKLOAD_POLICY, &rego)?;
        let inputs = parse_all(&engines, &workload.json, Format::Json)?;
        agreement(&mut engines, &inputs, Some(&workload.expected))?;
        let st = time_preparsed(&mut engines, &inputs, count, passes);
        let mut row = vec![thousands(count as f64)];
        row.extend(st.iter().map(|s| micros(s.median)));
        row.extend([
            ratio(st[0].median / st[1].median),
            ratio(st[0].median / st[3].median),
            thousands(st[0].per_second()),
        ]);
        table.row(&row);
    }
    Ok(table.render().to_string())
}

/// The Vigil workload policy with its ten rules cloned `copies` times in all (copy 0 is the original).
pub fn vigil_rules(copies: usize) -> String {
    let text = crate::WORKLOAD_POLICY;
    let first = text.find("\nrule \"").map_or(text.len(), |p| p + 1);
    let (head, rules) = text.split_at(first);
    let mut out = head.to_string();
    for k in 0..copies {
        for block in rules.split("\nrule \"").filter(|b| !b.trim().is_empty()) {
            let block = block.strip_prefix("rule \"").unwrap_or(block);
            let (id, rest) = block.split_once('"').unwrap_or((block, ""));
            let rest = if k % 2 == 1 {
                rest.replace("applies_to = ModelCard", "applies_to = MLBom")
            } else {
                rest.to_string()
            };
            let id = if k == 0 { id.to_string() } else { format!("{id}-c{k}") };
            out.push_str(&format!("rule \"{id}\"{}\n", rest.trim_end()));
            out.push('\n');
        }
    }
    out
}

/// The Rego policy with every `violations` rule cloned `copies` times; clone `k` reports `Rn-ck` and starts
/// with a kind guard (MLBom for odd `k`), the Rego way of saying `applies_to`.
pub fn rego_rules(rego: &str, copies: usize) -> String {
    let mut out = rego.to_string();
    let blocks: Vec<&str> =
        rego.split("\n\n").filter_map(|b| b.find("violations contains").map(|p| b[p..].trim())).collect();
    for k in 1..copies {
        let kind = if k % 2 == 1 { "MLBom" } else { "ModelCard" };
        for block in &blocks {
            let (head, body) = block.split_once(" if {\n").unwrap_or((block, ""));
            let id_end = head.find("\", \"message\"").unwrap_or(head.len());
            let head = format!("{}-c{k}{}", &head[..id_end], &head[id_end..]);
            out.push_str(&format!("\n{head} if {{\n\tinput.kind == \"{kind}\"\n{body}\n"));
        }
    }
    out
}

/// Rows for 10/100/1,000 rules over `docs` workload documents: Vigil and both regorus engines.
pub fn rules(rule_counts: &[usize], docs: usize, passes: usize) -> Result<String, String> {
    let mut table = Table::new(&[
        "rules (apply to ModelCard)",
        "Vigil compile",
        "regorus compile",
        "Vigil",
        "regorus",
        "regorus RVM",
        "Vigil ÷ regorus",
    ]);
    let rego = rego_policy().map_err(|e| e.to_string())?;
    let data = DataDir::prepare(None, docs, false)?;
    let workload = Workload::read(&data.path, false)?;
    for &n in rule_counts {
        eprintln!("scaling: {n} rules");
        let copies = (n / 10).max(1);
        let (vtext, rtext) = (vigil_rules(copies), rego_rules(&rego, copies));
        let vigil_compile = median_micros(5, || VigilEngine::new("rules.policy", &vtext));
        let rego_compile = median_micros(5, || RegorusEngine::new(&rtext));
        let mut engines: Vec<Box<dyn Contender>> = vec![
            Box::new(VigilEngine::new("rules.policy", &vtext)?),
            Box::new(RegorusEngine::new(&rtext)?),
            Box::new(RegorusVm::new(&rtext)?),
        ];
        let inputs = parse_all(&engines, &workload.json, Format::Json)?;
        agreement(&mut engines, &inputs, None)?;
        let st = time_preparsed(&mut engines, &inputs, docs, passes);
        let applying = 10 * copies.div_ceil(2);
        table.row(&[
            format!("{} ({applying})", thousands((10 * copies) as f64)),
            micros(vigil_compile),
            micros(rego_compile),
            micros(st[0].median),
            micros(st[1].median),
            micros(st[2].median),
            ratio(st[0].median / st[1].median),
        ]);
    }
    Ok(table.render().to_string())
}

/// A compliant workload card with `n` artifacts: every 10th has format `pickle` (R2), every 25th a sha256 one
/// character short (R3), so the records grow with `n` too.
pub fn card_with_artifacts(card: &serde_json::Value, n: usize) -> String {
    let mut card = card.clone();
    let artifacts: Vec<serde_json::Value> = (0..n)
        .map(|k| {
            let mut sha = format!("{:064x}", (k as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835));
            if k % 25 == 24 {
                sha.pop();
            }
            serde_json::json!({
                "path": format!("model-{:06}-of-{n:06}.safetensors", k + 1),
                "format": if k % 10 == 9 { "pickle" } else { "safetensors" },
                "sha256": sha,
                "size": 1_000_000 + k * 7919,
            })
        })
        .collect();
    card["artifacts"] = serde_json::Value::Array(artifacts);
    card.to_string()
}

/// Rows for documents with 10/1,000/100,000 artifacts: all four engines, per document and per item.
pub fn items(item_counts: &[usize]) -> Result<String, String> {
    let mut table = Table::new(&[
        "artifacts",
        "Vigil",
        "regorus",
        "regorus RVM",
        "baseline",
        "Vigil per item",
        "Vigil ÷ regorus",
        "Vigil ÷ baseline",
    ]);
    let rego = rego_policy().map_err(|e| e.to_string())?;
    let data = DataDir::prepare(None, 50, false)?;
    let workload = Workload::read(&data.path, false)?;
    let compliant = workload.expected.rules_per_doc.iter().position(Vec::is_empty).ok_or("no compliant document")?;
    let card: serde_json::Value = serde_json::from_str(&workload.json[compliant]).map_err(|e| e.to_string())?;
    for &n in item_counts {
        eprintln!("scaling: {n} artifacts");
        let text = card_with_artifacts(&card, n);
        let mut engines = modelcard_contenders(crate::WORKLOAD_POLICY, &rego)?;
        let inputs = parse_all(&engines, std::slice::from_ref(&text), Format::Json)?;
        agreement(&mut engines, &inputs, None)?;
        // Enough samples for a stable median without spending minutes on the largest documents.
        let reps = (200_000 / n).clamp(5, 500);
        let st = time_preparsed(&mut engines, &inputs, reps, 1);
        let mut row = vec![thousands(n as f64)];
        row.extend(st.iter().map(|s| micros(s.median)));
        row.push(format!("{:.0} ns", st[0].median * 1000.0 / n as f64));
        row.extend([ratio(st[0].median / st[1].median), ratio(st[0].median / st[3].median)]);
        table.row(&row);
    }
    Ok(table.render().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloned_vigil_rules_compile_and_half_the_clones_apply_to_model_cards() {
        let policies = vigil::Engine::default().compile([("rules.policy", vigil_rules(4))]).expect("compiles");
        assert_eq!(policies.rules().count(), 40);
        assert_eq!(policies.rules_for(vigil::Kind::ModelCard), 20);
        assert!(policies.rules().any(|r| r.id == "R10-c3"));
    }

    #[test]
    fn cloned_rego_rules_report_under_their_new_ids() {
        if crate::workload::unavailable().is_some() {
            return;
        }
        let rego = rego_rules(&rego_policy().expect("reads"), 3);
        let data = DataDir::prepare(None, 20, false).expect("generates");
        let workload = Workload::read(&data.path, false).expect("reads");
        let mut card: serde_json::Value = serde_json::from_str(&workload.json[0]).expect("JSON");
        card["license"] = "gpl-3.0".into();
        let card = card_with_artifacts(&card, 10);
        let mut engine = RegorusEngine::new(&rego).expect("compiles");
        let parsed = engine.parse("card.json", &card, Format::Json).expect("parses");
        let ids: Vec<String> = engine.records(&parsed).expect("evaluates").into_iter().map(|r| r.0).collect();
        // Copy 0 and copy 2 (a ModelCard guard) apply; copy 1 is for MLBom.
        assert!(["R1", "R1-c2", "R2", "R2-c2"].iter().all(|r| ids.contains(&r.to_string())), "{ids:?}");
        assert!(!ids.iter().any(|id| id.ends_with("-c1")), "{ids:?}");
        let mut vigil = VigilEngine::new("rules.policy", &vigil_rules(3)).expect("compiles");
        let parsed = vigil.parse("card.json", &card, Format::Json).expect("parses");
        let mut vigil_ids: Vec<String> = vigil.records(&parsed).expect("evaluates").into_iter().map(|r| r.0).collect();
        let mut ids = ids;
        ids.sort();
        vigil_ids.sort();
        assert_eq!(ids, vigil_ids);
    }
}
