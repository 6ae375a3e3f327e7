//! Builtins over arrays, objects and values in general.

use std::collections::HashSet;
use std::sync::Arc;

use super::{Function, Ty, describe_value};
use crate::value::Value;

const SIZED: Ty = Ty::STRING.or(Ty::ARRAY).or(Ty::OBJECT);

fn items(v: &Value) -> &[Value] {
    v.as_array().unwrap_or_default()
}

fn numbers(name: &str, xs: &[Value]) -> Result<Vec<f64>, String> {
    xs.iter()
        .map(|x| x.as_f64().ok_or_else(|| format!("`{name}` needs numbers, found {}", describe_value(x))))
        .collect()
}

/// An integer result when every input was an integer.
fn number_like(inputs: &[Value], x: f64) -> Value {
    if inputs.iter().all(|v| matches!(v, Value::Int(_))) && x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::Int(x as i64)
    } else {
        Value::Float(x)
    }
}

fn type_is(name: &str, ty: Ty) -> Function {
    let article = format!("{ty}");
    Function::new(name, &[Ty::ANY], Ty::BOOL, move |a| Ok(Value::Bool(!Ty::of(a[0]).disjoint(ty))))
        .doc(&format!("`{name}(x)`: whether `x` is {article}."))
        .fast(super::Fast::IsType(ty))
}

