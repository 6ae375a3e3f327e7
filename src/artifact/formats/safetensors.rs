//! safetensors header validation, following `safetensors/src/tensor.rs`.
//!
//! Layout: u64 LE header length N, N bytes of UTF-8 JSON, then the data
//! buffer. Only the header is read. Beyond the reference implementation we
//! reject duplicate JSON keys (serde would silently keep the last one, so two
//! parsers could disagree about which tensor a name refers to).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::artifact::document::SafetensorsInfo;
use crate::artifact::formats::sniff::SAFETENSORS_MAX_HEADER;
use crate::artifact::reader::ByteReader;

/// Element width in bits for every dtype the reference implementation knows.
fn dtype_bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        _ => return None,
    })
}

pub(in crate::artifact) fn inspect(r: &mut ByteReader<'_>, file_len: u64, max_header: u64) -> SafetensorsInfo {
    let mut info = SafetensorsInfo::default();
    if let Err(e) = validate(r, file_len, max_header, &mut info) {
        info.valid = false;
        info.error = Some(e);
    } else {
        info.valid = true;
    }
    info
}

fn validate(r: &mut ByteReader<'_>, file_len: u64, max_header: u64, info: &mut SafetensorsInfo) -> Result<(), String> {
    let n = u64::from_le_bytes(r.array().map_err(|e| e.to_string())?.ok_or("file shorter than 8 bytes")?);
    info.header_bytes = n;
    let cap = max_header.min(SAFETENSORS_MAX_HEADER);
    if n > cap {
        return Err(format!("header length {n} exceeds {cap}"));
    }
    let header_end = n.checked_add(8).ok_or("header length overflows")?;
    if header_end > file_len {
        return Err(format!("header length {n} runs past the end of the {file_len}-byte file"));
    }
    // n <= 100 MB, so this fits usize on every supported target.
    let len = usize::try_from(n).map_err(|_| "header length")?;
    let mut raw = Vec::with_capacity(len);
    if r.read_into(len, &mut raw).map_err(|e| e.to_string())? < len {
        return Err("truncated header".into());
    }
    let text = std::str::from_utf8(&raw).map_err(|_| "header is not valid UTF-8")?;
    if !text.starts_with('{') {
        return Err("header does not start with '{'".into());
    }
    let parsed: NoDup = serde_json::from_str(text).map_err(|e| format!("header is not valid JSON: {e}"))?;
    let Value::Object(top) = parsed.0 else {
        return Err("header is not a JSON object".into());
    };

    let mut tensors: Vec<(u64, u64, u64, String)> = Vec::new();
    let mut dtypes = BTreeSet::new();
    for (name, v) in &top {
        if name == "__metadata__" {
            let Value::Object(m) = v else {
                return Err("__metadata__ is not an object".into());
            };
            let mut meta = BTreeMap::new();
            for (k, v) in m {
                let Value::String(s) = v else {
                    return Err(format!("__metadata__.{k} is not a string"));
                };
                meta.insert(k.clone(), s.clone());
            }
            info.metadata = Some(meta);
            continue;
        }
        let field = |key: &str| v.get(key).ok_or(format!("tensor {name:?} has no {key}"));
        let dtype = field("dtype")?.as_str().ok_or(format!("tensor {name:?}: dtype is not a string"))?;
        let bits = dtype_bits(dtype).ok_or(format!("tensor {name:?}: unknown dtype {dtype:?}"))?;
        let shape = field("shape")?.as_array().ok_or(format!("tensor {name:?}: shape is not an array"))?;
        let mut elements = 1u64;
        for d in shape {
            let d = d.as_u64().ok_or(format!("tensor {name:?}: shape holds a non-integer"))?;
            elements = elements.checked_mul(d).ok_or(format!("tensor {name:?}: element count overflows"))?;
        }
        let offsets =
            field("data_offsets")?.as_array().ok_or(format!("tensor {name:?}: data_offsets is not an array"))?;
        let (Some(begin), Some(end), 2) =
            (offsets.first().and_then(Value::as_u64), offsets.get(1).and_then(Value::as_u64), offsets.len())
        else {
            return Err(format!("tensor {name:?}: data_offsets is not [begin, end]"));
        };
        let total_bits = elements.checked_mul(bits).ok_or(format!("tensor {name:?}: byte size overflows"))?;
        if !total_bits.is_multiple_of(8) {
            return Err(format!("tensor {name:?}: {elements} elements of {dtype} do not fill whole bytes"));
        }
        if end < begin || end - begin != total_bits / 8 {
            return Err(format!(
                "tensor {name:?}: offsets [{begin}, {end}] do not match shape x dtype ({} bytes)",
                total_bits / 8
            ));
        }
        info.parameters = info.parameters.checked_add(elements).ok_or("parameter count overflows")?;
        dtypes.insert(dtype.to_string());
        tensors.push((begin, end, elements, name.clone()));
    }
    info.tensors = tensors.len() as u64;
    info.dtypes = dtypes.into_iter().collect();

    // Offsets must tile the data buffer from 0 with no gap or overlap.
    tensors.sort();
    let mut expected = 0u64;
    for (begin, end, _, name) in &tensors {
        if *begin != expected {
            let what = if *begin > expected { "gap" } else { "overlap" };
            return Err(format!("tensor {name:?}: {what} in data offsets (starts at {begin}, expected {expected})"));
        }
        expected = *end;
    }
    info.data_bytes = expected;
    let total = header_end.checked_add(expected).ok_or("data size overflows")?;
    if total != file_len {
        return Err(format!("8 + header ({n}) + data ({expected}) = {total} bytes, but the file has {file_len}"));
    }
    Ok(())
}

