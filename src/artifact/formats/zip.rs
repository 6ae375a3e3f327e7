//! Zip containers: PyTorch (`<archive>/data.pkl`), TorchScript
//! (`constants.pkl`), NumPy `.npz`, Keras `.keras`, and generic zips.
//!
//! Every entry is opened the way PyTorch's own reader does: the encryption
//! flag and CRC are ignored (picklescan's `RelaxedZipFile` does the same), so
//! flag tricks such as `malicious1_0x1.zip` cannot hide a pickle that
//! `torch.load` would happily read. Entry names come from the central
//! directory. Each entry is read through a cap (`max_entry_bytes`, and the
//! archive-wide `max_total_bytes`), so zip bombs cost at most the cap; nested
//! archives recurse up to `max_depth`.

use std::io::{self, Cursor, Read, SeekFrom};

use ::zip::ZipArchive;
use ::zip::read::ZipReadOptions;

use crate::artifact::document::{ArchiveInfo, ArtifactFormat};
use crate::artifact::formats::keras;
use crate::artifact::formats::numpy;
use crate::artifact::formats::sniff::sniff;
use crate::artifact::inspect::{self, Ctx, HEAD_BYTES};
use crate::artifact::pickle::{self, ScanOptions};
use crate::artifact::reader::{self, ByteReader, ReadSeek};

/// Entry extensions picklescan scans as pickles even without a PROTO header.
const PICKLE_EXTENSIONS: &[&str] = &[".pkl", ".pickle", ".joblib", ".dat", ".data"];
const MAX_NAMES: usize = 1000;
/// End-of-central-directory record size and the largest comment after it.
const EOCD_LEN: usize = 22;
const EOCD_SEARCH: u64 = 65_535 + EOCD_LEN as u64;

pub(in crate::artifact) fn inspect(ctx: &mut Ctx<'_>, src: &mut dyn ReadSeek, prefix: Option<&str>, depth: usize) {
    let label = prefix.unwrap_or("zip");
    // The zip crate materialises the whole central directory; refuse archives
    // that declare more entries than we would look at before it does.
    let max = ctx.opts.limits.max_entries as u64;
    if let Ok(Some(declared)) = declared_entries(src)
        && declared > max
    {
        ctx.stopped(format!("{label}: declares {declared} entries, more than max_entries ({max}); not inspected"));
        return;
    }
    let mut za = match ZipArchive::new(src) {
        Ok(z) => z,
        Err(e) => {
            ctx.stopped(format!("{label}: unreadable zip: {e}"));
            return;
        }
    };
    let limits = ctx.opts.limits.clone();
    let total = za.len();
    let n = total.min(limits.max_entries);
    let names: Vec<String> = (0..n)
        .map(|i| za.by_index_data(i).map(|e| String::from_utf8_lossy(e.name_raw()).into_owned()).unwrap_or_default())
        .collect();
    let kind = kind_from_names(&names);
    if depth == 0 {
        ctx.art.format = kind;
    }
    {
        let a = archive(ctx);
        a.entries = a.entries.saturating_add(total as u64);
        a.skipped_entries = a.skipped_entries.saturating_add((total - n) as u64);
        for name in names.iter().take(MAX_NAMES.saturating_sub(a.names.len())) {
            a.names.push(join(prefix, name));
        }
    }
    if total > n {
        ctx.stopped(format!("{label}: {} entries beyond max_entries not inspected", total - n));
    }
    let mut keras_files = keras::KerasFiles::default();
    for (i, name) in names.iter().enumerate() {
        let Ok(meta) = za.by_index_data(i) else {
            continue;
        };
        if meta.is_dir() {
            continue;
        }
        let (encrypted, declared) = (meta.encrypted(), meta.size());
        let full = join(prefix, name);
        let budget = limits.max_total_bytes.saturating_sub(ctx.total_read);
        if budget == 0 {
            ctx.stopped(format!("{label}: max_total_bytes reached; {full} and later entries not inspected"));
            break;
        }
        {
            let a = archive(ctx);
            a.declared_bytes = a.declared_bytes.saturating_add(declared);
            if encrypted {
                a.encrypted = true;
                a.encrypted_entries.push(full.clone());
            }
        }
        let opts = ZipReadOptions::new().ignore_encryption_flag(true).ignore_crc32(true);
        let file = match za.by_index_with_options(i, opts) {
            Ok(f) => f,
            Err(e) => {
                ctx.stopped(format!("{full}: cannot read entry: {e}"));
                continue;
            }
        };
        let mut capped = Capped { inner: file, left: limits.max_entry_bytes.min(budget), read: 0, hit: false };
        let leaf_kind = if depth == 0 { kind } else { ArtifactFormat::Zip };
        entry(ctx, &mut capped, &full, name, leaf_kind, depth, encrypted, &mut keras_files);
        ctx.total_read = ctx.total_read.saturating_add(capped.read);
        let a = archive(ctx);
        a.read_bytes = a.read_bytes.saturating_add(capped.read);
        if capped.hit {
            a.capped_entries.push(full.clone());
            ctx.stopped(format!(
                "{full}: decompressed data exceeds the read cap; only the first {} bytes were inspected",
                capped.read
            ));
        }
    }
    if let Some(info) = keras_files.finish() {
        ctx.art.keras = Some(info);
    }
}

