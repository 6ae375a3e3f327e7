//! Dispatch from the sniffed format to the format parsers, and the final
//! roll-up of findings into the document's summary fields.

use std::io::{Cursor, Read, SeekFrom};

use crate::artifact::document::{
    Artifact, ArtifactFormat, Classification, GlobalSummary, PickleReport, Serialization, Verdict,
};
use crate::artifact::formats::{gguf, numpy, onnx, safetensors, sniff, torch_tar, zip};
use crate::artifact::pickle::opcodes;
use crate::artifact::pickle::state::FastMap;
use crate::artifact::pickle::{self, ScanOptions};
use crate::artifact::reader::{ByteReader, ReadSeek};
use crate::artifact::{ArtifactLimits, InspectOptions};

/// Bytes handed to `sniff` (more than its 16-byte minimum so the protocol 0/1
/// heuristic can look at several opcodes).
pub(super) const HEAD_BYTES: usize = 4096;

/// Pickle globals (all pickles together) up to which `finish` matches them to
/// summaries by linear search rather than through a hash index.
const LINEAR_LOOKUP: usize = 16;

/// Legacy `torch.save` writes exactly five pickles (magic number, protocol
/// version, sys info, the object, storage keys) followed by raw storage bytes.
const LEGACY_TORCH_PICKLES: u64 = 5;

/// State shared by all parsers while one artifact is inspected.
pub(super) struct Ctx<'o> {
    pub opts: &'o InspectOptions,
    pub art: Artifact,
    /// Decompressed archive bytes read so far (for `max_total_bytes`).
    pub total_read: u64,
    /// Something that could hold code was not looked at.
    pub uninspected: bool,
}

impl Ctx<'_> {
    pub(super) fn error(&mut self, msg: String) {
        self.art.errors.push(msg);
    }

    pub(super) fn warn(&mut self, msg: String) {
        self.art.warnings.push(msg);
    }

    /// Something that can hold code was not read to its end: an error that is
    /// also a blocking finding (ART-009).
    pub(super) fn stopped(&mut self, msg: String) {
        self.uninspected = true;
        self.art.incomplete.push(msg.clone());
        self.art.errors.push(msg);
    }
}

pub(super) fn run(art: Artifact, src: &mut dyn ReadSeek, size: u64, opts: &InspectOptions) -> Artifact {
    let mut ctx = Ctx { opts, art, total_read: 0, uninspected: false };
    let head = match read_head(src) {
        Ok(h) => h,
        Err(e) => {
            ctx.error(format!("read error: {e}"));
            return finish(ctx);
        }
    };
    let mut format = claimed(&ctx, &head);
    // Python's zipfile (and so Keras) finds an archive from its end, so
    // junk before `PK` (a self-extractor stub, or a pickle) does not hide it.
    let prefixed_zip = format.is_none() && zip::ends_like_zip(src).unwrap_or(false);
    if prefixed_zip {
        format = Some(ArtifactFormat::Zip);
    }
    ctx.art.format = format.unwrap_or(ArtifactFormat::Unknown);
    let errors = ctx.art.errors.len();
    match format {
        Some(ArtifactFormat::Zip) => zip::inspect(&mut ctx, src, None, 0),
        Some(ArtifactFormat::Tar) => torch_tar::inspect(&mut ctx, src),
        Some(ArtifactFormat::JoblibCompressed) => compressed(&mut ctx, &head, src),
        Some(ArtifactFormat::SevenZip) => uninspectable(&mut ctx, ArtifactFormat::SevenZip),
        other => match ByteReader::seekable(src) {
            Ok(mut r) => linear(&mut ctx, other, &mut r, size),
            Err(e) => ctx.error(format!("read error: {e}")),
        },
    }
    let mut rescan = |limits: &ArtifactLimits, opts: ScanOptions| {
        src.seek(SeekFrom::Start(0))?;
        let mut r = ByteReader::seekable(src)?;
        Ok(pickle::scan(&mut r, limits, opts))
    };
    second_passes(&mut ctx, format, &head, errors, &mut rescan);
    if prefixed_zip && let Ok(rep) = rescan(&opts.limits, ScanOptions::default()) {
        keep_polyglot(&mut ctx, rep);
    }
    finish(ctx)
}

