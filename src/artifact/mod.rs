//! Static inspection of ML model artifacts.
//!
//! Model files are treated strictly as bytes: nothing is unpickled, imported,
//! decompressed to disk or executed. Formats are detected by magic bytes
//! ([`sniff`]), headers are parsed with every length checked against limits
//! and the real file size, and pickles are run through a symbolic stack
//! machine that reports every imported global with a classification.
//!
//! The result is an [`Artifact`], the "ModelArtifact" document policies are
//! written against (fields in docs/artifacts.md). The loader's only contact
//! with this tree is `crate::input::model_file`, which turns an artifact into a
//! `Document`, and the walker's [`is_model_file`].
//!
//! Layout: [`formats`] parses containers and headers (zip, torch tar,
//! safetensors, GGUF, numpy, ONNX, Keras/HDF5), [`pickle`] scans pickle
//! streams, [`inspect`] dispatches between them and rolls findings up into
//! the [`document`], and [`to_value`] builds the engine's
//! `crate::value::Value` from it (the only engine type this tree uses).

mod document;
mod formats;
mod inspect;
mod pickle;
mod reader;
#[cfg(test)]
mod tests;
pub(crate) mod to_value;

use std::fs::File;
#[cfg(test)]
use std::io::Cursor;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

pub use self::document::Artifact;
#[cfg(test)]
pub use self::document::{ArtifactFormat, Classification, Verdict};
pub use self::formats::sniff::sniff;

/// Resource bounds applied while inspecting hostile input.
///
/// ```
/// let limits = vigil::ArtifactLimits::default().with_max_pickle_ops(1_000_000).with_max_depth(1);
/// let options = vigil::InspectOptions::default().with_hash(false).with_limits(limits);
/// assert_eq!(options.limits.max_depth, 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArtifactLimits {
    /// Opcodes decoded per pickle stream.
    pub max_pickle_ops: usize,
    /// Memo entries per pickle stream.
    pub max_memo: usize,
    /// Longest string argument kept for analysis; longer ones are skipped
    /// (and can never name a global, so such a STACK_GLOBAL is unresolvable).
    pub max_string: usize,
    /// Decompressed bytes read per zip entry.
    pub max_entry_bytes: u64,
    /// Decompressed bytes read across all entries of all (nested) archives.
    pub max_total_bytes: u64,
    /// Zip entries looked at per archive.
    pub max_entries: usize,
    /// Archive nesting depth (a zip inside the top-level zip is depth 1).
    pub max_depth: usize,
    /// safetensors JSON header cap (the format's own maximum is 100,000,000).
    pub max_header: u64,
}

impl Default for ArtifactLimits {
    fn default() -> Self {
        ArtifactLimits {
            max_pickle_ops: 50_000_000,
            max_memo: 1 << 22,
            max_string: 64 * 1024,
            max_entry_bytes: 256 << 20,
            max_total_bytes: 1 << 30,
            max_entries: 100_000,
            max_depth: 3,
            max_header: formats::sniff::SAFETENSORS_MAX_HEADER,
        }
    }
}

setters!(ArtifactLimits {
    /// Sets the opcodes decoded per pickle stream.
    with_max_pickle_ops => max_pickle_ops: usize,
    /// Sets the memo entries per pickle stream.
    with_max_memo => max_memo: usize,
    /// Sets the longest string argument kept for analysis.
    with_max_string => max_string: usize,
    /// Sets the decompressed bytes read per zip entry.
    with_max_entry_bytes => max_entry_bytes: u64,
    /// Sets the decompressed bytes read across all entries of all (nested) archives.
    with_max_total_bytes => max_total_bytes: u64,
    /// Sets the zip entries looked at per archive.
    with_max_entries => max_entries: usize,
    /// Sets the archive nesting depth.
    with_max_depth => max_depth: usize,
    /// Sets the safetensors JSON header cap.
    with_max_header => max_header: u64,
});

/// What to do besides parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InspectOptions {
    /// Stream a SHA-256 of the whole file (fixed-size buffer).
    pub hash: bool,
    /// Bounds on work and memory for hostile files.
    pub limits: ArtifactLimits,
}

impl Default for InspectOptions {
    fn default() -> Self {
        InspectOptions { hash: true, limits: ArtifactLimits::default() }
    }
}

setters!(InspectOptions {
    /// Sets whether the whole file is hashed (SHA-256).
    with_hash => hash: bool,
    /// Sets the bounds on work and memory.
    with_limits => limits: ArtifactLimits,
});

/// Inspect a file on disk. Only headers are read where the format allows
/// (apart from hashing). I/O errors are `Err`; malformed content is reported
/// in the document's `errors`.
pub fn inspect_path(path: &Path, opts: &InspectOptions) -> std::io::Result<Artifact> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"));
    }
    let size = meta.len();
    let mut art = Artifact::empty(&path.to_string_lossy(), size);
    if size > 0 && size <= WHOLE_FILE_MAX {
        // Small files (most pickles, headers-only test files) are read whole
        // with one read and parsed in place: no seeks, no second read to hash.
        let (buf, got) = match read_whole(&mut file, size) {
            Ok(b) => b,
            // As in the streaming path: unreadable content is an error in the
            // document, unless hashing (which must read everything) failed.
            Err(e) if !opts.hash => return Ok(inspect::read_failed(art, &e, opts)),
            Err(e) => return Err(e),
        };
        let bytes = buf.get(..got).unwrap_or_default();
        if opts.hash {
            art.sha256 = Some(crate::hex::sha256(bytes));
        }
        let art = inspect::run_bytes(art, bytes, size, opts);
        reader::give_buffer(buf);
        return Ok(art);
    }
    if opts.hash {
        art.sha256 = Some(crate::hex::sha256_reader(&mut file)?);
        file.seek(SeekFrom::Start(0))?;
    }
    Ok(inspect::run(art, &mut file, size, opts))
}

