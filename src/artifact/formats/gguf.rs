//! GGUF (llama.cpp) header: magic, version, counts, metadata key/values and
//! tensor infos. Every value type is decoded (including nested arrays, which
//! are walked and skipped), but only small scalars are kept. Every count and
//! length is checked against the bytes left in the file before it is used, so
//! a header claiming 2^63 entries costs nothing.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::artifact::document::GgufInfo;
use crate::artifact::inspect::Ctx;
use crate::artifact::reader::ByteReader;

const MAX_KEY: u64 = 65_535;
const MAX_KEPT_STRING: u64 = 256;
const MAX_KEPT_KEYS: usize = 256;
const MAX_ARRAY_DEPTH: usize = 4;
const MAX_DIMS: u32 = 8;

pub(in crate::artifact) fn inspect(ctx: &mut Ctx<'_>, r: &mut ByteReader<'_>, file_len: u64) {
    let mut info = GgufInfo::default();
    let mut p = Parser { r, end: file_len, v1: false };
    if let Err(e) = p.header(&mut info) {
        ctx.error(format!("gguf: {e}"));
    }
    ctx.art.gguf = Some(info);
}

struct Parser<'r, 'a> {
    r: &'r mut ByteReader<'a>,
    end: u64,
    /// GGUF v1 used u32 for counts and string lengths.
    v1: bool,
}

impl Parser<'_, '_> {
    fn left(&self) -> u64 {
        self.end.saturating_sub(self.r.offset())
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], String> {
        self.r.array().map_err(|e| e.to_string())?.ok_or_else(|| format!("truncated at offset {}", self.r.offset()))
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }

    /// A count or length, which must be satisfiable by the remaining bytes
    /// given each item takes at least `min_item` bytes.
    fn count(&mut self, what: &str, min_item: u64) -> Result<u64, String> {
        let n = if self.v1 { u64::from(self.u32()?) } else { self.u64()? };
        let need = n.checked_mul(min_item).ok_or_else(|| format!("{what} {n} overflows"))?;
        if need > self.left() {
            return Err(format!("{what} {n} needs more bytes than the file has"));
        }
        Ok(n)
    }

    fn skip(&mut self, n: u64) -> Result<(), String> {
        if self.r.skip(n).map_err(|e| e.to_string())? < n {
            return Err("truncated".into());
        }
        Ok(())
    }

    /// A string: kept when at most `keep` bytes, otherwise skipped.
    fn string(&mut self, keep: u64) -> Result<Option<String>, String> {
        let len = self.count("string length", 1)?;
        if len > keep {
            self.skip(len)?;
            return Ok(None);
        }
        let n = usize::try_from(len).map_err(|_| "string length")?;
        let mut v = Vec::with_capacity(n);
        if self.r.read_into(n, &mut v).map_err(|e| e.to_string())? < n {
            return Err("truncated string".into());
        }
        Ok(Some(String::from_utf8_lossy(&v).into_owned()))
    }

    fn header(&mut self, info: &mut GgufInfo) -> Result<(), String> {
        if &self.bytes::<4>()? != b"GGUF" {
            return Err("bad magic".into());
        }
        let version = self.u32()?;
        info.version = version;
        match version {
            1 => self.v1 = true,
            2 | 3 => {}
            v if v.swap_bytes() <= 3 => return Err("big-endian GGUF is not supported".into()),
            v => return Err(format!("unsupported version {v}")),
        }
        // Each tensor info takes at least 8+4+4+8 bytes; each KV at least 8+4+1.
        let n_tensors = self.count("tensor count", 24)?;
        let n_kv = self.count("metadata count", 13)?;
        info.tensors = n_tensors;
        info.metadata_keys = n_kv;
        let mut file_type = None;
        let mut alignment_ok = true;
        for _ in 0..n_kv {
            let key = self.string(MAX_KEY)?.ok_or("metadata key longer than 65535 bytes")?;
            let ty = self.u32()?;
            let value = self.value(ty, 0)?;
            match (key.as_str(), &value) {
                ("general.architecture", Some(Value::String(s))) => info.architecture = Some(s.clone()),
                ("general.name", Some(Value::String(s))) => info.model_name = Some(s.clone()),
                ("general.license", Some(Value::String(s))) => info.license = Some(s.clone()),
                ("general.file_type", Some(Value::Number(n))) => file_type = n.as_u64(),
                ("general.alignment", Some(Value::Number(n))) => alignment_ok = n.as_u64().is_some_and(|a| a > 0),
                _ => {}
            }
            if key == "tokenizer.chat_template" {
                info.has_chat_template = true;
            }
            if let Some(v) = value
                && info.metadata.len() < MAX_KEPT_KEYS
            {
                info.metadata.insert(key, v);
            }
        }
        if !alignment_ok {
            return Err("general.alignment must be a positive integer".into());
        }
        let mut params = 0u64;
        let mut types: BTreeMap<String, u64> = BTreeMap::new();
        for _ in 0..n_tensors {
            self.string(0)?;
            let dims = self.u32()?;
            if dims > MAX_DIMS {
                return Err(format!("tensor with {dims} dimensions"));
            }
            let mut n = 1u64;
            for _ in 0..dims {
                n = n.checked_mul(self.u64()?).ok_or("tensor element count overflows")?;
            }
            let ty = self.u32()?;
            let _offset = self.u64()?;
            params = params.checked_add(n).ok_or("parameter count overflows")?;
            *types.entry(ggml_type(ty)).or_default() += 1;
        }
        info.parameters = Some(params);
        info.quantization = file_type.and_then(file_type_name).map(str::to_string).or_else(|| {
            types.iter().filter(|(t, _)| t.as_str() != "F32").max_by_key(|(_, c)| **c).map(|(t, _)| t.clone())
        });
        info.tensor_types = types;
        Ok(())
    }

