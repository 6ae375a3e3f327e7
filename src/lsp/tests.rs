//! The analysis behind `policy lsp`, on small files (the protocol itself is tested in tests/it/lsp.rs).

use super::{CompletionKind, analyse, format};

const POLICY: &str = r#"package t

/// Publishers we trust.
param trusted = ["acme"]

fn org(id) = split(id, "/")[0]

/// Cards name a licence.
rule "T-001" {
  title = "Licence"
  severity = high
  applies_to = ModelCard
  let base = input.base_model
  require org(base) in trusted else "untrusted"
  require input.licence != null
}

rule "T-002" {
  title = "Steps"
  severity = low
  applies_to = GitHubWorkflow
  for id, job in input.jobs {
    for step in job.steps {
      require step.uses != null
    }
  }
}
"#;

fn at(text: &str, needle: &str) -> usize {
    text.find(needle).unwrap_or_else(|| panic!("{needle} not in the text"))
}

#[test]
fn problems_are_checker_errors_and_schema_warnings() {
    let a = analyse("t.policy", POLICY, &[], &[]);
    let shown: Vec<(&str, bool, &str)> =
        a.problems.iter().map(|p| (p.code, p.warning, &POLICY[p.start..p.end])).collect();
    assert_eq!(shown, [("vigil::unknown-path", true, "licence")]);
    assert!(a.problems[0].message.contains("did you mean `license`?"));
    let broken = POLICY.replace("split(id", "splt(id");
    let a = analyse("t.policy", &broken, &[], &[]);
    assert!(a.problems.iter().any(|p| p.code == "vigil::unknown-function" && !p.warning), "{:?}", a.problems);
}

#[test]
fn hover_shows_builtins_rules_declarations_kinds_and_input_paths() {
    let a = analyse("t.policy", POLICY, &[], &[]);
    let hover = |needle: &str| a.hover(at(POLICY, needle) + 1).unwrap_or_default();
    assert!(hover("split(").starts_with("```\nsplit("), "{}", hover("split("));
    assert!(hover("T-001").contains("**severity**: high"));
    assert!(hover("trusted else").contains("param trusted = [\"acme\"]"));
    assert!(hover("trusted else").contains("Publishers we trust."));
    assert!(hover("ModelCard\n").contains("document kind `ModelCard`"));
    assert!(hover("base_model").contains("derives from"), "{}", hover("base_model"));
    assert!(hover("uses !=").contains("Action to run"), "{}", hover("uses !="));
}

#[test]
fn definitions_of_functions_params_and_locals() {
    let a = analyse("t.policy", POLICY, &[], &[]);
    let def = |needle: &str| a.definition(at(POLICY, needle) + 1).map(|p| (p.file, &POLICY[p.start..p.end], p.start));
    assert_eq!(def("org(base)"), Some(("t.policy".into(), "org", at(POLICY, "org(id)"))));
    assert_eq!(def("trusted else"), Some(("t.policy".into(), "trusted", at(POLICY, "trusted ="))));
    assert_eq!(def("base) in"), Some(("t.policy".into(), "base", at(POLICY, "base ="))));
    // Across files of the package.
    let other = ("lib.policy".to_string(), "package t\nconst limit = 3\n".to_string());
    let text = POLICY.replace("!= null\n}", "!= limit\n}");
    let a = analyse("t.policy", &text, &[other], &[]);
    let place = a.definition(at(&text, "limit\n}") + 1).expect("found");
    assert_eq!((place.file.as_str(), place.start), ("lib.policy", 16));
}

#[test]
fn completion_of_input_paths_locals_and_kinds() {
    let a = analyse("t.policy", POLICY, &[], &[]);
    let labels = |text: &str, offset: usize| -> Vec<String> {
        a.completion(text, offset).into_iter().map(|c| c.label).collect()
    };
    // Typing `input.` in the first rule: model card keys.
    let typed = POLICY.replace("require input.licence", "require input.");
    let offset = at(&typed, "require input.") + "require input.".len();
    let got = labels(&typed, offset);
    assert!(got.contains(&"license".to_string()) && got.contains(&"base_model".to_string()), "{got:?}");
    // `step.` in the second: the members of a workflow step, from the last parse's notes.
    let typed = POLICY.replace("step.uses", "step.");
    let got = labels(&typed, at(&typed, "step. ") + 5);
    assert!(got.contains(&"uses".to_string()) && got.contains(&"with".to_string()), "{got:?}");
    // After `applies_to =`: kinds.
    let offset = at(POLICY, "= ModelCard") + 2;
    let all = a.completion(POLICY, offset);
    assert!(all.iter().all(|c| c.kind == CompletionKind::Kind) && all.iter().any(|c| c.label == "MLBom"));
    // Elsewhere: builtins and the package's names.
    let got = labels(POLICY, at(POLICY, "org(base)"));
    assert!(got.contains(&"starts_with".to_string()) && got.contains(&"trusted".to_string()), "{got:?}");
}