pub(super) fn functions() -> Vec<Function> {
    vec![
        Function::new("len", &[SIZED], Ty::NUMBER, |a| {
            Ok(Value::Int(match a[0] {
                Value::String(s) => s.chars().count(),
                Value::Array(xs) => xs.len(),
                Value::Object(m) => m.len(),
                _ => 0,
            } as i64))
        })
        .doc("`len(x)`: characters of a string, elements of an array, or members of an object."),
        Function::new("is_empty", &[SIZED.or(Ty::NULL)], Ty::BOOL, |a| {
            Ok(Value::Bool(match a[0] {
                Value::String(s) => s.trim().is_empty(),
                Value::Array(xs) => xs.is_empty(),
                Value::Object(m) => m.is_empty(),
                _ => true,
            }))
        })
        .doc("`is_empty(x)`: whether `x` is null, a blank string, or an empty array or object."),
        Function::new("keys", &[Ty::OBJECT], Ty::ARRAY, |a| {
            Ok(a[0].as_object().map(|m| m.keys().map(|k| Value::String(k.clone())).collect()).unwrap_or_default())
        })
        .doc("`keys(obj)`: the member names of `obj`, in order."),
        Function::new("values", &[Ty::OBJECT], Ty::ARRAY, |a| {
            Ok(a[0].as_object().map(|m| m.values().cloned().collect()).unwrap_or_default())
        })
        .doc("`values(obj)`: the member values of `obj`, in order."),
        Function::new(
            "get",
            &[Ty::OBJECT.or(Ty::ARRAY).or(Ty::NULL), Ty::STRING.or(Ty::NUMBER), Ty::ANY],
            Ty::ANY,
            |a| {
                let found = match (a[0], a[1]) {
                    (Value::Object(m), Value::String(k)) => m.get(&**k),
                    (Value::Array(xs), n) => n.as_i64().and_then(|i| usize::try_from(i).ok()).and_then(|i| xs.get(i)),
                    _ => None,
                };
                Ok(found.filter(|v| !v.is_null()).or(a.get(2).copied()).cloned().unwrap_or(Value::Null))
            },
        )
        .optional(1)
        .doc("`get(x, key, [default])`: a member or element, or `default` (null) when absent or null."),
        Function::new("contains", &[SIZED, Ty::ANY], Ty::BOOL, |a| {
            Ok(Value::Bool(match (a[0], a[1]) {
                (Value::String(s), Value::String(part)) => s.contains(&**part),
                (Value::Array(xs), x) => xs.contains(x),
                (Value::Object(m), Value::String(k)) => m.contains_key(&**k),
                _ => false,
            }))
        })
        .deep()
        .doc("`contains(x, item)`: substring of a string, element of an array, or key of an object."),
        Function::new("sort", &[Ty::ARRAY], Ty::ARRAY, |a| {
            let mut xs = items(a[0]).to_vec();
            xs.sort_by(Value::total_cmp);
            Ok(Value::from(xs))
        })
        .deep()
        .doc("`sort(xs)`: `xs` in ascending order (null < booleans < numbers < strings < arrays < objects)."),
        Function::new("unique", &[Ty::ARRAY], Ty::ARRAY, |a| {
            let mut seen = HashSet::new();
            Ok(items(a[0]).iter().filter(|x| seen.insert(*x)).cloned().collect())
        })
        .deep()
        .doc("`unique(xs)`: `xs` without repeated elements, first occurrences kept."),
        Function::new("flatten", &[Ty::ARRAY], Ty::ARRAY, |a| {
            let mut out = Vec::new();
            for x in items(a[0]) {
                match x {
                    Value::Array(inner) => out.extend(inner.iter().cloned()),
                    other => out.push(other.clone()),
                }
            }
            Ok(Value::from(out))
        })
        .doc("`flatten(xs)`: arrays inside `xs` spliced in, one level deep."),
        Function::new("reverse", &[Ty::ARRAY.or(Ty::STRING)], Ty::ARRAY.or(Ty::STRING), |a| match a[0] {
            Value::String(s) => Ok(Value::from(s.chars().rev().collect::<String>())),
            other => Ok(items(other).iter().rev().cloned().collect()),
        })
        .doc("`reverse(x)`: an array or string back to front."),
        Function::new("sum", &[Ty::ARRAY], Ty::NUMBER, |a| {
            let xs = items(a[0]);
            Ok(number_like(xs, numbers("sum", xs)?.iter().sum()))
        })
        .doc("`sum(xs)`: the total of an array of numbers (0 when empty)."),
        Function::new("min", &[Ty::ARRAY], Ty::ANY, |a| {
            Ok(items(a[0]).iter().min_by(|x, y| x.total_cmp(y)).cloned().unwrap_or(Value::Null))
        })
        .deep()
        .doc("`min(xs)`: the smallest element (null when empty)."),
        Function::new("max", &[Ty::ARRAY], Ty::ANY, |a| {
            Ok(items(a[0]).iter().max_by(|x, y| x.total_cmp(y)).cloned().unwrap_or(Value::Null))
        })
        .deep()
        .doc("`max(xs)`: the largest element (null when empty)."),
        Function::new("merge", &[Ty::OBJECT, Ty::OBJECT], Ty::OBJECT, |a| {
            let mut out = a[0].as_object().cloned().unwrap_or_default();
            for (k, v) in a[1].as_object().into_iter().flatten() {
                out.insert(k.clone(), v.clone());
            }
            Ok(Value::Object(Arc::new(out)))
        })
        .doc("`merge(a, b)`: the members of `a` and `b`; `b` wins on shared keys."),
        Function::new("type_of", &[Ty::ANY], Ty::STRING, |a| Ok(Value::from(a[0].type_of().name())))
            .doc("`type_of(x)`: `null`, `boolean`, `number`, `string`, `array` or `object`."),
        type_is("is_string", Ty::STRING),
        type_is("is_number", Ty::NUMBER),
        type_is("is_boolean", Ty::BOOL),
        type_is("is_array", Ty::ARRAY),
        type_is("is_object", Ty::OBJECT),
        Function::new("any_of", &[Ty::ARRAY], Ty::BOOL, |a| {
            Ok(Value::Bool(items(a[0]).iter().any(|x| x == &Value::Bool(true))))
        })
        .doc("`any_of(xs)`: whether some element is `true`."),
        Function::new("all_of", &[Ty::ARRAY], Ty::BOOL, |a| {
            Ok(Value::Bool(items(a[0]).iter().all(|x| x == &Value::Bool(true))))
        })
        .doc("`all_of(xs)`: whether every element is `true`."),
        Function::new("abs", &[Ty::NUMBER], Ty::NUMBER, |a| match a[0] {
            Value::Int(i) => i.checked_abs().map(Value::Int).ok_or_else(|| "integer overflow in `abs`".into()),
            other => Ok(Value::Float(other.as_f64().unwrap_or(0.0).abs())),
        })
        .doc("`abs(n)`: the absolute value."),
        Function::new("round", &[Ty::NUMBER], Ty::NUMBER, |a| {
            Ok(number_like(&[Value::Int(0)], a[0].as_f64().unwrap_or(0.0).round()))
        })
        .doc("`round(n)`: the nearest whole number."),
        Function::new("floor", &[Ty::NUMBER], Ty::NUMBER, |a| {
            Ok(number_like(&[Value::Int(0)], a[0].as_f64().unwrap_or(0.0).floor()))
        })
        .doc("`floor(n)`: the largest whole number not above `n`."),
        Function::new("ceil", &[Ty::NUMBER], Ty::NUMBER, |a| {
            Ok(number_like(&[Value::Int(0)], a[0].as_f64().unwrap_or(0.0).ceil()))
        })
        .doc("`ceil(n)`: the smallest whole number not below `n`."),
    ]
}