/// A JSON value whose objects are checked for duplicate keys at every level.
struct NoDup(Value);

impl<'de> Deserialize<'de> for NoDup {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDupVisitor).map(NoDup)
    }
}

struct NoDupVisitor;

impl<'de> Visitor<'de> for NoDupVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut v = Vec::new();
        while let Some(NoDup(item)) = seq.next_element()? {
            v.push(item);
        }
        Ok(Value::Array(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if m.contains_key(&k) {
                return Err(de::Error::custom(format!("duplicate key {k:?}")));
            }
            let NoDup(v) = map.next_value()?;
            m.insert(k, v);
        }
        Ok(Value::Object(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn file(header: &str, data_len: usize) -> Vec<u8> {
        let mut v = (header.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(header.as_bytes());
        v.extend(std::iter::repeat_n(0u8, data_len));
        v
    }

    fn check(bytes: &[u8]) -> SafetensorsInfo {
        let mut cur = Cursor::new(bytes);
        match ByteReader::seekable(&mut cur) {
            Ok(mut r) => inspect(&mut r, bytes.len() as u64, SAFETENSORS_MAX_HEADER),
            Err(_) => SafetensorsInfo::default(),
        }
    }

    fn err(bytes: &[u8]) -> String {
        let i = check(bytes);
        assert!(!i.valid);
        i.error.unwrap_or_default()
    }

    #[test]
    fn valid_file() {
        let h = r#"{"__metadata__":{"format":"pt"},"b":{"dtype":"F16","shape":[2,3],"data_offsets":[16,28]},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"s":{"dtype":"I8","shape":[],"data_offsets":[28,29]}}"#;
        let i = check(&file(h, 29));
        assert!(i.valid, "{:?}", i.error);
        assert_eq!(i.tensors, 3);
        assert_eq!(i.parameters, 11);
        assert_eq!(i.dtypes, vec!["F16", "F32", "I8"]);
        assert_eq!(i.metadata.and_then(|m| m.get("format").cloned()).as_deref(), Some("pt"));
        assert_eq!(i.data_bytes, 29);
    }

    #[test]
    fn invalid_variants() {
        let t = |o: &str| format!(r#"{{"a":{{"dtype":"F32","shape":[2],"data_offsets":{o}}}}}"#);
        assert!(err(&file(&t("[0,8]"), 9)).contains("file has"));
        assert!(err(&file(&t("[0,12]"), 12)).contains("do not match"));
        assert!(err(&file(&t("[4,12]"), 12)).contains("gap"));
        let overlap = r#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#;
        assert!(err(&file(overlap, 6)).contains("overlap"));
        let dup = r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#;
        assert!(err(&file(dup, 1)).contains("duplicate"));
        let overflow = r#"{"a":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}"#;
        assert!(err(&file(overflow, 8)).contains("overflows"));
        let dtype = r#"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#;
        assert!(err(&file(dtype, 1)).contains("unknown dtype"));
        let meta = r#"{"__metadata__":{"x":1}}"#;
        assert!(err(&file(meta, 0)).contains("not a string"));
    }

    #[test]
    fn hostile_lengths() {
        let mut huge = u64::MAX.to_le_bytes().to_vec();
        huge.push(b'{');
        assert!(err(&huge).contains("exceeds"));
        let mut past_end = 1000u64.to_le_bytes().to_vec();
        past_end.extend_from_slice(b"{}");
        assert!(err(&past_end).contains("past the end"));
        assert!(err(&[1, 2, 3]).contains("shorter"));
        let bad_utf8 = [&2u64.to_le_bytes()[..], b"{\xff"].concat();
        assert!(err(&bad_utf8).contains("UTF-8"));
        assert!(check(&file("{}", 0)).valid);
    }
}