/// Scans the same bytes once more the way another loader reads them.
type Rescan<'a> = dyn FnMut(&ArtifactLimits, ScanOptions) -> std::io::Result<PickleReport> + 'a;

/// What other loaders would see in bytes already inspected one way: the
/// whole file as a pickle (polyglots), and a joblib dump read by plain
/// `pickle.load`, to which joblib's inline array bytes are opcodes.
fn second_passes(
    ctx: &mut Ctx<'_>,
    format: Option<ArtifactFormat>,
    head: &[u8],
    errors: usize,
    rescan: &mut Rescan<'_>,
) {
    let limits = ctx.opts.limits.clone();
    if needs_pickle_pass(ctx, format, head, errors) {
        match rescan(&limits, ScanOptions::default()) {
            Ok(rep) => keep_polyglot(ctx, rep),
            Err(e) => ctx.stopped(format!("read error in the pickle pass: {e}")),
        }
    }
    let stepped_over = ctx.art.pickles.iter().any(|p| p.entry.is_none() && p.joblib_arrays > 0);
    if stepped_over && matches!(format, Some(ArtifactFormat::Pickle) | None) {
        match rescan(&limits, ScanOptions { plain: true, ..ScanOptions::default() }) {
            Ok(plain) => {
                if let Some(first) = ctx.art.pickles.iter_mut().find(|p| p.entry.is_none()) {
                    merge_plain(first, plain);
                }
            }
            Err(e) => ctx.stopped(format!("read error in the plain pickle pass: {e}")),
        }
    }
}

/// Globals that only plain `pickle.load` reaches (inside joblib's array
/// bytes) join the first report. Where the plain reading fails on array data
/// the loader fails too, so that is no early stop; a limit is.
fn merge_plain(first: &mut PickleReport, plain: PickleReport) {
    // Garbage array bytes can hit STACK_GLOBAL by chance; an unresolvable
    // import only counts when the plain reading got through without failing.
    let unresolved_ok = plain.segments > 0 && !plain.stopped_early;
    for g in plain.globals {
        let known = first.globals.iter().any(|k| k.module == g.module && k.name == g.name);
        let real = sniff::is_dotted_identifier(&g.module) && sniff::is_dotted_identifier(&g.name);
        if !known && (real || unresolved_ok) {
            first.globals.push(g);
        }
    }
    for e in plain.errors.into_iter().filter(|e| e.starts_with("limit")) {
        first.stopped_early = true;
        first.errors.push(format!("plain pickle.load reading: {e}"));
    }
}

/// [`run`] over bytes already in memory: parsed in place, no copy and no I/O.
pub(super) fn run_bytes(art: Artifact, bytes: &[u8], size: u64, opts: &InspectOptions) -> Artifact {
    let mut ctx = Ctx { opts, art, total_read: 0, uninspected: false };
    let head = bytes.get(..HEAD_BYTES).unwrap_or(bytes);
    let mut format = claimed(&ctx, head);
    let prefixed_zip = format.is_none() && zip::ends_like_zip(&mut Cursor::new(bytes)).unwrap_or(false);
    if prefixed_zip {
        format = Some(ArtifactFormat::Zip);
    }
    ctx.art.format = format.unwrap_or(ArtifactFormat::Unknown);
    let errors = ctx.art.errors.len();
    match format {
        Some(ArtifactFormat::Zip) => zip::inspect(&mut ctx, &mut Cursor::new(bytes), None, 0),
        Some(ArtifactFormat::Tar) => torch_tar::inspect(&mut ctx, &mut Cursor::new(bytes)),
        Some(ArtifactFormat::JoblibCompressed) => compressed(&mut ctx, head, &mut Cursor::new(bytes)),
        Some(ArtifactFormat::SevenZip) => uninspectable(&mut ctx, ArtifactFormat::SevenZip),
        other => linear(&mut ctx, other, &mut ByteReader::memory(bytes), size),
    }
    let mut rescan =
        |limits: &ArtifactLimits, opts: ScanOptions| Ok(pickle::scan(&mut ByteReader::memory(bytes), limits, opts));
    second_passes(&mut ctx, format, head, errors, &mut rescan);
    if prefixed_zip && let Ok(rep) = rescan(&opts.limits, ScanOptions::default()) {
        keep_polyglot(&mut ctx, rep);
    }
    finish(ctx)
}

