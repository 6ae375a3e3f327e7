//! Conversions between Python objects and the engine's data: JSON-shaped values both ways, paths, the
//! pinned clock and severities.
//!
//! Python data goes through `serde_json::Value` rather than straight into `vigil::Value`: `vigil::Value`
//! converts from it, and `PolicySet.evaluate` hands dictionaries to the engine as JSON text so that the
//! document gets kind detection, spans and pointers exactly as a `.json` file would.

use std::path::PathBuf;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PySequence, PyString, PyTuple};

/// How deep Python data may nest. Deeper data is refused rather than recursed into, so a list that contains
/// itself, or hostile nesting, is an error and never a stack overflow.
const MAX_DEPTH: usize = 256;

/// A Python object made of dicts (string keys), lists, tuples, strings, numbers, booleans and `None`, as JSON.
pub fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    to_json_at(obj, 0, &mut String::new())
}

fn to_json_at(obj: &Bound<'_, PyAny>, depth: usize, at: &mut String) -> PyResult<serde_json::Value> {
    use serde_json::Value as J;
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!("data nests deeper than {MAX_DEPTH} levels at `{at}`")));
    }
    if obj.is_none() {
        return Ok(J::Null);
    }
    // `bool` is a subclass of `int`: test it first.
    if obj.is_instance_of::<PyBool>() {
        return Ok(J::Bool(obj.extract::<bool>()?));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(J::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(J::from(u));
        }
        return Err(PyValueError::new_err(format!("integer at `{at}` does not fit in 64 bits")));
    }
    if obj.is_instance_of::<PyFloat>() {
        let f = obj.extract::<f64>()?;
        return serde_json::Number::from_f64(f)
            .map(J::Number)
            .ok_or_else(|| PyValueError::new_err(format!("{f} at `{at}` is not a JSON number")));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(J::String(obj.extract::<String>()?));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let Ok(key) = k.extract::<String>() else {
                return Err(PyTypeError::new_err(format!(
                    "keys must be strings; found {} at `{at}`",
                    k.get_type().name()?
                )));
            };
            let len = at.len();
            at.push('/');
            at.push_str(&key);
            let value = to_json_at(&v, depth + 1, at)?;
            at.truncate(len);
            map.insert(key, value);
        }
        return Ok(J::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let seq = obj.cast::<PySequence>()?;
        let mut items = Vec::with_capacity(seq.len()?);
        for (i, item) in seq.try_iter()?.enumerate() {
            let len = at.len();
            at.push_str(&format!("/{i}"));
            items.push(to_json_at(&item?, depth + 1, at)?);
            at.truncate(len);
        }
        return Ok(J::Array(items));
    }
    Err(PyTypeError::new_err(format!(
        "{} at `{at}` is not JSON data (dict, list, tuple, str, int, float, bool or None)",
        obj.get_type().name()?
    )))
}

/// JSON as Python objects: dicts keep their key order.
pub fn to_python(py: Python<'_>, value: &serde_json::Value) -> PyResult<Py<PyAny>> {
    use serde_json::Value as J;
    Ok(match value {
        J::Null => py.None(),
        J::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        J::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any().unbind(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any().unbind(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any().unbind(),
        },
        J::String(s) => PyString::new(py, s).into_any().unbind(),
        J::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_python(py, item)?)?;
            }
            list.into_any().unbind()
        }
        J::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_python(py, v)?)?;
            }
            dict.into_any().unbind()
        }
    })
}

/// Anything serde can write, as Python objects (through JSON).
pub fn serialize_to_python(py: Python<'_>, value: &impl serde::Serialize) -> PyResult<Py<PyAny>> {
    let json = serde_json::to_value(value).map_err(|e| PyValueError::new_err(e.to_string()))?;
    to_python(py, &json)
}

/// One path or a sequence of them: `str`, `os.PathLike`, or a list/tuple of those.
pub fn paths(obj: &Bound<'_, PyAny>) -> PyResult<Vec<PathBuf>> {
    if let Ok(one) = obj.extract::<PathBuf>() {
        return Ok(vec![one]);
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for item in obj.try_iter()? {
            let item = item?;
            out.push(item.extract::<PathBuf>().map_err(|_| {
                PyTypeError::new_err(format!("paths must be str or os.PathLike, not {}", type_name(&item)))
            })?);
        }
        return Ok(out);
    }
    Err(PyTypeError::new_err(format!("paths must be a str, an os.PathLike, or a list of them, not {}", type_name(obj))))
}

/// "now" for date rules: `None`, a `datetime.date`, a `datetime.datetime` (naive ones are taken as UTC), or
/// text (`YYYY-MM-DD` or RFC 3339).
pub fn now(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<jiff::Timestamp>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else { return Ok(None) };
    let text = if obj.is_instance_of::<PyString>() {
        obj.extract::<String>()?
    } else if obj.hasattr("isoformat")? {
        let iso: String = obj.call_method0("isoformat")?.extract()?;
        // A naive datetime has no offset, and a timestamp needs one.
        let naive = obj.hasattr("tzinfo")? && obj.getattr("tzinfo")?.is_none();
        if naive { format!("{iso}Z") } else { iso }
    } else {
        return Err(PyTypeError::new_err(format!(
            "now must be a str, datetime.date or datetime.datetime, not {}",
            type_name(obj)
        )));
    };
    vigil::unstable::bundled::parse_now(&text).map(Some).map_err(|e| PyValueError::new_err(format!("now: {e}")))
}

/// A severity threshold: `"info"` ... `"critical"`, or `"never"` / `None` for none.
pub fn fail_on(text: Option<&str>) -> PyResult<Option<vigil::Severity>> {
    match text {
        None => Ok(None),
        Some(text) => text
            .parse::<vigil::unstable::config::FailOn>()
            .map(|f| f.severity())
            .map_err(|e| PyValueError::new_err(format!("fail_on: {e}"))),
    }
}

/// A kind name (`"ModelCard"`, `"MLBom"` ...), with the list of kinds when it is not one.
pub fn kind(text: Option<&str>) -> PyResult<Option<vigil::Kind>> {
    let Some(text) = text else { return Ok(None) };
    text.parse::<vigil::Kind>().map(Some).map_err(|_| {
        let names: Vec<&str> = vigil::Kind::ALL.iter().map(|k| k.name()).collect();
        PyValueError::new_err(format!("kind: `{text}` is not one of {}", names.join(", ")))
    })
}

pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}