#[test]
fn formatting_never_changes_meaning() {
    assert_eq!(format("t.policy", "package t   \n\n\n"), Some("package t\n".to_string()));
    assert_eq!(format("t.policy", "package t\n"), None);
    // Trailing spaces inside a string literal are part of it: left alone.
    let text = "package t\nconst a = \"x  \ny\"\n";
    assert_eq!(format("t.policy", text), None);
    assert_eq!(format("t.policy", "package"), None);
}

#[test]
fn offsets_from_another_version_of_the_text_never_panic() {
    let text = "package t\n# é ü ß\nconst a = \"ñ\"\n";
    let a = analyse("t.policy", text, &[], &[]);
    for offset in 0..text.len() + 5 {
        let _ = a.hover(offset);
        let _ = a.definition(offset);
        let _ = a.completion(text, offset);
    }
}

#[test]
fn a_project_brings_its_files_params_and_the_bundled_packs() {
    use super::{Project, analyse_in};
    let text = "package demo\nparam max_layers = 3\nrule \"MC-LIC-001\" {\n  title = \"t\"\n  severity = low\n  applies_to = ModelCard\n  require org(input.license) != \"\"\n  require max_layers > 0\n}\n";
    let helpers = ("other/helpers.policy".to_string(), "package demo\nfn org(id) = split(id, \"/\")[0]\n".to_string());
    let project = Project {
        policies: vec![helpers],
        builtin: true,
        params: vec![
            ("demo.max_layers".into(), crate::Value::from("three")),
            ("demo.max_layer".into(), crate::Value::from(4)),
        ],
        ..Project::default()
    };
    let a = analyse_in("rules/demo.policy", text, &project);
    let shown: Vec<(&str, &str)> = a.problems.iter().map(|p| (p.code, p.message.as_str())).collect();
    assert!(!shown.iter().any(|(c, _)| *c == "vigil::unknown-function"), "{shown:?}");
    assert!(shown.iter().any(|(c, m)| *c == "vigil::duplicate" && m.contains("MC-LIC-001")), "{shown:?}");
    let renamed = text.replace("MC-LIC-001", "DEMO-001");
    let a = analyse_in("rules/demo.policy", &renamed, &project);
    let shown: Vec<(&str, &str)> = a.problems.iter().map(|p| (p.code, p.message.as_str())).collect();
    assert!(shown.iter().any(|(_, m)| m.contains("parameter `demo.max_layers` must be")), "{shown:?}");
    assert!(
        shown.iter().any(|(_, m)| m.contains("vigil.toml `[params]`: no policy declares a parameter `demo.max_layer`")),
        "{shown:?}"
    );
}

#[test]
fn the_project_is_found_above_the_file_else_from_the_workspace_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("canonical");
    let write = |name: &str, text: &str| {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write("proj/vigil.toml", "policies = [\"lib\"]\nbuiltin = false\n");
    write("proj/lib/helpers.policy", "package demo\nfn org(id) = id\n");
    write("proj/rules/a.policy", "package demo\n");
    write("proj/rules/b.policy", "package demo\n");
    write("scratch/c.policy", "package demo\n");
    let names = |p: &super::Project| -> Vec<String> {
        p.policies.iter().map(|(n, _)| n.rsplit('/').next().unwrap_or("").to_string()).collect()
    };
    // Above the file: the configured folder and the file's own, never the file itself, once each.
    let found = super::project(&root.join("proj/rules/a.policy"), &[]);
    assert_eq!(found.config, Some(root.join("proj/vigil.toml")));
    assert!(!found.builtin);
    assert_eq!(names(&found), ["helpers.policy", "b.policy"]);
    // Outside it, the workspace folder's vigil.toml applies (as `policy check` run there).
    let found = super::project(&root.join("scratch/c.policy"), &[root.join("proj")]);
    assert_eq!(found.config, Some(root.join("proj/vigil.toml")));
    assert_eq!(names(&found), ["helpers.policy"]);
    // A broken vigil.toml is a problem to show, not a silent fallback.
    write("proj/vigil.toml", "policies = [\n");
    let found = super::project(&root.join("proj/rules/a.policy"), &[]);
    assert!(!found.problems.is_empty() && found.problems[0].contains("vigil.toml"), "{:?}", found.problems);
}