/// File extensions whose usual loaders (`pickle.load`, `torch.load`,
/// `joblib.load`, `numpy.load(allow_pickle=True)`) unpickle what they read.
const PICKLE_EXTENSIONS: &[&str] =
    &["pkl", "pickle", "pt", "pth", "bin", "ckpt", "joblib", "dat", "data", "npy", "npz", "dill", "p"];

fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// The format the bytes claim; a file named `.safetensors` that matches no
/// magic is a malformed safetensors file (validated, and failing, as one),
/// not an unknown one.
fn claimed(ctx: &Ctx<'_>, head: &[u8]) -> Option<ArtifactFormat> {
    // `torch.load` tries `tarfile` before anything else.
    if torch_tar::is_tar(head) {
        return Some(ArtifactFormat::Tar);
    }
    match sniff::sniff(head) {
        None if extension(&ctx.art.name).as_deref() == Some("safetensors") => Some(ArtifactFormat::Safetensors),
        other => other,
    }
}

/// Magic bytes that also decode as pickle opcodes (`GGUF` is BINFLOAT, `BZh`
/// is BINBYTES, a safetensors length can start with PROTO) do not settle
/// what a loader sees: when the name says a pickle loader will read the file,
/// or the claimed format did not validate, the bytes are also scanned as a
/// pickle from the start.
fn needs_pickle_pass(ctx: &Ctx<'_>, format: Option<ArtifactFormat>, head: &[u8], errors: usize) -> bool {
    let scanned = matches!(
        format,
        None | Some(
            ArtifactFormat::Pickle
                | ArtifactFormat::PytorchLegacy
                | ArtifactFormat::Zip
                | ArtifactFormat::Numpy
                | ArtifactFormat::SevenZip
        )
    );
    if scanned || head.first().is_none_or(|b| opcodes::info(*b).is_none()) {
        return false;
    }
    let pickle_name = extension(&ctx.art.name).is_some_and(|e| PICKLE_EXTENSIONS.contains(&e.as_str()));
    let invalid = ctx.art.errors.len() > errors
        || ctx.art.safetensors.as_ref().is_some_and(|s| !s.valid)
        || format == Some(ArtifactFormat::JoblibCompressed);
    pickle_name || invalid
}

/// Keep the extra pickle pass's report when it is a pickle after all.
fn keep_polyglot(ctx: &mut Ctx<'_>, rep: PickleReport) {
    if convincing(&rep) {
        ctx.warn(format!("{} magic bytes also decode as a pickle; scanned as both", ctx.art.format_name()));
        ctx.art.pickles.push(rep);
    }
}

/// The document of a file whose content could not be read.
pub(super) fn read_failed(art: Artifact, e: &std::io::Error, opts: &InspectOptions) -> Artifact {
    let mut ctx = Ctx { opts, art, total_read: 0, uninspected: false };
    ctx.error(format!("read error: {e}"));
    finish(ctx)
}

fn uninspectable(ctx: &mut Ctx<'_>, format: ArtifactFormat) {
    ctx.uninspected = true;
    if format == ArtifactFormat::SevenZip {
        ctx.warn("7z archive: not inspected (no 7z decoder); its contents are unknown".into());
    } else {
        // `joblib.load` decompresses and unpickles this: code we never saw.
        ctx.stopped("compressed stream (joblib ZF/bz2/xz/lz4): not decompressed, pickle inside not scanned".into());
    }
}

