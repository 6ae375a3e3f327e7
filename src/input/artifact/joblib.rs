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

use super::pickle::{Obj, Value};
use super::reader::ByteReader;

/// What to step over after a NumpyArrayWrapper BUILD.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Skip {
    /// A padding-length byte (and the padding) precedes the data.
    pub padded: bool,
    pub bytes: u64,
}

/// A joblib wrapper whose dtype is `object`: a nested pickle follows.
pub(super) fn is_object_array(obj: &Obj, state: &Value) -> bool {
    wrapper_fields(obj, state).is_some_and(|(_, typestr, _, _)| kind(&typestr).starts_with('O'))
}

/// `(dtype, type string, shape, alignment)` of a NumpyArrayWrapper's state.
type Fields = (std::rc::Rc<Obj>, String, Option<Value>, Option<Value>);

fn wrapper_fields(obj: &Obj, state: &Value) -> Option<Fields> {
    let class = obj.class.as_ref()?;
    if class.1 != "NumpyArrayWrapper" || !class.0.ends_with("numpy_pickle") {
        return None;
    }
    let Value::Dict(d) = state else {
        return None;
    };
    let d = d.borrow();
    let get = |key: &str| d.iter().find(|(k, _)| matches!(k, Value::Str(s) if &**s == key)).map(|(_, v)| v.clone());
    let Some(Value::Obj(dtype)) = get("dtype") else {
        return None;
    };
    let typestr = match dtype.args.as_ref().and_then(|a| a.first().cloned()) {
        Some(Value::Str(s)) => s.to_string(),
        _ => return None,
    };
    Some((dtype, typestr, get("shape"), get("numpy_array_alignment_bytes")))
}

fn kind(typestr: &str) -> &str {
    typestr.trim_start_matches(['<', '>', '|', '='])
}

/// `Some` when `obj` is a joblib NumpyArrayWrapper being built with `state`;
/// `Err` when it is one but its size cannot be determined (the scan must stop:
/// we would no longer know where the pickle resumes).
pub(super) fn array_skip(obj: &Obj, state: &Value) -> Option<Result<Skip, String>> {
    let class = obj.class.as_ref()?;
    if class.1 != "NumpyArrayWrapper" || !class.0.ends_with("numpy_pickle") {
        return None;
    }
    let Some((dtype, typestr, shape, align)) = wrapper_fields(obj, state) else {
        return Some(Err("wrapper state has no dict with a numpy.dtype".into()));
    };
    if kind(&typestr).starts_with('O') {
        // Object arrays are a nested pickle (see `is_object_array`).
        return None;
    }
    let Some(itemsize) = itemsize(&dtype, kind(&typestr)) else {
        return Some(Err(format!("unknown item size for dtype {typestr:?}")));
    };
    let Some(Value::Tuple(dims)) = shape else {
        return Some(Err("shape is not a tuple".into()));
    };
    let mut count = 1u64;
    for d in dims.iter() {
        let Value::Int(v) = d else {
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
    let padded = matches!(align, Some(Value::Int(n)) if n > 0);
    Some(Ok(Skip { padded, bytes }))
}

/// Item size: the dtype state's `elsize` (set for flexible types such as
/// `U10` → 40) or the digits of the type string (`f8` → 8, `c16` → 16).
fn itemsize(dtype: &Obj, kind: &str) -> Option<u64> {
    if let Some(state) = dtype.state.borrow().as_ref()
        && let Some(Value::Int(el)) = state.get(5)
        && *el > 0
    {
        return u64::try_from(*el).ok();
    }
    let digits: String = kind.chars().skip(1).take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|n| *n > 0)
}

/// Consume the padding and the array bytes.
pub(super) fn step_over(r: &mut ByteReader<'_>, skip: &Skip) -> Result<(), String> {
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
    use std::cell::RefCell;
    use std::rc::Rc;

    fn s(v: &str) -> Value {
        Value::Str(Rc::from(v))
    }

    fn wrapper_state(typestr: &str, state5: i64, shape: &[i64], aligned: bool) -> (Obj, Value) {
        let dtype = Obj {
            class: Some(Rc::new(("numpy".into(), "dtype".into()))),
            args: Some(Rc::from(vec![s(typestr), Value::Int(0), Value::Int(1)])),
            state: RefCell::new(Some(Rc::from(vec![
                Value::Int(3),
                s("<"),
                Value::Nil,
                Value::Nil,
                Value::Nil,
                Value::Int(state5),
            ]))),
        };
        let mut items = vec![
            (s("shape"), Value::Tuple(shape.iter().map(|d| Value::Int(*d)).collect())),
            (s("dtype"), Value::Obj(Rc::new(dtype))),
        ];
        if aligned {
            items.push((s("numpy_array_alignment_bytes"), Value::Int(16)));
        }
        let wrapper = Obj {
            class: Some(Rc::new(("joblib.numpy_pickle".into(), "NumpyArrayWrapper".into()))),
            args: None,
            state: RefCell::new(None),
        };
        (wrapper, Value::Dict(Rc::new(RefCell::new(items))))
    }

    #[test]
    fn sizes() {
        let (w, st) = wrapper_state("f8", -1, &[3, 4], true);
        assert_eq!(array_skip(&w, &st), Some(Ok(Skip { padded: true, bytes: 96 })));
        let (w, st) = wrapper_state("U10", 40, &[2], false);
        assert_eq!(array_skip(&w, &st), Some(Ok(Skip { padded: false, bytes: 80 })));
        let (w, st) = wrapper_state("O8", -1, &[2], true);
        assert_eq!(array_skip(&w, &st), None);
        let (w, st) = wrapper_state("f8", -1, &[i64::MAX, 4], true);
        assert!(matches!(array_skip(&w, &st), Some(Err(_))));
        let (w, st) = wrapper_state("f8", -1, &[-1], true);
        assert!(matches!(array_skip(&w, &st), Some(Err(_))));
    }
}