    /// Decode one value of type `ty`; returns it when it is a small scalar.
    fn value(&mut self, ty: u32, depth: usize) -> Result<Option<Value>, String> {
        let v = match ty {
            0 => Value::from(self.bytes::<1>()?[0]),
            1 => Value::from(i8::from_le_bytes(self.bytes()?)),
            2 => Value::from(u16::from_le_bytes(self.bytes()?)),
            3 => Value::from(i16::from_le_bytes(self.bytes()?)),
            4 => Value::from(self.u32()?),
            5 => Value::from(i32::from_le_bytes(self.bytes()?)),
            6 => Value::from(f64::from(f32::from_le_bytes(self.bytes()?))),
            7 => Value::Bool(self.bytes::<1>()?[0] != 0),
            8 => return Ok(self.string(MAX_KEPT_STRING)?.map(Value::String)),
            9 => {
                if depth >= MAX_ARRAY_DEPTH {
                    return Err("arrays nested too deeply".into());
                }
                let elem = self.u32()?;
                let min = elem_min_size(elem).ok_or_else(|| format!("unknown array element type {elem}"))?;
                let n = self.count("array length", min)?;
                match fixed_size(elem) {
                    Some(size) => self.skip(n.saturating_mul(size))?,
                    None => {
                        for _ in 0..n {
                            self.value(elem, depth + 1)?;
                        }
                    }
                }
                return Ok(None);
            }
            10 => Value::from(self.u64()?),
            11 => Value::from(i64::from_le_bytes(self.bytes()?)),
            12 => Value::from(f64::from_le_bytes(self.bytes()?)),
            t => return Err(format!("unknown metadata value type {t}")),
        };
        Ok(Some(v))
    }
}

fn fixed_size(ty: u32) -> Option<u64> {
    match ty {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

fn elem_min_size(ty: u32) -> Option<u64> {
    match ty {
        8 => Some(8),
        9 => Some(12),
        t => fixed_size(t),
    }
}

/// ggml tensor type names (ggml.h `enum ggml_type`).
fn ggml_type(t: u32) -> String {
    const NAMES: [&str; 40] = [
        "F32",
        "F16",
        "Q4_0",
        "Q4_1",
        "Q4_2",
        "Q4_3",
        "Q5_0",
        "Q5_1",
        "Q8_0",
        "Q8_1",
        "Q2_K",
        "Q3_K",
        "Q4_K",
        "Q5_K",
        "Q6_K",
        "Q8_K",
        "IQ2_XXS",
        "IQ2_XS",
        "IQ3_XXS",
        "IQ1_S",
        "IQ4_NL",
        "IQ3_S",
        "IQ2_S",
        "IQ4_XS",
        "I8",
        "I16",
        "I32",
        "I64",
        "F64",
        "IQ1_M",
        "BF16",
        "Q4_0_4_4",
        "Q4_0_4_8",
        "Q4_0_8_8",
        "TQ1_0",
        "TQ2_0",
        "IQ4_NL_4_4",
        "IQ4_NL_4_8",
        "IQ4_NL_8_8",
        "MXFP4",
    ];
    usize::try_from(t).ok().and_then(|i| NAMES.get(i)).map_or_else(|| format!("type_{t}"), |s| (*s).to_string())
}

/// llama.cpp `enum llama_ftype` (`general.file_type`).
fn file_type_name(t: u64) -> Option<&'static str> {
    Some(match t {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4_MOE",
        _ => return None,
    })
}

#[cfg(test)]
pub(in crate::artifact) mod tests {
    /// Builder for small GGUF v3 files.
    pub(crate) fn gguf(kvs: &[(&str, u32, Vec<u8>)], tensors: &[(&str, &[u64], u32)]) -> Vec<u8> {
        let mut v = b"GGUF".to_vec();
        v.extend_from_slice(&3u32.to_le_bytes());
        v.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
        v.extend_from_slice(&(kvs.len() as u64).to_le_bytes());
        for (k, ty, val) in kvs {
            v.extend_from_slice(&(k.len() as u64).to_le_bytes());
            v.extend_from_slice(k.as_bytes());
            v.extend_from_slice(&ty.to_le_bytes());
            v.extend_from_slice(val);
        }
        for (name, dims, ty) in tensors {
            v.extend_from_slice(&(name.len() as u64).to_le_bytes());
            v.extend_from_slice(name.as_bytes());
            v.extend_from_slice(&(dims.len() as u32).to_le_bytes());
            for d in *dims {
                v.extend_from_slice(&d.to_le_bytes());
            }
            v.extend_from_slice(&ty.to_le_bytes());
            v.extend_from_slice(&0u64.to_le_bytes());
        }
        v
    }

    pub(crate) fn gstr(s: &str) -> Vec<u8> {
        let mut v = (s.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(s.as_bytes());
        v
    }
}