/// joblib's zlib (its default) and gzip dumps: the whole file is one
/// compressed joblib pickle, decompressed on the fly through the entry cap
/// and scanned both as `joblib.load` and as plain `pickle.load` read it.
/// Other codecs are [`uninspectable`].
fn compressed(ctx: &mut Ctx<'_>, head: &[u8], src: &mut dyn ReadSeek) {
    let gzip = head.starts_with(b"\x1f\x8b");
    if !gzip && head.first() != Some(&0x78) {
        return uninspectable(ctx, ArtifactFormat::JoblibCompressed);
    }
    let limits = ctx.opts.limits.clone();
    let cap = limits.max_entry_bytes.min(limits.max_total_bytes);
    let mut scan = |plain: bool| -> std::io::Result<(PickleReport, u64, bool)> {
        src.seek(SeekFrom::Start(0))?;
        let decoder: Box<dyn Read + '_> = if gzip {
            Box::new(flate2::read::MultiGzDecoder::new(&mut *src))
        } else {
            Box::new(flate2::read::ZlibDecoder::new(&mut *src))
        };
        let mut capped = zip::Capped { inner: decoder, left: cap, read: 0, hit: false };
        let rep = {
            let mut r = ByteReader::stream(&mut capped, 0);
            let opts = ScanOptions { plain, ..ScanOptions::default() };
            pickle::scan(&mut r, &limits, opts)
        };
        Ok((rep, capped.read, capped.hit))
    };
    match scan(false) {
        Ok((mut rep, read, hit)) => {
            ctx.total_read = ctx.total_read.saturating_add(read);
            if rep.joblib_arrays > 0
                && let Ok((plain, _, _)) = scan(true)
            {
                merge_plain(&mut rep, plain);
            }
            ctx.art.pickles.push(rep);
            if hit {
                ctx.stopped(format!("decompressed stream exceeds the read cap; only the first {read} bytes inspected"));
            }
        }
        Err(e) => ctx.stopped(format!("compressed stream: read error: {e}")),
    }
}

fn read_head(src: &mut dyn ReadSeek) -> std::io::Result<Vec<u8>> {
    src.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    src.take(HEAD_BYTES as u64).read_to_end(&mut head)?;
    src.seek(SeekFrom::Start(0))?;
    Ok(head)
}

/// Formats parsed front to back from a single reader.
fn linear(ctx: &mut Ctx<'_>, format: Option<ArtifactFormat>, r: &mut ByteReader<'_>, size: u64) {
    let opts = ctx.opts;
    let limits = &opts.limits;
    match format {
        Some(ArtifactFormat::Pickle) => {
            let rep = pickle::scan(r, limits, ScanOptions::default());
            push_pickle(ctx, rep);
        }
        Some(ArtifactFormat::PytorchLegacy) => {
            let opts = ScanOptions { max_segments: Some(LEGACY_TORCH_PICKLES), ..ScanOptions::default() };
            let rep = pickle::scan(r, limits, opts);
            ctx.art.pickles.push(rep);
        }
        Some(ArtifactFormat::Numpy) => numpy::inspect(ctx, r, None),
        Some(ArtifactFormat::Safetensors) => {
            let info = safetensors::inspect(r, size, limits.max_header);
            if let Some(e) = &info.error {
                ctx.error(format!("safetensors: {e}"));
            }
            ctx.art.safetensors = Some(info);
        }
        Some(ArtifactFormat::Gguf) => gguf::inspect(ctx, r, size),
        Some(ArtifactFormat::Hdf5) => hdf5(ctx, r, size),
        Some(ArtifactFormat::Onnx) => onnx::inspect(ctx, r, size),
        _ => {
            // No magic matched. Pickles need none, so try one anyway (as
            // picklescan does) and keep it only if it is convincingly one.
            let rep = pickle::scan(r, limits, ScanOptions::default());
            if convincing(&rep) {
                ctx.art.format = ArtifactFormat::Pickle;
                push_pickle(ctx, rep);
            } else {
                ctx.uninspected = true;
            }
        }
    }
}

