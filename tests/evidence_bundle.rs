//! Signed policy bundles through the real binary: a round trip, the bundled packs as a bundle, and every
//! hostile bundle (unsigned, tampered, an extra or a missing file, `../` and absolute entries, links,
//! duplicates, oversized entries, the wrong key, a newer Vigil) refused with exit 2 and named. Hostile
//! tars are written byte by byte here, as an attacker would, since the tar crate's builder refuses them.

use std::path::Path;
use std::process::{Command, Output};

use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding};
use vigil::unstable::evidence::bundle::{FileEntry, MANIFEST_FORMAT, MANIFEST_TYPE, Manifest};
use vigil::unstable::evidence::{dsse, keys, sha256_hex};

fn policy(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_policy")).args(args).current_dir(dir).env("NO_COLOR", "1").output().expect("runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, content).expect("write");
}

const POLICY: &str = r#"package acme
rule "ACME-LIC" {
  title = "license allowed"
  severity = high
  applies_to = ModelCard
  require input.license in ["mit"] else "license `{input.license}` is not allowed"
}
"#;

fn signing_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[5; 32])
}

/// A policy folder to bundle, a model card to check, and keys.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    write(p, "pack/acme.policy", POLICY);
    write(p, "pack/tests/acme.test.yaml", "cases: []\n");
    write(p, "pack/schemas/card.schema.json", "{}\n");
    write(p, "pack/plugins/extra.wasm", b"\0asm\x01\0\0\0");
    write(p, "pack/.git/config", "not bundled\n");
    write(p, "card.yaml", "kind: ModelCard\nlicense: gpl-3.0\n");
    let key = signing_key();
    write(p, "k.pem", key.to_pkcs8_pem(LineEnding::LF).expect("pem").as_bytes());
    write(p, "k.pub", key.verifying_key().to_public_key_pem(LineEnding::LF).expect("pem"));
    let other = ed25519_dalek::SigningKey::from_bytes(&[6; 32]);
    write(p, "other.pub", other.verifying_key().to_public_key_pem(LineEnding::LF).expect("pem"));
    dir
}

fn build(p: &Path) {
    let out = policy(
        &[
            "bundle",
            "build",
            "pack",
            "-o",
            "acme.vbundle",
            "--sign-key",
            "k.pem",
            "--name",
            "acme",
            "--bundle-version",
            "1.2.0",
        ],
        p,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

fn check_with(p: &Path, bundle: &str) -> Output {
    policy(&["check", "--no-builtin", "--bundle", bundle, "--bundle-key", "k.pub", "card.yaml"], p)
}

#[test]
fn a_bundle_round_trips_and_is_recorded_in_the_attestation() {
    let dir = project();
    let p = dir.path();
    build(p);
    let listed = policy(&["bundle", "inspect", "acme.vbundle", "--key", "k.pub"], p);
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    let out = text(&listed.stdout);
    assert!(out.contains("verified, signed by ed25519 key"), "{out}");
    for line in ["policy", "test", "schema", "plugin"] {
        assert!(out.contains(&format!("  {line:<7}")), "role {line} in {out}");
    }
    assert!(out.contains("4 files") && !out.contains(".git"), "hidden files are left out: {out}");
    let unverified = policy(&["bundle", "inspect", "acme.vbundle"], p);
    assert!(text(&unverified.stdout).contains("NOT VERIFIED"));

    let out = policy(
        &[
            "check",
            "--no-builtin",
            "--bundle",
            "acme.vbundle",
            "--bundle-key",
            "k.pub",
            "--attest",
            "att.json",
            "--sign-key",
            "k.pem",
            "card.yaml",
        ],
        p,
    );
    assert_eq!(out.status.code(), Some(1), "the bundle's rule runs: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ACME-LIC"));
    let envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.join("att.json")).expect("att")).expect("json");
    let key = keys::VerifyingKey::from_file(&p.join("k.pub")).expect("key");
    let payload =
        dsse::verify(&dsse::parse(envelope.to_string().as_bytes()).expect("env"), "application/vnd.in-toto+json", &key)
            .expect("verifies")
            .body;
    let statement: serde_json::Value = serde_json::from_slice(&payload).expect("json");
    let policies = &statement["predicate"]["policies"];
    assert_eq!(policies["packs"][0]["id"], "acme@1.2.0:acme.policy");
    assert_eq!(policies["bundles"][0]["name"], "acme");
    assert_eq!(policies["bundles"][0]["sha256"], sha256_hex(&std::fs::read(p.join("acme.vbundle")).expect("bundle")));

    // From vigil.toml too; without a key a bundle never loads.
    write(p, "vigil.toml", "bundles = [\"acme.vbundle\"]\nbundle_key = \"k.pub\"\nbuiltin = false\n");
    let out = policy(&["check", "card.yaml"], p);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    write(p, "vigil.toml", "bundles = [\"acme.vbundle\"]\n");
    let out = policy(&["check", "card.yaml"], p);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("loads only with the key it was signed with"), "{}", text(&out.stderr));
}

