//! `policy bundle build DIR -o FILE --sign-key KEY` and `policy bundle inspect FILE [--key PUB]`, and
//! loading bundles for `policy check --bundle FILE --bundle-key PUB`.
//!
//! Exit codes: 0 done (inspect: verified, or listed without a key); 1 inspect with a key that does not
//! verify; 2 a file or key cannot be read, or a build problem.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use vigil::unstable::evidence::bundle::{self, Bundle, Meta};
use vigil::unstable::evidence::keys::{SigningKey, VerifyingKey};

use super::Outcome;
use super::output::{eprint, print};

#[derive(Args)]
pub struct BundleArgs {
    #[command(subcommand)]
    command: BundleCommand,
}

#[derive(Subcommand)]
enum BundleCommand {
    /// Pack every file under DIR (policies, their tests, schemas, plugin modules; hidden files left out) into
    /// one signed bundle.
    Build {
        /// The folder to bundle.
        dir: PathBuf,
        /// The bundle file to write.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Private key (PEM, Ed25519 or ECDSA P-256) that signs the manifest.
        #[arg(long, value_name = "KEY")]
        sign_key: PathBuf,
        /// Bundle name [default: the folder's name].
        #[arg(long)]
        name: Option<String>,
        /// Bundle version.
        #[arg(long, value_name = "VERSION", default_value = "0.0.0")]
        bundle_version: String,
        /// The oldest Vigil that may load the bundle [default: this version].
        #[arg(long, value_name = "VERSION")]
        min_vigil: Option<String>,
    },
    /// List a bundle's files and signer; with `--key`, verify it as `check --bundle` would.
    Inspect {
        /// The bundle.
        file: PathBuf,
        /// Public key to verify the signature and every file with.
        #[arg(long, value_name = "PUB")]
        key: Option<PathBuf>,
    },
}

pub fn run(args: BundleArgs) -> Outcome {
    match args.command {
        BundleCommand::Build { dir, output, sign_key, name, bundle_version, min_vigil } => {
            let key = match SigningKey::from_file(&sign_key) {
                Ok(k) => k,
                Err(e) => return error(&format!("signing key {e}")),
            };
            let name = name.unwrap_or_else(|| {
                let canonical = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
                canonical.file_name().map_or("bundle".into(), |n| n.to_string_lossy().into_owned())
            });
            let min_vigil = min_vigil.unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_string());
            let meta = Meta { name, version: bundle_version, min_vigil };
            let (bytes, manifest) = match bundle::build(&dir, &meta, &key) {
                Ok(b) => b,
                Err(e) => return error(&e),
            };
            let written = vigil::unstable::confine::open_for_write(&output, false).and_then(|mut f| {
                std::io::Write::write_all(&mut f, &bytes)?;
                f.sync_data()
            });
            if let Err(e) = written {
                return error(&format!("cannot write {}: {e}", output.display()));
            }
            print(&format!(
                "✔ {}: {} {}, {} files, signed by {} key {}; sha256 {}\n",
                output.display(),
                manifest.name,
                manifest.version,
                manifest.files.len(),
                key.algorithm(),
                key.verifying_key().id(),
                vigil::unstable::evidence::sha256_hex(&bytes)
            ));
            Outcome::Pass
        }
        BundleCommand::Inspect { file, key } => inspect(&file, key.as_deref()),
    }
}

fn inspect(file: &Path, key: Option<&Path>) -> Outcome {
    let bytes = match read(file) {
        Ok(b) => b,
        Err(e) => return error(&e),
    };
    let name = file.display();
    let Some(key) = key else {
        let (envelope, manifest) = match bundle::envelope(&bytes) {
            Ok(x) => x,
            Err(e) => {
                eprint(&format!("✖ {name}: {e}\n"));
                return Outcome::Findings;
            }
        };
        let signers: Vec<&str> = envelope.signatures.iter().map(|s| s.keyid.as_str()).collect();
        print(&format!("{name}: NOT VERIFIED (give --key PUB); signer key id {}\n", signers.join(", ")));
        match manifest {
            Some(m) => print(&listing(&m)),
            None => print("  the manifest does not read\n"),
        }
        return Outcome::Pass;
    };
    let key = match VerifyingKey::from_file(key) {
        Ok(k) => k,
        Err(e) => return error(&format!("key {e}")),
    };
    match bundle::open(&bytes, &key) {
        Ok(b) => {
            print(&format!(
                "✔ {name}: verified, signed by {} key {}; sha256 {}\n",
                key.algorithm(),
                b.signer,
                b.sha256
            ));
            print(&listing(&b.manifest));
            Outcome::Pass
        }
        Err(e) => {
            eprint(&format!("✖ {name}: {e}\n"));
            Outcome::Findings
        }
    }
}

fn listing(m: &bundle::Manifest) -> String {
    let mut out = format!("  {} {} (Vigil {} or later), {} files:\n", m.name, m.version, m.min_vigil, m.files.len());
    for f in &m.files {
        out.push_str(&format!("  {:<7} {:>9}  {}  {}\n", f.role, f.size, &f.sha256[..f.sha256.len().min(16)], f.path));
    }
    out
}

fn error(message: &str) -> Outcome {
    eprint(&format!("error: {message}\n"));
    Outcome::Error
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    let file = vigil::unstable::confine::open_regular(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, bundle::MAX_BUNDLE + 1), &mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(bytes)
}

/// Policy files for the compiler: `(name, text)`.
type Sources = Vec<(String, String)>;
/// Plugin modules from verified bundles, by the path their policies import them as.
pub type Modules = std::collections::BTreeMap<PathBuf, vigil::PluginSource>;

/// The bundles of a `check` run: from every configuration layer and the command line, verified with the
/// key the command line or the first layer setting one (the trusted file, when there is one) gives. Returns
/// their policy files and what the attestation records of each; any failure is exit 2.
pub fn for_check(
    layers: &[&vigil::unstable::config::Config],
    args: &super::attest::EvidenceArgs,
) -> Result<(Sources, Modules, Vec<serde_json::Value>), Outcome> {
    let files: Vec<PathBuf> = layers.iter().flat_map(|c| c.bundles.iter()).chain(&args.bundles).cloned().collect();
    let key = args.bundle_key.clone().or_else(|| layers.iter().find_map(|c| c.bundle_key.clone()));
    let bundles = load(&files, key.as_deref()).map_err(|e| error(&e))?;
    let mut sources = Vec::new();
    let mut modules = Modules::new();
    for b in &bundles {
        sources.extend(b.policies().map_err(|e| error(&format!("bundle {}: {e}", b.manifest.name)))?);
        modules.extend(b.plugins());
    }
    Ok((sources, modules, bundles.iter().map(Bundle::describe).collect()))
}

/// Loads and verifies bundles: any failure names the bundle and what is wrong.
fn load(files: &[PathBuf], key: Option<&Path>) -> Result<Vec<Bundle>, String> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let key = key.ok_or("a policy bundle loads only with the key it was signed with (`--bundle-key PUB`)")?;
    let key = VerifyingKey::from_file(key).map_err(|e| format!("bundle key {e}"))?;
    let mut out = Vec::new();
    for file in files {
        let bytes = read(file)?;
        out.push(bundle::open(&bytes, &key).map_err(|e| format!("bundle {}: {e}", file.display()))?);
    }
    Ok(out)
}
