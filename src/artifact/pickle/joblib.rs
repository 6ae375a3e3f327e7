//! joblib's inline numpy arrays.
//!
//! `joblib.dump` pickles a `NumpyArrayWrapper` in place of each ndarray and,
//! right after the wrapper's BUILD, writes the raw array bytes into the same
//! stream (preceded, since joblib 1.2, by one padding-length byte and that many
//! `0xff` bytes so the data is 16-byte aligned). `joblib.load` reads exactly
//! `prod(shape) * itemsize` bytes there and resumes unpickling. The scanner
//! must step over the same number of bytes, or it would parse array data as
//! opcodes and either stop early or be steered by attacker-chosen "data".
//!
//! Object arrays are not raw: joblib writes a nested protocol-2 pickle, which
//! the scanner simply keeps scanning through.

use crate::artifact::document::GlobalRef;
use crate::artifact::pickle::state::{Arena, Obj, PyValue, scalar_only};
use crate::artifact::reader::ByteReader;

/// What to step over after a NumpyArrayWrapper BUILD.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::artifact) struct Skip {
    /// A padding-length byte (and the padding) precedes the data.
    pub padded: bool,
    pub bytes: u64,
}

/// What the values of a pickle scan point into.
pub(in crate::artifact) struct View<'a> {
    pub arena: &'a Arena,
    /// The report's globals, which `Obj::class` indexes.
    pub globals: &'a [GlobalRef],
}

impl View<'_> {
    /// `obj` is a joblib NumpyArrayWrapper.
    fn is_wrapper(&self, obj: u32) -> bool {
        let class = self.arena.obj(obj).and_then(|o| o.class).and_then(|c| self.globals.get(c as usize));
        class.is_some_and(|g| g.name == "NumpyArrayWrapper" && g.module.ends_with("numpy_pickle"))
    }
}

/// A joblib wrapper whose dtype `hasobject` (joblib's own test): an object
/// dtype, or a structured / sub-array dtype with an object field. A nested
/// pickle follows instead of raw bytes.
pub(in crate::artifact) fn is_object_array(view: &View<'_>, obj: u32, state: PyValue) -> bool {
    wrapper_fields(view, obj, state).is_some_and(|f| has_object(view.arena, f.dtype, f.typestr, 0))
}

/// numpy's `dtype.hasobject` as far as the pickle shows it: the type code,
/// then the flags numpy restores from the BUILD state (`NPY_ITEM_HASOBJECT`,
/// bit 0 of item 7), then the sub-array base (item 2). A structured dtype
/// whose fields cannot be seen and whose flags are not an integer counts as
/// holding objects.
fn has_object(arena: &Arena, dtype: &Obj, typestr: &str, depth: usize) -> bool {
    const HASOBJECT: i64 = 0x01;
    if kind(typestr).starts_with('O') || depth > 8 {
        return true;
    }
    let Some(state) = dtype.state.map(|s| arena.tuple(s)) else {
        return false;
    };
    let item = |i: usize| state.get(i).copied().map(scalar_only);
    match item(7) {
        Some(PyValue::Int(flags)) if flags & HASOBJECT != 0 => return true,
        Some(PyValue::Int(_)) => {}
        _ if kind(typestr).starts_with('V') && !matches!(item(4), None | Some(PyValue::Nil)) => return true,
        _ => {}
    }
    // Sub-array: (base dtype, shape).
    if let Some(PyValue::Tuple(sub)) = state.get(2).copied()
        && let Some(PyValue::Obj(base)) = arena.tuple(sub).first().copied()
        && let Some(base) = arena.obj(base)
    {
        let base_type = match base.args.and_then(|a| arena.tuple(a).first().copied()) {
            Some(PyValue::Str(s)) => arena.str(s),
            _ => return true,
        };
        return has_object(arena, base, base_type, depth + 1);
    }
    false
}

/// A NumpyArrayWrapper's state: its dtype, the dtype's type string, shape and alignment.
struct Fields<'a> {
    dtype: &'a Obj,
    typestr: &'a str,
    shape: Option<PyValue>,
    align: Option<PyValue>,
}

fn wrapper_fields<'a>(view: &View<'a>, obj: u32, state: PyValue) -> Option<Fields<'a>> {
    if !view.is_wrapper(obj) {
        return None;
    }
    let PyValue::Dict(d) = state else {
        return None;
    };
    let arena = view.arena;
    let d = arena.dict(d);
    let get = |key: &str| d.iter().find(|(k, _)| matches!(k, PyValue::Str(s) if arena.str(*s) == key)).map(|(_, v)| *v);
    let Some(PyValue::Obj(dtype)) = get("dtype") else {
        return None;
    };
    let dtype = arena.obj(dtype)?;
    let typestr = match dtype.args.and_then(|a| arena.tuple(a).first().copied()) {
        Some(PyValue::Str(s)) => arena.str(s),
        _ => return None,
    };
    Some(Fields { dtype, typestr, shape: get("shape"), align: get("numpy_array_alignment_bytes") })
}

fn kind(typestr: &str) -> &str {
    typestr.trim_start_matches(['<', '>', '|', '='])
}