/// The bundled packs, built as a bundle, give exactly the findings of the compiled-in packs.
#[test]
fn the_bundled_packs_as_a_bundle_find_the_same() {
    let dir = project();
    let p = dir.path();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = policy(
        &["bundle", "build", &root.join("policies").to_string_lossy(), "-o", "packs.vbundle", "--sign-key", "k.pem"],
        p,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let examples = root.join("examples");
    let examples = examples.to_string_lossy();
    let builtin = policy(&["check", "--format", "json", "--no-config", &examples], p);
    let bundled = policy(
        &[
            "check",
            "--format",
            "json",
            "--no-config",
            "--no-builtin",
            "--bundle",
            "packs.vbundle",
            "--bundle-key",
            "k.pub",
            &examples,
        ],
        p,
    );
    let rules = |o: &Output| -> Vec<(String, String)> {
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        let list = json["findings"].as_array().cloned().unwrap_or_default();
        list.iter().map(|f| (f["rule"].to_string(), f["fingerprint"].to_string())).collect()
    };
    assert!(!rules(&builtin).is_empty());
    assert_eq!(rules(&builtin), rules(&bundled));
    assert_eq!(builtin.status.code(), bundled.status.code());
}

/// One tar entry: raw name bytes, type flag, data; the header's size may lie.
struct Entry<'a> {
    name: &'a [u8],
    kind: u8,
    data: &'a [u8],
    size: Option<u64>,
}

fn entry<'a>(name: &'a str, data: &'a [u8]) -> Entry<'a> {
    Entry { name: name.as_bytes(), kind: b'0', data, size: None }
}

/// A tar written by hand: 512-byte GNU headers with any name, then the data padded to 512.
fn tar(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let mut header = tar::Header::new_gnu();
        let gnu = header.as_gnu_mut().expect("gnu");
        gnu.name[..e.name.len()].copy_from_slice(e.name);
        header.set_size(e.size.unwrap_or(e.data.len() as u64));
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::new(e.kind));
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(e.data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// A manifest envelope signed with the project's key, listing `files`.
fn manifest(files: &[(&str, &[u8])], min_vigil: &str) -> Vec<u8> {
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        name: "acme".into(),
        version: "1".into(),
        min_vigil: min_vigil.into(),
        files: files
            .iter()
            .map(|(path, data)| FileEntry {
                path: path.to_string(),
                sha256: sha256_hex(data),
                size: data.len() as u64,
                role: "policy".into(),
            })
            .collect(),
    };
    let key = keys::SigningKey::Ed25519(Box::new(signing_key()));
    serde_json::to_vec(&dsse::sign(MANIFEST_TYPE, &serde_json::to_vec(&manifest).expect("json"), &key)).expect("json")
}

