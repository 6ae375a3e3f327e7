//! The shipped secrets plugin (examples/plugins/secrets): the committed module matches its pin and its
//! source, its precision and recall on a labelled set, and its rules through the real binary.
#![cfg(feature = "plugins")]

use std::path::Path;
use std::process::Command;

use vigil::CallContext;
use vigil::unstable::plugins::{PluginOptions, PluginSource, sha256_hex};
use vigil::{Engine, Value};

const DIR: &str = "examples/plugins/secrets";

fn committed() -> (Vec<u8>, String) {
    let wasm = std::fs::read(format!("{DIR}/secrets.wasm")).unwrap();
    let pin = std::fs::read_to_string(format!("{DIR}/secrets.wasm.sha256")).unwrap().trim().to_string();
    (wasm, pin)
}

#[test]
fn the_committed_module_matches_its_pin_everywhere() {
    let (wasm, pin) = committed();
    assert_eq!(sha256_hex(&wasm), pin, "secrets.wasm.sha256 is stale: run {DIR}/build.sh");
    let policy = std::fs::read_to_string(format!("{DIR}/secrets.policy")).unwrap();
    assert!(policy.contains(&format!("sha256 \"{pin}\"")), "secrets.policy pins another digest");
    let docs = std::fs::read_to_string("docs/plugins.md").unwrap();
    assert!(docs.contains(&pin), "docs/plugins.md quotes another digest");
}

/// Rebuilds the module with the compiler recorded in BUILT_WITH, when it is installed, and compares.
#[test]
fn the_committed_module_is_what_its_source_builds() {
    let recorded = std::fs::read_to_string(format!("{DIR}/BUILT_WITH")).unwrap();
    let installed = Command::new("/usr/bin/rustc").arg("--version").output();
    let Some(version) =
        installed.ok().filter(|o| o.status.success()).map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    else {
        eprintln!("skipped: /usr/bin/rustc is not installed (apt-get install rustc libstd-rust-dev-wasm32)");
        return;
    };
    if version.trim() != recorded.trim() {
        eprintln!("skipped: /usr/bin/rustc is {}, the module was built with {}", version.trim(), recorded.trim());
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("secrets.wasm");
    let status = Command::new("sh").arg(format!("{DIR}/build.sh")).env("OUT", &target).status().unwrap();
    assert!(status.success(), "build.sh failed");
    let rebuilt = std::fs::read(&target).unwrap();
    assert!(rebuilt == committed().0, "{DIR}/secrets.wasm differs from what src/lib.rs builds: run build.sh");
}

/// `s.find(text)`, called through the registry like any function.
fn finder() -> impl Fn(&str) -> Vec<String> {
    let (_, pin) = committed();
    let source = PluginSource::file(format!("{DIR}/secrets.wasm")).sha256(pin);
    let options = PluginOptions::default().with_no_cache(true);
    let engine = Engine::builder().plugin_options(options).plugin("s", source).unwrap().build();
    let function = engine.registry().get(engine.registry().lookup("s.find").unwrap()).clone();
    move |text: &str| {
        let cx = CallContext::new(jiff::Timestamp::UNIX_EPOCH);
        let hits = function.call(&[&Value::from(text)], &cx).unwrap();
        let Value::Array(hits) = hits else { panic!("not an array") };
        hits.iter().map(|h| h.get("type").and_then(Value::as_str).unwrap().to_string()).collect()
    }
}

/// A small deterministic generator, so the labelled set is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick(&mut self, alphabet: &str, n: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..n).map(|_| chars[self.next() as usize % chars.len()]).collect()
    }
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const HEX: &str = "0123456789abcdef";

/// A number with a valid Luhn check digit (`valid`), or one off.
fn card_number(rng: &mut Rng, prefix: &str, len: usize, valid: bool) -> String {
    let mut digits: Vec<u32> = prefix.chars().map(|c| c.to_digit(10).unwrap()).collect();
    while digits.len() < len - 1 {
        digits.push(rng.next() as u32 % 10);
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(k, d)| if k % 2 == 0 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { *d })
        .sum();
    let check = (10 - sum % 10) % 10;
    digits.push(if valid { check } else { (check + 1) % 10 });
    digits.iter().map(|d| char::from_digit(*d, 10).unwrap()).collect()
}

fn grouped(number: &str, sep: &str) -> String {
    number.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(sep)
}