/// Bytes of an HDF5 file searched for Keras code markers.
const HDF5_SEARCH: u64 = 64 << 20;

/// Legacy Keras HDF5: never parsed (so always uninspected), but searched for
/// Lambda layers, `__lambda__` functions and imported modules in the model
/// config attribute, which h5py stores as plain bytes near the start.
fn hdf5(ctx: &mut Ctx<'_>, r: &mut ByteReader<'_>, size: u64) {
    ctx.uninspected = true;
    let want = size.min(HDF5_SEARCH);
    let mut buf = Vec::new();
    let n = usize::try_from(want).unwrap_or(usize::MAX);
    if let Err(e) = r.read_into(n, &mut buf) {
        ctx.error(format!("hdf5: read error: {e}"));
        return;
    }
    let mut info = crate::artifact::document::KerasInfo::default();
    let keras = crate::artifact::formats::keras::scan_hdf5(&buf, &mut info);
    let window = if size > HDF5_SEARCH { format!("the first {HDF5_SEARCH} bytes") } else { "all bytes".into() };
    ctx.warn(format!("HDF5 file: not parsed; {window} searched for Keras Lambda layers and imported modules"));
    if keras {
        ctx.art.keras = Some(info);
    }
}

/// Add a raw pickle's report, recognising joblib dumps by their wrapper class.
pub(super) fn push_pickle(ctx: &mut Ctx<'_>, rep: PickleReport) {
    let joblib = rep.joblib_arrays > 0
        || rep.globals.iter().any(|g| g.module.contains("joblib") && g.name.ends_with("ArrayWrapper"));
    if joblib && ctx.art.format == ArtifactFormat::Pickle {
        ctx.art.format = ArtifactFormat::Joblib;
    }
    ctx.art.pickles.push(rep);
}

/// Evidence that a stream which matched no magic really is a pickle: garbage
/// can hit STACK_GLOBAL by chance (an unresolvable "?" global), but it does
/// not spell out a module and a name.
pub(super) fn resolves_a_global(rep: &PickleReport) -> bool {
    // A name that is not a Python identifier cannot be imported (the loader
    // fails on it), so text that happens to parse as GLOBAL does not count.
    rep.globals.iter().any(|g| sniff::is_dotted_identifier(&g.module) && sniff::is_dotted_identifier(&g.name))
}

/// A stream that matched no magic (or another format's magic) is a pickle
/// if it names a real global, or reaches a STOP after importing anything at
/// all (an unresolvable STACK_GLOBAL included): text and binary data fail long
/// before that.
pub(super) fn convincing(rep: &PickleReport) -> bool {
    // Each part is a Python name or could not be resolved (`?`); text that
    // happened to parse as GLOBAL names neither.
    let part = |s: &str| s == "?" || sniff::is_dotted_identifier(s);
    resolves_a_global(rep) || (rep.segments > 0 && rep.globals.iter().any(|g| part(&g.module) && part(&g.name)))
}

