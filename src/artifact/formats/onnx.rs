//! Minimal ONNX `ModelProto` reader: walks the top-level protobuf fields and
//! keeps the small ones (IR version, producer, opsets, metadata_props). The
//! graph (field 7), which holds the weights, is skipped by length, so no
//! protobuf dependency is needed and nothing large is read.

use crate::artifact::document::{OnnxInfo, OnnxOpset};
use crate::artifact::inspect::Ctx;
use crate::artifact::reader::ByteReader;

/// Length-delimited fields larger than this are skipped, not parsed.
const MAX_SMALL_FIELD: u64 = 64 * 1024;
const MAX_FIELDS: usize = 100_000;
const MAX_KEPT: usize = 256;

pub(in crate::artifact) fn inspect(ctx: &mut Ctx<'_>, r: &mut ByteReader<'_>, file_len: u64) {
    let mut info = OnnxInfo::default();
    if let Err(e) = walk(r, file_len, &mut info) {
        ctx.error(format!("onnx: {e}"));
    }
    ctx.art.onnx = Some(info);
}

/// One decoded protobuf field.
enum Field {
    Varint(u64),
    Bytes(Vec<u8>),
    Skipped,
}

fn walk(r: &mut ByteReader<'_>, end: u64, info: &mut OnnxInfo) -> Result<(), String> {
    let mut fields = 0usize;
    while r.offset() < end {
        fields += 1;
        if fields > MAX_FIELDS {
            return Err(format!("more than {MAX_FIELDS} top-level fields"));
        }
        let (number, field) = next_field(&mut Src::Reader(r, end))?;
        let text = |f: &Field| match f {
            Field::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        };
        match (number, &field) {
            (1, Field::Varint(v)) => info.ir_version = Some(*v),
            (2, _) => info.producer_name = text(&field),
            (3, _) => info.producer_version = text(&field),
            (4, _) => info.domain = text(&field),
            (5, Field::Varint(v)) => info.model_version = Some(*v),
            (8, Field::Bytes(b)) if info.opsets.len() < MAX_KEPT => {
                let mut op = OnnxOpset::default();
                for (n, f) in sub_fields(b)? {
                    match (n, f) {
                        (1, Field::Bytes(d)) => op.domain = String::from_utf8_lossy(&d).into_owned(),
                        (2, Field::Varint(v)) => op.version = v,
                        _ => {}
                    }
                }
                info.opsets.push(op);
            }
            (14, Field::Bytes(b)) if info.metadata.len() < MAX_KEPT => {
                let (mut key, mut value) = (String::new(), String::new());
                for (n, f) in sub_fields(b)? {
                    match (n, f) {
                        (1, Field::Bytes(d)) => key = String::from_utf8_lossy(&d).into_owned(),
                        (2, Field::Bytes(d)) => value = String::from_utf8_lossy(&d).into_owned(),
                        _ => {}
                    }
                }
                info.metadata.insert(key, value);
            }
            _ => {}
        }
    }
    if info.ir_version.is_none() {
        return Err("no ir_version field".into());
    }
    Ok(())
}

fn sub_fields(mut b: &[u8]) -> Result<Vec<(u64, Field)>, String> {
    let mut out = Vec::new();
    while !b.is_empty() {
        out.push(next_field(&mut Src::Slice(&mut b))?);
    }
    Ok(out)
}

/// Either the file (bounded by `end`) or an already-read sub-message.
enum Src<'s, 'r, 'a> {
    Reader(&'s mut ByteReader<'r>, u64),
    Slice(&'s mut &'a [u8]),
}

impl Src<'_, '_, '_> {
    fn byte(&mut self) -> Result<u8, String> {
        match self {
            Src::Reader(r, _) => r.byte().map_err(|e| e.to_string())?.ok_or_else(|| "truncated".into()),
            Src::Slice(s) => {
                let (&b, rest) = s.split_first().ok_or("truncated sub-message")?;
                **s = rest;
                Ok(b)
            }
        }
    }

    fn left(&self) -> u64 {
        match self {
            Src::Reader(r, end) => end.saturating_sub(r.offset()),
            Src::Slice(s) => s.len() as u64,
        }
    }

    fn take(&mut self, n: u64, keep: bool) -> Result<Field, String> {
        if n > self.left() {
            return Err(format!("field of {n} bytes runs past the end"));
        }
        // n <= left, which is a file length or slice length; usize on 64-bit.
        let len = usize::try_from(n).map_err(|_| "field length")?;
        match self {
            Src::Reader(r, _) if keep => {
                let mut v = Vec::with_capacity(len);
                r.read_into(len, &mut v).map_err(|e| e.to_string())?;
                Ok(Field::Bytes(v))
            }
            Src::Reader(r, _) => {
                r.skip(n).map_err(|e| e.to_string())?;
                Ok(Field::Skipped)
            }
            Src::Slice(s) => {
                let (head, rest) = s.split_at_checked(len).ok_or("truncated sub-message")?;
                **s = rest;
                Ok(Field::Bytes(head.to_vec()))
            }
        }
    }
}

fn varint(src: &mut Src<'_, '_, '_>) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = src.byte()?;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("varint longer than 10 bytes".into())
}

fn next_field(src: &mut Src<'_, '_, '_>) -> Result<(u64, Field), String> {
    let key = varint(src)?;
    let number = key >> 3;
    let field = match key & 7 {
        0 => Field::Varint(varint(src)?),
        1 => src.take(8, false)?,
        5 => src.take(4, false)?,
        2 => {
            let len = varint(src)?;
            // Only small metadata fields are worth keeping; the graph is skipped.
            let keep = len <= MAX_SMALL_FIELD && matches!(number, 2 | 3 | 4 | 8 | 14);
            src.take(len, keep)?
        }
        w => return Err(format!("unsupported wire type {w} for field {number}")),
    };
    Ok((number, field))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn minimal_model() {
        // ir_version=8, producer_name="pytorch", graph (skipped), opset {"" , 17}, metadata {k: v}
        let mut m = vec![0x08, 0x08, 0x12, 0x07];
        m.extend_from_slice(b"pytorch");
        m.extend_from_slice(&[0x3a, 0x03, 1, 2, 3]);
        m.extend_from_slice(&[0x42, 0x02, 0x10, 0x11]);
        m.extend_from_slice(&[0x72, 0x06, 0x0a, 0x01, b'k', 0x12, 0x01, b'v']);
        let mut cur = Cursor::new(&m[..]);
        let mut info = OnnxInfo::default();
        let res = ByteReader::seekable(&mut cur)
            .map_err(|e| e.to_string())
            .and_then(|mut r| walk(&mut r, m.len() as u64, &mut info));
        assert_eq!(res, Ok(()));
        assert_eq!(info.ir_version, Some(8));
        assert_eq!(info.producer_name.as_deref(), Some("pytorch"));
        assert_eq!(info.opsets.first().map(|o| o.version), Some(17));
        assert_eq!(info.metadata.get("k").map(String::as_str), Some("v"));
    }

    #[test]
    fn hostile_lengths() {
        let m = [0x08, 0x08, 0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f];
        let mut cur = Cursor::new(&m[..]);
        let mut info = OnnxInfo::default();
        let res = ByteReader::seekable(&mut cur)
            .map_err(|e| e.to_string())
            .and_then(|mut r| walk(&mut r, m.len() as u64, &mut info));
        assert!(res.is_err());
    }
}