/// (text, expected type or "" for none).
fn labelled_set() -> Vec<(String, &'static str)> {
    let mut rng = Rng(0x5eed);
    let mut set: Vec<(String, &'static str)> = Vec::new();
    let frames = ["{}", "token: {}", "export KEY=\"{}\"", "see {} below", "{}\n"];
    for i in 0..10 {
        let frame = frames[i % frames.len()];
        let mut add = |secret: String, kind: &'static str| set.push((frame.replace("{}", &secret), kind));
        add(
            format!("hf_{}", rng.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 34)),
            "huggingface-token",
        );
        add(format!("{}{}", ["AKIA", "ASIA"][i % 2], rng.pick(UPPER_DIGITS, 16)), "aws-access-key");
        add(format!("{}_{}", ["ghp", "gho", "ghs", "ghu", "ghr"][i % 5], rng.pick(ALNUM, 36)), "github-token");
        add(format!("github_pat_{}_{}", rng.pick(ALNUM, 22), rng.pick(ALNUM, 59)), "github-token");
        add(format!("{}{}", ["sk-", "sk-proj-"][i % 2], rng.pick(ALNUM, 48)), "openai-key");
        add(
            format!(
                "xox{}-{}-{}-{}",
                ["b", "p", "a"][i % 3],
                rng.pick("0123456789", 11),
                rng.pick("0123456789", 12),
                rng.pick(ALNUM, 24)
            ),
            "slack-token",
        );
        add(
            format!(
                "-----BEGIN {}PRIVATE KEY-----\nMIIE{}\n-----END {0}PRIVATE KEY-----",
                ["", "RSA ", "EC ", "OPENSSH "][i % 4],
                rng.pick(ALNUM, 40)
            ),
            "private-key",
        );
        add(format!("eyJ{}.eyJ{}.{}", rng.pick(ALNUM, 20), rng.pick(ALNUM, 40), rng.pick(ALNUM, 43)), "jwt");
        add(
            format!(
                "{}.{}@{}.{}",
                rng.pick("abcdefghij", 5),
                rng.pick("klmnopqrst", 6),
                rng.pick("abcdefgh", 7),
                ["com", "io", "de", "co.uk"][i % 4]
            ),
            "email",
        );
        let (prefix, len) = [("4", 16), ("51", 16), ("55", 16), ("6011", 16), ("4", 13)][i % 5];
        let number = card_number(&mut rng, prefix, len, true);
        add(if i % 2 == 0 { number } else { grouped(&number, [" ", "-"][i / 2 % 2]) }, "payment-card");
        let amex = card_number(&mut rng, ["34", "37"][i % 2], 15, true);
        add(format!("{} {} {}", &amex[..4], &amex[4..10], &amex[10..]), "payment-card");
    }
    let mut negatives: Vec<String> = [
        "Fine-tuned from meta-llama/Llama-3.1-8B on 1,000,000 examples.",
        "The model achieves 92.4% accuracy (see table 3).",
        "Contact the maintainers through the issue tracker.",
        "git@github.com:acme/models.git",
        "noreply@github.com",
        "41898282+github-actions[bot]@users.noreply.github.com",
        "user@example.com",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "-----BEGIN PUBLIC KEY-----",
        "sk-learn and scikit-learn are the same thing",
        "from huggingface_hub import hf_hub_download",
        "ghp_short",
        "AKIA is a prefix, not a key",
        "xoxo, the team",
        "eyJhbGciOi is a header alone",
        "Version 1.2.3-rc.4+build.5",
        "python -m pip install torch==2.3.1",
        "docker.io/library/python:3.12-slim",
        "Order 1234 shipped on 2024-05-01T12:00:00Z",
        "Call +1 555 123 4567 for support",
        "192.168.100.200:8080",
        "/home/runner/work/models/models",
        "${{ secrets.HF_TOKEN }}",
        "$(cat /run/secrets/token)",
        "1700000000000",
        "ISBN 978-3-16-148410-0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for i in 0..30 {
        negatives.push(rng.pick(HEX, [40, 64, 32][i % 3]));
        negatives.push(format!("sha256:{}", rng.pick(HEX, 64)));
        negatives.push(format!(
            "{}-{}-4{}-a{}-{}",
            rng.pick(HEX, 8),
            rng.pick(HEX, 4),
            rng.pick(HEX, 3),
            rng.pick(HEX, 3),
            rng.pick(HEX, 12)
        ));
        negatives.push(rng.pick(ALNUM, 44) + "=");
        negatives.push(grouped(&card_number(&mut rng, "4", 16, false), " "));
        negatives.push(format!("run-{}-{}", rng.next() % 100_000, rng.pick("abcdefghijklmnop", 8)));
    }
    set.extend(negatives.into_iter().map(|n| (n, "")));
    set
}