/// `Some` when `obj` is a joblib NumpyArrayWrapper being built with `state`;
/// `Err` when it is one but its size cannot be determined (the scan must stop:
/// we would no longer know where the pickle resumes).
pub(in crate::artifact) fn array_skip(view: &View<'_>, obj: u32, state: PyValue) -> Option<Result<Skip, String>> {
    if !view.is_wrapper(obj) {
        return None;
    }
    let Some(f) = wrapper_fields(view, obj, state) else {
        return Some(Err("wrapper state has no dict with a numpy.dtype".into()));
    };
    if has_object(view.arena, f.dtype, f.typestr, 0) {
        // Object arrays are a nested pickle (see `is_object_array`).
        return None;
    }
    let Some(itemsize) = itemsize(view.arena, f.dtype, kind(f.typestr)) else {
        return Some(Err(format!("unknown item size for dtype {:?}", f.typestr)));
    };
    let Some(PyValue::Tuple(dims)) = f.shape else {
        return Some(Err("shape is not a tuple".into()));
    };
    let mut count = 1u64;
    for d in view.arena.tuple(dims) {
        let PyValue::Int(v) = d else {
            return Some(Err("shape holds a non-integer".into()));
        };
        let Some(next) = u64::try_from(*v).ok().and_then(|v| count.checked_mul(v)) else {
            return Some(Err("shape is negative or overflows".into()));
        };
        count = next;
    }
    let Some(bytes) = count.checked_mul(itemsize) else {
        return Some(Err("array byte size overflows".into()));
    };
    let padded = matches!(f.align, Some(PyValue::Int(n)) if n > 0);
    Some(Ok(Skip { padded, bytes }))
}

/// Item size: the dtype state's `elsize` (set for flexible types such as
/// `U10` → 40) or the digits of the type string (`f8` → 8, `c16` → 16).
fn itemsize(arena: &Arena, dtype: &Obj, kind: &str) -> Option<u64> {
    if let Some(state) = dtype.state
        && let Some(PyValue::Int(el)) = arena.tuple(state).get(5).map(|v| scalar_only(*v))
        && el > 0
    {
        return u64::try_from(el).ok();
    }
    let digits = kind.chars().next().map_or("", |c| &kind[c.len_utf8()..]);
    let end = digits.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(digits.len());
    digits[..end].parse().ok().filter(|n| *n > 0)
}

/// Consume the padding and the array bytes.
pub(in crate::artifact) fn step_over(r: &mut ByteReader<'_>, skip: &Skip) -> Result<(), String> {
    if skip.padded {
        let pad = r.byte().map_err(|e| e.to_string())?.ok_or("truncated before the padding byte")?;
        let pad = u64::from(pad);
        if r.skip(pad).map_err(|e| e.to_string())? < pad {
            return Err("truncated inside the padding".into());
        }
    }
    let got = r.skip(skip.bytes).map_err(|e| e.to_string())?;
    if got < skip.bytes {
        return Err(format!("truncated: array needs {} bytes, only {got} remain", skip.bytes));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::pickle::classify::Classification;
    use crate::artifact::pickle::state::Run;

    fn s(a: &mut Arena, v: &str) -> PyValue {
        let start = u32::try_from(a.text.len()).unwrap_or(0);
        a.text.push_str(v);
        PyValue::Str(Run { start, len: u32::try_from(v.len()).unwrap_or(0) })
    }

    fn global(module: &str, name: &str) -> GlobalRef {
        GlobalRef {
            module: module.into(),
            name: name.into(),
            classification: Classification::Safe,
            reason: None,
            offset: 0,
            opcode: "GLOBAL",
        }
    }

    /// (arena, globals, wrapper object, BUILD state)
    fn wrapper_state(
        typestr: &str,
        state5: i64,
        shape: &[i64],
        aligned: bool,
    ) -> (Arena, Vec<GlobalRef>, u32, PyValue) {
        let globals = vec![global("numpy", "dtype"), global("joblib.numpy_pickle", "NumpyArrayWrapper")];
        let mut a = Arena::default();
        let ts = s(&mut a, typestr);
        let args = a.new_tuple(&[ts, PyValue::Int(0), PyValue::Int(1)]);
        let dtype = a.new_obj(PyValue::Global(0), args);
        let lt = s(&mut a, "<");
        let state = a.new_tuple(&[PyValue::Int(3), lt, PyValue::Nil, PyValue::Nil, PyValue::Nil, PyValue::Int(state5)]);
        if let (PyValue::Obj(o), PyValue::Tuple(t)) = (dtype, state) {
            a.objs[o as usize].state = Some(t);
        }
        let dims: Vec<PyValue> = shape.iter().map(|d| PyValue::Int(*d)).collect();
        let shape = a.new_tuple(&dims);
        let mut items = vec![s(&mut a, "shape"), shape, s(&mut a, "dtype"), dtype];
        if aligned {
            items.extend([s(&mut a, "numpy_array_alignment_bytes"), PyValue::Int(16)]);
        }
        let d = a.new_dict();
        if let PyValue::Dict(i) = d {
            a.insert_pairs(i, &items);
        }
        let PyValue::Obj(wrapper) = a.new_obj(PyValue::Global(1), PyValue::Opaque) else { panic!("obj") };
        (a, globals, wrapper, d)
    }

    fn skip(typestr: &str, state5: i64, shape: &[i64], aligned: bool) -> Option<Result<Skip, String>> {
        let (a, g, w, st) = wrapper_state(typestr, state5, shape, aligned);
        array_skip(&View { arena: &a, globals: &g }, w, st)
    }

    #[test]
    fn sizes() {
        assert_eq!(skip("f8", -1, &[3, 4], true), Some(Ok(Skip { padded: true, bytes: 96 })));
        assert_eq!(skip("U10", 40, &[2], false), Some(Ok(Skip { padded: false, bytes: 80 })));
        assert_eq!(skip("O8", -1, &[2], true), None);
        assert!(matches!(skip("f8", -1, &[i64::MAX, 4], true), Some(Err(_))));
        assert!(matches!(skip("f8", -1, &[-1], true), Some(Err(_))));
        let (a, g, w, st) = wrapper_state("O8", -1, &[2], true);
        assert!(is_object_array(&View { arena: &a, globals: &g }, w, st));
    }
}