/// Summaries, verdict and the flags derived from everything found.
fn finish(mut ctx: Ctx<'_>) -> Artifact {
    let art = &mut ctx.art;
    // Pickle globals (most artifacts have a handful) are matched to their
    // summary by linear search, or through an index when there are many.
    let total: usize = art.pickles.iter().map(|p| p.globals.len()).sum();
    let mut summaries: Vec<GlobalSummary> = Vec::with_capacity(total.min(LINEAR_LOOKUP));
    let mut pickle_errors = Vec::new();
    {
        let mut index: FastMap<(&str, &str), usize> = FastMap::default();
        for p in &art.pickles {
            for g in &p.globals {
                let found = if total <= LINEAR_LOOKUP {
                    summaries.iter().position(|s| s.module == g.module && s.name == g.name)
                } else {
                    index.get(&(g.module.as_str(), g.name.as_str())).copied()
                };
                match found {
                    Some(i) => {
                        if let Some(s) = summaries.get_mut(i) {
                            s.occurrences += 1;
                        }
                    }
                    None => {
                        if total > LINEAR_LOOKUP {
                            index.insert((g.module.as_str(), g.name.as_str()), summaries.len());
                        }
                        let mut qualified = String::with_capacity(g.module.len() + 1 + g.name.len());
                        qualified.push_str(&g.module);
                        qualified.push('.');
                        qualified.push_str(&g.name);
                        summaries.push(GlobalSummary {
                            module: g.module.clone(),
                            name: g.name.clone(),
                            qualified,
                            classification: g.classification,
                            reason: g.reason.clone(),
                            occurrences: 1,
                        });
                    }
                }
            }
            let label = p.entry.as_deref().unwrap_or("pickle");
            let first = pickle_errors.len();
            pickle_errors.extend(p.errors.iter().map(|e| format!("{label}: {e}")));
            if p.stopped_early {
                art.incomplete.extend(pickle_errors.get(first..).unwrap_or_default().iter().cloned());
            }
        }
    }
    art.errors.extend(pickle_errors);
    let of = |c: Classification| -> Vec<String> {
        summaries.iter().filter(|s| s.classification == c).map(|s| s.qualified.clone()).collect()
    };
    art.dangerous_globals = of(Classification::Dangerous);
    art.unknown_globals = of(Classification::Unknown);
    art.globals = summaries;

    let any_object_array = art.numpy.iter().any(|a| a.object);
    art.serialization = match art.format {
        ArtifactFormat::Pickle
        | ArtifactFormat::PytorchZip
        | ArtifactFormat::PytorchLegacy
        | ArtifactFormat::Torchscript
        | ArtifactFormat::Joblib
        | ArtifactFormat::JoblibCompressed => Serialization::Pickle,
        ArtifactFormat::Numpy | ArtifactFormat::NumpyZip if any_object_array => Serialization::Pickle,
        ArtifactFormat::Numpy | ArtifactFormat::NumpyZip => Serialization::Numpy,
        ArtifactFormat::Safetensors => Serialization::Safetensors,
        ArtifactFormat::Gguf => Serialization::Gguf,
        ArtifactFormat::Keras => Serialization::Keras,
        ArtifactFormat::Hdf5 if art.keras.is_some() => Serialization::Keras,
        ArtifactFormat::Onnx => Serialization::Onnx,
        ArtifactFormat::Zip | ArtifactFormat::Tar if !art.pickles.is_empty() => Serialization::Pickle,
        ArtifactFormat::Zip
        | ArtifactFormat::SevenZip
        | ArtifactFormat::Hdf5
        | ArtifactFormat::Tar
        | ArtifactFormat::Unknown => Serialization::Unknown,
    };
    let lambdas = art.keras.as_ref().is_some_and(|k| {
        !k.lambda_layers.is_empty() || !k.lambda_functions.is_empty() || !k.dangerous_imports.is_empty()
    });
    let external = art.keras.as_ref().is_some_and(|k| !k.external_modules.is_empty());
    art.executes_code_on_load = art.serialization == Serialization::Pickle || !art.pickles.is_empty() || lambdas;
    art.verdict = if !art.dangerous_globals.is_empty() || lambdas {
        Verdict::Dangerous
    } else if !art.unknown_globals.is_empty() || external || art.pickles.iter().any(|p| !p.errors.is_empty()) {
        Verdict::Suspicious
    } else if ctx.uninspected || !art.incomplete.is_empty() {
        Verdict::Uninspected
    } else {
        Verdict::Clean
    };
    ctx.art
}