/// Precision and recall on the labelled set; docs/plugins.md reports these figures.
#[test]
fn precision_and_recall_on_a_labelled_set() {
    let find = finder();
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    let mut mistakes = Vec::new();
    let set = labelled_set();
    for (text, expected) in &set {
        let found = find(text);
        match (*expected, found.as_slice()) {
            ("", []) => {}
            ("", _) => {
                fp += 1;
                mistakes.push(format!("false positive {found:?}: {text:?}"));
            }
            (kind, [one]) if one == kind => tp += 1,
            (kind, []) => {
                fn_ += 1;
                mistakes.push(format!("missed {kind}: {text:?}"));
            }
            (kind, _) => {
                fp += 1;
                mistakes.push(format!("expected {kind}, found {found:?}: {text:?}"));
            }
        }
    }
    let precision = tp as f64 / (tp + fp) as f64;
    let recall = tp as f64 / (tp + fn_) as f64;
    let positives = set.iter().filter(|(_, k)| !k.is_empty()).count();
    eprintln!(
        "secrets plugin: {} texts ({positives} with a secret): precision {precision:.3}, recall {recall:.3}",
        set.len()
    );
    assert!(mistakes.is_empty(), "{mistakes:#?}");
    assert!(precision >= 0.95 && recall >= 0.95);
}

fn policy(args: &[&str]) -> (i32, String, String) {
    // The compile cache goes to a temporary folder, not the user's.
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_policy"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("VIGIL_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn the_rules_find_secrets_where_they_are() {
    let (code, stdout, stderr) = policy(&[
        "check",
        "--no-config",
        "--no-builtin",
        "--policy",
        DIR,
        "--format",
        "json",
        &format!("{DIR}/testdata"),
    ]);
    assert_eq!(code, 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let mut got: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}:{} {}",
                f["rule"],
                f["file"].as_str().unwrap().rsplit('/').next().unwrap(),
                f["line"],
                f["message"]
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            r#""SEC-001" workflow.yml:16 "input `webhook-token` of a step in job `train` holds slack-token""#,
            r#""SEC-001" workflow.yml:17 "input `owner` of a step in job `train` holds email""#,
            r#""SEC-001" workflow.yml:4 "workflow env `AWS_ACCESS_KEY_ID` holds aws-access-key""#,
            r#""SEC-002" deployment.yaml:13 "env `GH_AUTH` of container `server` holds github-token""#,
            r#""SEC-003" exchange.yaml:8 "a response message holds payment-card""#,
        ]
    );
    let (code, stdout, _) = policy(&["list", "--no-builtin", "--policy", DIR]);
    assert_eq!(code, 0);
    assert!(stdout.contains("Rules calling WASM plugins:\n  SEC-001  secrets (secrets.wasm)\n"), "{stdout}");
}

#[test]
fn unpinned_and_mismatched_plugins_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (wasm, pin) = committed();
    std::fs::write(dir.path().join("secrets.wasm"), &wasm).unwrap();
    let policy_text = std::fs::read_to_string(Path::new(DIR).join("secrets.policy")).unwrap();
    let unpinned = policy_text.replace(&format!(" sha256 \"{pin}\""), "");
    std::fs::write(dir.path().join("p.policy"), &unpinned).unwrap();
    let p = dir.path().to_str().unwrap();
    let data = format!("{DIR}/testdata/workflow.yml");
    let (code, _, stderr) = policy(&["check", "--no-config", "--no-builtin", "--policy", p, &data]);
    assert_eq!(code, 2);
    assert!(stderr.contains("plugin `secrets.wasm` is not pinned to a digest"), "{stderr}");
    assert!(stderr.contains(&pin) && stderr.contains("--allow-unpinned-plugins"), "{stderr}");
    let (code, _, stderr) =
        policy(&["check", "--no-config", "--no-builtin", "--allow-unpinned-plugins", "--policy", p, &data]);
    assert_eq!(code, 1, "{stderr}");

    let wrong = unpinned.replace("as secrets", &format!("as secrets sha256 \"{}\"", "ab".repeat(32)));
    std::fs::write(dir.path().join("p.policy"), wrong).unwrap();
    let (code, _, stderr) = policy(&["check", "--no-config", "--no-builtin", "--policy", p, &data]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("does not match its pin") && stderr.contains(&"ab".repeat(32)) && stderr.contains(&pin),
        "{stderr}"
    );
    assert!(stderr.contains("p.policy"), "the error names the policy file: {stderr}");
}
