//! Tar archives, above all the oldest `torch.save` format: a tar with the
//! members `sys_info`, `pickle`, `storages` and `tensors`. `torch.load` tries
//! this format first (`tarfile.open`, which goes by the header checksum, not
//! by magic) and unpickles every one of those members:
//! * `pickle` and `sys_info` are single pickles;
//! * `storages` is a pickle (the count), then per storage a pickle
//!   `(key, location, storage_type)` followed by an int64 element count and
//!   the raw elements, then a pickle of storage views;
//! * `tensors` is a pickle (the count), then per tensor a pickle
//!   `(key, storage_id, tensor_type)` followed by int32 ndim, 4 bytes, ndim
//!   int64 sizes, ndim int64 strides and an int64 offset.
//!
//! Each member is scanned pickle by pickle, stepping over exactly the raw
//! bytes `torch.load` reads in between, so no opcode it executes goes unseen.
//! Other members are sniffed like zip entries. Reads are capped as in zips.

use std::io::Read;

use crate::artifact::document::{ArtifactFormat, PickleReport};
use crate::artifact::formats::sniff::sniff;
use crate::artifact::inspect::Ctx;
use crate::artifact::pickle::{self, ScanOptions};
use crate::artifact::reader::{ByteReader, ReadSeek};

/// Members `torch.load`'s legacy tar reader unpickles.
const TORCH_MEMBERS: &[&str] = &["sys_info", "pickle", "storages", "tensors"];

/// Whether `head` starts with a tar header Python's `tarfile` would accept:
/// a checksum that matches (signed or unsigned sum, checksum field as spaces).
pub(in crate::artifact) fn is_tar(head: &[u8]) -> bool {
    let Some(block) = head.get(..512) else { return false };
    if block[0] == 0 {
        return false;
    }
    let field = String::from_utf8_lossy(&block[148..156]);
    let Ok(declared) = u32::from_str_radix(field.trim_matches(|c: char| c == '\0' || c == ' '), 8) else {
        return false;
    };
    let (mut unsigned, mut signed) = (0u32, 0i32);
    for (i, b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { *b };
        unsigned += u32::from(b);
        signed += i32::from(b as i8);
    }
    declared == unsigned || i32::try_from(declared).is_ok_and(|d| d == signed)
}

pub(in crate::artifact) fn inspect(ctx: &mut Ctx<'_>, src: &mut dyn ReadSeek) {
    let limits = ctx.opts.limits.clone();
    let mut archive = tar::Archive::new(src);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => return ctx.stopped(format!("tar: unreadable: {e}")),
    };
    let mut seen = 0usize;
    let mut torch = false;
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => return ctx.stopped(format!("tar: unreadable entry after {seen} entries: {e}")),
        };
        seen += 1;
        if seen > limits.max_entries {
            return ctx
                .stopped(format!("tar: more than max_entries ({}) entries; rest not inspected", limits.max_entries));
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let size = entry.size();
        let budget = limits.max_total_bytes.saturating_sub(ctx.total_read);
        let cap = limits.max_entry_bytes.min(budget);
        if size > cap {
            ctx.stopped(format!("{name}: {size} bytes exceed the read cap; not inspected"));
            continue;
        }
        ctx.total_read = ctx.total_read.saturating_add(size);
        let leaf = name.rsplit('/').next().unwrap_or(&name);
        let mut r = ByteReader::stream(&mut entry, 0);
        match leaf {
            "storages" | "tensors" => {
                torch = true;
                let rep = interleaved(&mut r, &name, &limits, leaf == "storages");
                ctx.art.pickles.push(rep);
            }
            _ if TORCH_MEMBERS.contains(&leaf) => {
                torch = true;
                let rep = pickle::scan(&mut r, &limits, ScanOptions { entry: Some(name), ..ScanOptions::default() });
                ctx.art.pickles.push(rep);
            }
            _ => other_member(ctx, &mut r, name),
        }
    }
    if torch {
        ctx.art.format = ArtifactFormat::PytorchLegacy;
    }
}