#[test]
fn hostile_bundles_are_refused_and_named() {
    let dir = project();
    let p = dir.path();
    let policy_bytes = POLICY.as_bytes();
    let signed = manifest(&[("acme.policy", policy_bytes)], "0.1.0");
    let tampered = POLICY.replace("high", "info");
    let traversal = manifest(&[("../escape.policy", policy_bytes)], "0.1.0");
    let two = manifest(&[("acme.policy", policy_bytes), ("more.policy", policy_bytes)], "0.1.0");
    let newer = manifest(&[("acme.policy", policy_bytes)], "99.0.0");
    let mut forged: serde_json::Value = serde_json::from_slice(&signed).expect("json");
    forged["payload"] = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        serde_json::to_vec(&serde_json::json!({"_type": MANIFEST_FORMAT, "name": "acme", "version": "1", "min_vigil": "0.1.0",
            "files": [{"path": "acme.policy", "sha256": sha256_hex(tampered.as_bytes()), "size": tampered.len(), "role": "policy"}]}))
        .expect("json"),
    )
    .into();
    let forged = forged.to_string().into_bytes();
    let ok = entry("files/acme.policy", policy_bytes);
    let m = |bytes: &'static [u8]| entry("manifest.dsse.json", bytes);
    let leak = |v: Vec<u8>| -> &'static [u8] { Box::leak(v.into_boxed_slice()) };
    let (signed, traversal, two, newer, forged) = (leak(signed), leak(traversal), leak(two), leak(newer), leak(forged));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("intact", tar(&[m(signed), entry("files/acme.policy", policy_bytes)]), ""),
        ("unsigned", tar(&[entry("files/acme.policy", policy_bytes)]), "unsigned: no `manifest.dsse.json`"),
        (
            "tampered file",
            tar(&[m(signed), entry("files/acme.policy", tampered.as_bytes())]),
            "acme.policy: its SHA-256 is",
        ),
        (
            "forged manifest",
            tar(&[m(forged), entry("files/acme.policy", tampered.as_bytes())]),
            "signature: no signature verifies",
        ),
        (
            "extra file",
            tar(&[m(signed), entry("files/acme.policy", policy_bytes), entry("files/evil.policy", policy_bytes)]),
            "evil.policy: in the bundle but not in the signed manifest",
        ),
        (
            "extra file outside files/",
            tar(&[m(signed), entry("files/acme.policy", policy_bytes), entry(".signatures.json", b"{}")]),
            ".signatures.json: in the bundle but not in the signed manifest",
        ),
        (
            "missing file",
            tar(&[m(two), entry("files/acme.policy", policy_bytes)]),
            "more.policy: is listed in the manifest but missing",
        ),
        ("../ entry", tar(&[m(signed), entry("files/../escape.policy", policy_bytes)]), "climbing out with `..`"),
        (
            "../ in the manifest",
            tar(&[m(traversal), entry("files/acme.policy", policy_bytes)]),
            "manifest: `../escape.policy`: a path climbing out",
        ),
        ("absolute entry", tar(&[m(signed), entry("/etc/acme.policy", policy_bytes)]), "an absolute path"),
        ("backslash entry", tar(&[m(signed), entry("files\\..\\x.policy", policy_bytes)]), "a backslash"),
        (
            "symbolic link",
            tar(&[m(signed), Entry { kind: b'2', ..entry("files/acme.policy", b"") }]),
            "not a regular file",
        ),
        ("hard link", tar(&[m(signed), Entry { kind: b'1', ..entry("files/acme.policy", b"") }]), "not a regular file"),
        ("duplicate entry", tar(&[m(signed), ok, entry("files/acme.policy", policy_bytes)]), "appears twice"),
        (
            "oversized entry",
            tar(&[m(signed), Entry { size: Some(1 << 40), ..entry("files/acme.policy", b"") }]),
            "more than the",
        ),
        ("newer Vigil", tar(&[m(newer), entry("files/acme.policy", policy_bytes)]), "needs Vigil 99.0.0 or later"),
        ("not a tar", b"hello, world".to_vec(), "bundle"),
    ];
    for (what, bytes, expected) in cases {
        write(p, "hostile.vbundle", &bytes);
        let out = check_with(p, "hostile.vbundle");
        if expected.is_empty() {
            assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out.stderr));
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{what}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains("bundle hostile.vbundle") && err.contains(expected),
            "{what}: expected `{expected}` in {err}"
        );
        assert!(!text(&out.stdout).contains("ACME-LIC"), "{what}: nothing of a refused bundle runs");
        let inspected = policy(&["bundle", "inspect", "hostile.vbundle", "--key", "k.pub"], p);
        assert_eq!(inspected.status.code(), Some(1), "{what}: inspect with a key fails too");
    }
    // The wrong key, and a missing bundle.
    build(p);
    let out =
        policy(&["check", "--no-builtin", "--bundle", "acme.vbundle", "--bundle-key", "other.pub", "card.yaml"], p);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("signature: no signature verifies"), "{}", text(&out.stderr));
    assert_eq!(check_with(p, "nothing.vbundle").status.code(), Some(2));
    // A link in the folder is refused at build time, not followed.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/passwd", p.join("pack/passwd.policy")).expect("symlink");
        let out = policy(&["bundle", "build", "pack", "-o", "x.vbundle", "--sign-key", "k.pem"], p);
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr).contains("a symbolic link or special file"), "{}", text(&out.stderr));
    }
}