/// Files up to this size are read into memory whole (the streaming reader's
/// buffer is this large anyway); larger ones are streamed and seeked.
const WHOLE_FILE_MAX: u64 = 64 * 1024;

/// Read the file's `size` bytes (fewer if it shrank since `metadata`) into
/// the start of a recycled buffer; returns it and how many bytes were read.
/// Hand the buffer back with `reader::give_buffer`.
fn read_whole(file: &mut File, size: u64) -> std::io::Result<(Vec<u8>, usize)> {
    // `size <= WHOLE_FILE_MAX`, so it fits usize.
    let want = usize::try_from(size).unwrap_or(0);
    let mut buf = reader::take_buffer();
    // Stale contents are overwritten by the read; only growth is zeroed.
    if buf.len() < want {
        buf.resize(want, 0);
    }
    let mut got = 0usize;
    while got < want {
        match file.read(&mut buf[got..want]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                reader::give_buffer(buf);
                return Err(e);
            }
        }
    }
    Ok((buf, got))
}

/// Bytes of a file that no format claims which are scanned for a pickle.
const PICKLE_SNIFF_BYTES: u64 = 64 * 1024;

/// Whether a file that no format's magic claims (any name, no extension) is
/// a pickle anyway: protocol 2+ streams need not start with PROTO, and
/// protocol 0/1 streams have no magic at all. The first 64 KiB are scanned
/// and must convince: a real global named, or a STOP reached after an import.
/// `first` holds the bytes already read from the file, `rest` the file after them.
///
/// A file of any name is a model file when its magic bytes are a format's
/// own, or when it starts with PROTO; the weak protocol 0/1 shape alone
/// ("hello" parses as three opcodes) must also convince by parsing, so plain
/// text never becomes a model file.
pub fn is_model_file(first: &[u8], rest: &mut dyn Read) -> bool {
    match sniff(first) {
        Some(document::ArtifactFormat::Pickle) if !first.starts_with(&[0x80]) => is_pickle_stream(first, rest),
        Some(_) => true,
        None => is_pickle_stream(first, rest),
    }
}

/// [`is_model_file`] for a stream that no magic claims.
pub fn is_pickle_stream(first: &[u8], rest: &mut dyn Read) -> bool {
    let mut head = first.to_vec();
    let more = PICKLE_SNIFF_BYTES.saturating_sub(head.len() as u64);
    if rest.take(more).read_to_end(&mut head).is_err() {
        return false;
    }
    sniff_pickle(&head)
}

/// [`is_pickle_stream`] over bytes in memory.
pub fn sniff_pickle(head: &[u8]) -> bool {
    if head.first().is_none_or(|b| pickle::opcodes::info(*b).is_none()) {
        return false;
    }
    // A text file fails within a few opcodes; the bound only matters for
    // hostile input.
    let limits = ArtifactLimits { max_pickle_ops: 100_000, ..ArtifactLimits::default() };
    let rep = pickle::scan(&mut reader::ByteReader::memory(head), &limits, pickle::ScanOptions::default());
    inspect::convincing(&rep)
}

/// Inspect bytes held in memory (tests, fuzzing, already-fetched blobs).
pub fn inspect_bytes(name: &str, bytes: &[u8], opts: &InspectOptions) -> Artifact {
    let size = bytes.len() as u64;
    let mut art = Artifact::empty(name, size);
    if opts.hash {
        art.sha256 = Some(crate::hex::sha256(bytes));
    }
    inspect::run_bytes(art, bytes, size, opts)
}

#[cfg(test)]
mod hash_tests {
    use super::*;

    #[test]
    fn sha256_of_bytes_and_stream_agree() {
        let opts = InspectOptions::default();
        let art = inspect_bytes("x.bin", b"abc", &opts);
        assert_eq!(art.sha256.as_deref(), Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        let mut cur = Cursor::new(b"abc".to_vec());
        assert_eq!(crate::hex::sha256_reader(&mut cur).ok(), art.sha256);
        let no_hash = InspectOptions { hash: false, ..InspectOptions::default() };
        assert_eq!(inspect_bytes("x.bin", b"abc", &no_hash).sha256, None);
    }

    #[test]
    fn unknown_bytes_are_unknown() {
        let art = inspect_bytes("dir/readme.txt", b"hello world, not a model", &InspectOptions::default());
        assert_eq!(art.format, ArtifactFormat::Unknown);
        assert_eq!(art.name, "readme.txt");
        assert_eq!(art.verdict, Verdict::Uninspected);
        assert!(!art.executes_code_on_load);
    }
}