/// A member that is not one of torch's: scanned if it sniffs as a pickle.
fn other_member(ctx: &mut Ctx<'_>, r: &mut ByteReader<'_>, name: String) {
    let mut head = [0u8; 16];
    let mut got = 0usize;
    while got < head.len() {
        match r.byte() {
            Ok(Some(b)) => {
                head[got] = b;
                got += 1;
            }
            _ => break,
        }
    }
    if matches!(sniff(&head[..got]), Some(ArtifactFormat::Pickle | ArtifactFormat::PytorchLegacy)) {
        let bytes = head[..got].to_vec();
        let mut rest = std::io::Cursor::new(bytes).chain(ReaderAdapter(r));
        let mut br = ByteReader::stream(&mut rest, 0);
        let rep = pickle::scan(&mut br, &ctx.opts.limits, ScanOptions { entry: Some(name), ..ScanOptions::default() });
        if crate::artifact::inspect::convincing(&rep) || rep.errors.is_empty() {
            ctx.art.pickles.push(rep);
        }
    }
}

/// `Read` over a [`ByteReader`] (to put sniffed bytes back in front).
struct ReaderAdapter<'r, 'a>(&'r mut ByteReader<'a>);

impl Read for ReaderAdapter<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut out = Vec::new();
        let n = self.0.read_into(buf.len(), &mut out)?;
        buf[..n].copy_from_slice(&out[..n]);
        Ok(n)
    }
}

/// `storages` or `tensors`: pickles with raw records after those that name a
/// storage (or tensor) type. One report for the whole member.
fn interleaved(
    r: &mut ByteReader<'_>,
    name: &str,
    limits: &crate::artifact::ArtifactLimits,
    storages: bool,
) -> PickleReport {
    let mut total = PickleReport { entry: Some(name.to_string()), ..PickleReport::default() };
    loop {
        let one = ScanOptions { entry: Some(name.to_string()), max_segments: Some(1), ..ScanOptions::default() };
        let rep = pickle::scan(r, limits, one);
        let record = rep.globals.iter().find_map(|g| {
            let ty = if storages { g.name.strip_suffix("Storage") } else { g.name.strip_suffix("Tensor") };
            ty.filter(|_| g.module == "torch")
        });
        let skip = record.map(|ty| raw_record(r, ty, storages));
        let done = rep.segments == 0 || !rep.errors.is_empty();
        merge(&mut total, rep);
        match skip {
            Some(Err(e)) => {
                total.stopped_early = true;
                total.errors.push(e);
                break;
            }
            _ if done => break,
            _ => {}
        }
    }
    total
}

/// Step over the raw bytes `torch.load` reads after a storage or tensor record.
fn raw_record(r: &mut ByteReader<'_>, ty: &str, storage: bool) -> Result<(), String> {
    let at = r.offset();
    let io = |e: std::io::Error| format!("read error at offset {at}: {e}");
    let truncated = || format!("truncated at offset {at}: raw {} record", if storage { "storage" } else { "tensor" });
    let skip = |r: &mut ByteReader<'_>, n: u64| -> Result<(), String> {
        if r.skip(n).map_err(io)? < n { Err(truncated()) } else { Ok(()) }
    };
    if storage {
        let count = u64::from_le_bytes(r.array().map_err(io)?.ok_or_else(truncated)?);
        let size = element_size(ty).ok_or_else(|| format!("unknown storage type {ty}Storage at offset {at}"))?;
        let bytes = count.checked_mul(size).ok_or_else(|| format!("storage size overflows at offset {at}"))?;
        skip(r, bytes)
    } else {
        let ndim = i32::from_le_bytes(r.array().map_err(io)?.ok_or_else(truncated)?);
        let ndim = u64::try_from(ndim).map_err(|_| format!("negative tensor rank at offset {at}"))?;
        skip(r, 4 + 16 * ndim + 8)
    }
}

fn element_size(ty: &str) -> Option<u64> {
    Some(match ty {
        "Double" | "Long" | "ComplexFloat" => 8,
        "Float" | "Int" | "QInt32" => 4,
        "Half" | "Short" | "BFloat16" => 2,
        "Char" | "Byte" | "Bool" | "QInt8" | "QUInt8" | "QUInt4x2" | "QUInt2x4" => 1,
        "ComplexDouble" => 16,
        _ => return None,
    })
}

/// Fold one segment's report into the member's.
fn merge(total: &mut PickleReport, rep: PickleReport) {
    total.protocol = total.protocol.max(rep.protocol);
    total.opcodes += rep.opcodes;
    total.segments += rep.segments;
    total.calls += rep.calls;
    total.persistent_ids += rep.persistent_ids;
    total.bytes_scanned += rep.bytes_scanned;
    total.stopped_early |= rep.stopped_early;
    for g in rep.globals {
        if !total.globals.iter().any(|k| k.module == g.module && k.name == g.name) {
            total.globals.push(g);
        }
    }
    total.errors.extend(rep.errors);
}