/// A plugin `f(any) -> any` that always returns the string `"never"`.
#[cfg(feature = "plugins")]
fn plugin_returning_never() -> Vec<u8> {
    let result = r#"{"ok":"never"}"#;
    let packed = (2048u64 << 32) | result.len() as u64;
    let manifest = r#"{"abi":1,"functions":[{"name":"f","params":["any"],"returns":"any"}]}"#;
    wat::parse_str(format!(
        r#"(module (memory (export "memory") 1)
             (func (export "vigil_alloc") (param i32) (result i32) (i32.const 1024))
             (data (i32.const 2048) "{}")
             (func (export "f") (param i32 i32) (result i64) (i64.const {packed}))
             (@custom "vigil.manifest" "{}"))"#,
        result.replace('"', "\\\""),
        manifest.replace('"', "\\\"")
    ))
    .expect("valid WAT")
}

/// A bundle's plugin is loaded from the verified bundle, never from disk, and counts as pinned by the signed
/// manifest; a pin in the policy that disagrees is still refused.
#[test]
#[cfg(feature = "plugins")]
fn a_bundle_carries_its_plugins() {
    let dir = project();
    let p = dir.path();
    let policy_text = r#"package acme
import plugin "plugins/flag.wasm" as flag
rule "ACME-FLAG" {
  title = "plugin says no"
  severity = high
  applies_to = ModelCard
  require flag.f(input.license) != "never" else "the plugin said never"
}
"#;
    write(p, "pack/acme.policy", policy_text);
    write(p, "pack/plugins/flag.wasm", plugin_returning_never());
    build(p);
    // The same file on disk beside the bundle is not what runs: remove it, and a decoy where the import
    // would resolve relative to the working directory.
    std::fs::remove_dir_all(p.join("pack")).expect("rm");
    write(p, "plugins/flag.wasm", b"\0asm\x01\0\0\0");
    let out = check_with(p, "acme.vbundle");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("ACME-FLAG") && stdout.contains("the plugin said never"), "{stdout}");

    // A wrong pin in the bundled policy is refused, naming the plugin.
    let dir = project();
    let p = dir.path();
    let pinned = policy_text.replace("as flag\n", &format!("as flag sha256 \"{}\"\n", "0".repeat(64)));
    write(p, "pack/acme.policy", pinned);
    write(p, "pack/plugins/flag.wasm", plugin_returning_never());
    build(p);
    let out = check_with(p, "acme.vbundle");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("plugins/flag.wasm"), "{}", text(&out.stderr));
}