/// Whether an end-of-central-directory record sits where Python's
/// `zipfile.is_zipfile` looks for it (the last 64 KiB), whatever precedes it.
/// (Random bytes that merely contain the record's signature are not taken
/// for an archive: the central directory must parse too.)
pub(in crate::artifact) fn ends_like_zip(src: &mut dyn ReadSeek) -> io::Result<bool> {
    if declared_entries(src)?.is_none_or(|n| n > 1 << 20) {
        return Ok(false);
    }
    let ok = ZipArchive::new(&mut *src).is_ok();
    src.seek(SeekFrom::Start(0))?;
    Ok(ok)
}

/// Entry count from the end-of-central-directory record (zip64 aware),
/// found by scanning the archive's tail; `None` when there is none.
fn declared_entries(src: &mut dyn ReadSeek) -> io::Result<Option<u64>> {
    let len = src.seek(SeekFrom::End(0))?;
    let start = len.saturating_sub(EOCD_SEARCH);
    src.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    (&mut *src).take(EOCD_SEARCH).read_to_end(&mut tail)?;
    src.seek(SeekFrom::Start(0))?;
    let Some(at) = tail.windows(4).rposition(|w| w == b"PK\x05\x06") else {
        return Ok(None);
    };
    let u16_at = |i: usize| tail.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let Some(entries) = u16_at(at + 10) else {
        return Ok(None);
    };
    if entries != u16::MAX {
        return Ok(Some(u64::from(entries)));
    }
    // Zip64: a locator just before the EOCD points at the zip64 record,
    // whose total entry count sits 32 bytes in.
    let Some(loc) = at.checked_sub(20).and_then(|l| tail.get(l..at)) else {
        return Ok(None);
    };
    if &loc[..4] != b"PK\x06\x07" {
        return Ok(None);
    }
    let mut off = [0u8; 8];
    off.copy_from_slice(&loc[8..16]);
    src.seek(SeekFrom::Start(u64::from_le_bytes(off).saturating_add(32)))?;
    let mut n = [0u8; 8];
    let ok = src.read_exact(&mut n).is_ok();
    src.seek(SeekFrom::Start(0))?;
    Ok(ok.then(|| u64::from_le_bytes(n)))
}

fn archive<'c>(ctx: &'c mut Ctx<'_>) -> &'c mut ArchiveInfo {
    ctx.art.archive.get_or_insert_with(ArchiveInfo::default)
}

fn join(prefix: Option<&str>, name: &str) -> String {
    match prefix {
        Some(p) => format!("{p}!{name}"),
        None => name.to_string(),
    }
}

/// Decide what a zip is from its entry names (PyTorch's reader goes by
/// names too: it loads `<archive>/data.pkl`).
fn kind_from_names(names: &[String]) -> ArtifactFormat {
    let files: Vec<&str> = names.iter().map(String::as_str).filter(|n| !n.ends_with('/')).collect();
    let in_archive = |n: &str, leaf: &str| n.split_once('/').is_some_and(|(dir, rest)| !dir.is_empty() && rest == leaf);
    let has = |leaf: &str| files.iter().any(|n| in_archive(n, leaf));
    if has("constants.pkl") {
        ArtifactFormat::Torchscript
    } else if has("data.pkl") {
        ArtifactFormat::PytorchZip
    } else if !files.is_empty() && files.iter().all(|n| n.ends_with(".npy")) {
        ArtifactFormat::NumpyZip
    } else if files.contains(&"config.json") {
        // Keras needs nothing else (weights may be `.h5`, `.npz` or absent);
        // a config that turns out not to be a Keras model demotes it to zip.
        ArtifactFormat::Keras
    } else {
        ArtifactFormat::Zip
    }
}

#[allow(clippy::too_many_arguments)]
fn entry(
    ctx: &mut Ctx<'_>,
    r: &mut dyn Read,
    full: &str,
    name: &str,
    kind: ArtifactFormat,
    depth: usize,
    encrypted: bool,
    keras_files: &mut keras::KerasFiles,
) {
    // The first HEAD_BYTES, read the way `take(HEAD_BYTES).read_to_end`
    // would (bytes read before an error are kept), into a recycled buffer.
    let mut buf = reader::take_buffer();
    if buf.len() < HEAD_BYTES {
        buf.resize(HEAD_BYTES, 0);
    }
    let (got, read) = read_head(r, &mut buf[..HEAD_BYTES]);
    let head = buf.get(..got).unwrap_or_default();
    entry_with_head(ctx, r, head, read, full, name, kind, depth, encrypted, keras_files);
    reader::give_buffer(buf);
}

/// Fill `out` from `r` until it is full or `r` ends; how much was read, and
/// the error that stopped it, if any.
fn read_head(r: &mut dyn Read, out: &mut [u8]) -> (usize, io::Result<()>) {
    let mut got = 0usize;
    while got < out.len() {
        match r.read(&mut out[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (got, Err(e)),
        }
    }
    (got, Ok(()))
}

#[allow(clippy::too_many_arguments)]
fn entry_with_head(
    ctx: &mut Ctx<'_>,
    r: &mut dyn Read,
    head: &[u8],
    read: io::Result<()>,
    full: &str,
    name: &str,
    kind: ArtifactFormat,
    depth: usize,
    encrypted: bool,
    keras_files: &mut keras::KerasFiles,
) {
    let sniffed = sniff(head);
    if let Err(e) = read
        && sniffed.is_none()
    {
        // Ciphertext read as if it were plain (encryption flag ignored) often
        // overruns the declared size; that is "could not inspect", not damage.
        ctx.uninspected = true;
        if encrypted {
            ctx.warn(format!("{full}: encrypted entry; contents not inspected ({e})"));
        } else {
            ctx.stopped(format!("{full}: read error: {e}"));
        }
        return;
    }
    let pickle_ext = PICKLE_EXTENSIONS.iter().any(|e| name.to_ascii_lowercase().ends_with(e));
    let mut rest = Cursor::new(head).chain(r);
    match sniffed {
        Some(ArtifactFormat::Pickle | ArtifactFormat::PytorchLegacy) => {
            let rep = scan(ctx, &mut rest, full);
            // Random tensor bytes can start like a pickle; keep the report
            // only if it is plausibly one.
            if pickle_ext || rep.errors.is_empty() || inspect::resolves_a_global(&rep) {
                ctx.art.pickles.push(rep);
            }
        }
        Some(ArtifactFormat::Numpy) => {
            let mut br = ByteReader::stream(&mut rest, 0);
            numpy::inspect(ctx, &mut br, Some(full));
        }
        Some(ArtifactFormat::Zip) => nested(ctx, &mut rest, full, depth),
        Some(ArtifactFormat::SevenZip | ArtifactFormat::JoblibCompressed) => {
            ctx.uninspected = true;
            ctx.warn(format!("{full}: compressed archive/stream inside the zip was not inspected"));
        }
        _ if pickle_ext => {
            let rep = scan(ctx, &mut rest, full);
            if inspect::resolves_a_global(&rep) {
                ctx.art.pickles.push(rep);
            } else if encrypted {
                ctx.uninspected = true;
                ctx.warn(format!("{full}: encrypted entry with a pickle extension could not be inspected"));
            } else {
                ctx.warn(format!("{full}: has a pickle extension but does not parse as a pickle"));
            }
        }
        _ if depth == 0 && kind == ArtifactFormat::Keras && keras::is_json_member(name) => {
            match keras_files.read(name, &mut rest) {
                Ok(()) => {}
                Err(keras::ReadError::Unread(e)) => ctx.stopped(format!("{full}: {e}")),
                Err(keras::ReadError::NotKeras) => {
                    ctx.art.format = ArtifactFormat::Zip;
                    ctx.warn(format!("{full}: not a Keras model config; read as a plain zip"));
                }
            }
        }
        _ if encrypted => {
            ctx.uninspected = true;
            ctx.warn(format!("{full}: encrypted entry; contents not inspected"));
        }
        _ => {}
    }
}

fn scan(ctx: &Ctx<'_>, r: &mut dyn Read, full: &str) -> crate::artifact::document::PickleReport {
    let mut br = ByteReader::stream(r, 0);
    let opts = ScanOptions { entry: Some(full.to_string()), ..ScanOptions::default() };
    pickle::scan(&mut br, &ctx.opts.limits, opts)
}

/// A zip inside the zip: buffer it (bounded by the entry cap) and recurse.
fn nested(ctx: &mut Ctx<'_>, r: &mut dyn Read, full: &str, depth: usize) {
    if depth >= ctx.opts.limits.max_depth {
        ctx.stopped(format!(
            "{full}: nested archive deeper than max_depth ({}); not inspected",
            ctx.opts.limits.max_depth
        ));
        return;
    }
    let mut buf = Vec::new();
    if let Err(e) = r.read_to_end(&mut buf) {
        ctx.stopped(format!("{full}: read error: {e}"));
        return;
    }
    let a = archive(ctx);
    a.nested_archives = a.nested_archives.saturating_add(1);
    inspect(ctx, &mut Cursor::new(buf), Some(full), depth + 1);
}

/// Reads at most `left` bytes and remembers whether more were available.
pub(in crate::artifact) struct Capped<R> {
    pub inner: R,
    pub left: u64,
    pub read: u64,
    pub hit: bool,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            if !self.hit && !buf.is_empty() {
                let mut probe = [0u8; 1];
                self.hit = self.inner.read(&mut probe)? > 0;
            }
            return Ok(0);
        }
        let max = usize::try_from(self.left).unwrap_or(usize::MAX).min(buf.len());
        let n = self.inner.read(&mut buf[..max])?;
        self.left = self.left.saturating_sub(n as u64);
        self.read = self.read.saturating_add(n as u64);
        Ok(n)
    }
}
