//! Operators: member access, comparison, arithmetic, membership and dynamic regexes.

use std::borrow::Cow;

use super::{Fault, Faulty, Key, R};
use crate::functions::{Ty, describe_value};
use crate::ir::{Arith, Cmp, ExprId, FieldKey};
use crate::value::{Value, compare_numbers};

/// An operand: the expression it came from and, if it is part of a document, the node itself.
type Operand<'a> = (ExprId, Option<&'a Value>);

/// `l == r`, with the common scalar cases inline: `Value::eq` is an out-of-line call, and comparing two
/// strings through it costs a `memcmp` call even for a short key like `"accuracy"`.
#[inline(always)]
pub(super) fn equal(l: &Value, r: &Value) -> bool {
    match (l, r) {
        (Value::String(a), Value::String(b)) => crate::ir::same_text(a, b),
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Null, Value::Null) => true,
        _ => l == r,
    }
}

/// `obj.key`; `at` is the whole access, `obj_expr` the object's expression.
pub(super) fn field<'a>(obj: Cow<'a, Value>, key: &FieldKey, obj_expr: ExprId, at: ExprId) -> R<'a> {
    match obj {
        Cow::Borrowed(v @ Value::Object(map)) => {
            key.get(map).map(Cow::Borrowed).ok_or_else(|| Fault::missing(Some(v), Key::Field(key.name.clone()), at))
        }
        Cow::Owned(Value::Object(map)) => {
            key.get(&map).cloned().map(Cow::Owned).ok_or_else(|| Fault::missing(None, Key::Field(key.name.clone()), at))
        }
        other => {
            let n = match &other {
                Cow::Borrowed(v) => Some(*v),
                Cow::Owned(_) => None,
            };
            Err(Fault::wrong_type(obj_expr, Ty::OBJECT, &other, n))
        }
    }
}

/// `xs[i]` (negative `i` counts from the end) or `obj["key"]`.
pub(super) fn index<'a>(obj: Cow<'a, Value>, index: &Value, obj_expr: ExprId, at: ExprId) -> R<'a> {
    let parent = match &obj {
        Cow::Borrowed(v) => Some(*v),
        Cow::Owned(_) => None,
    };
    let found = match (&*obj, index) {
        (Value::Array(items), i) if i.as_i64().is_some() => {
            let i = i.as_i64().unwrap_or_default();
            let len = items.len() as i64;
            let position = if i < 0 { len + i } else { i };
            if position < 0 || position >= len {
                return Err(Fault::missing(parent, Key::Index(i), at));
            }
            position as usize
        }
        (Value::Object(map), Value::String(k)) => match map.get_index_of(&**k) {
            Some(i) => i,
            None => return Err(Fault::missing(parent, Key::Field(k.clone()), at)),
        },
        (Value::Array(_), other) => {
            return Err(Fault::invalid(
                format!("an array index must be a whole number, found {}", crate::functions::describe_value(other)),
                parent,
            ));
        }
        (Value::Object(_), other) => {
            return Err(Fault::invalid(
                format!("an object key must be a string, found {}", crate::functions::describe_value(other)),
                parent,
            ));
        }
        (other, _) => return Err(Fault::wrong_type(obj_expr, Ty::ARRAY.or(Ty::OBJECT), other, parent)),
    };
    Ok(match obj {
        Cow::Borrowed(Value::Array(items)) => Cow::Borrowed(&items[found]),
        Cow::Borrowed(Value::Object(map)) => Cow::Borrowed(&map[found]),
        Cow::Owned(Value::Array(items)) => Cow::Owned(items[found].clone()),
        Cow::Owned(Value::Object(map)) => Cow::Owned(map[found].clone()),
        _ => Cow::Owned(Value::Null),
    })
}

pub(super) fn negate<'a>(v: &Value, at: ExprId, n: Option<&'a Value>) -> R<'a> {
    match v {
        Value::Int(i) => {
            i.checked_neg().map(|i| Cow::Owned(Value::Int(i))).ok_or_else(|| Fault::error("integer overflow", n))
        }
        Value::Float(x) => Ok(Cow::Owned(Value::Float(-x))),
        other => Err(Fault::wrong_type(at, Ty::NUMBER, other, n)),
    }
}

pub(super) fn compare<'a>(cmp: Cmp, l: &Value, r: &Value, a: Operand<'a>, b: Operand<'a>) -> Result<bool, Faulty<'a>> {
    use std::cmp::Ordering;
    let order = match cmp {
        Cmp::Eq => return Ok(l == r),
        Cmp::Ne => return Ok(l != r),
        _ => match (l, r) {
            (Value::String(x), Value::String(y)) => x.cmp(y),
            // Exact, so `2^53 + 1 > 2^53` holds; NaN has no order, and saying "yes" would fail open.
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => match compare_numbers(l, r) {
                Some(order) => order,
                None => {
                    let message = format!("cannot order {} and {}", describe_value(l), describe_value(r));
                    let at = if l.is_nan() { a.1.or(b.1) } else { b.1.or(a.1) };
                    return Err(Fault::invalid(message, at));
                }
            },
            // Null on either side is absent data; anything else is a mismatch of types: invalid data.
            _ if l.is_null() => return Err(Fault::wrong_type(a.0, expected_like(r), l, a.1)),
            _ if r.is_null() => return Err(Fault::wrong_type(b.0, expected_like(l), r, b.1)),
            _ => {
                let message = format!("cannot order {} and {}", describe_value(l), describe_value(r));
                return Err(Fault::invalid(message, a.1.or(b.1)));
            }
        },
    };
    Ok(match cmp {
        Cmp::Lt => order == Ordering::Less,
        Cmp::Le => order != Ordering::Greater,
        Cmp::Gt => order == Ordering::Greater,
        _ => order != Ordering::Less,
    })
}

/// What the other side of an ordering comparison calls for.
fn expected_like(other: &Value) -> Ty {
    match other {
        Value::String(_) => Ty::STRING,
        Value::Int(_) | Value::Float(_) => Ty::NUMBER,
        _ => Ty::NUMBER.or(Ty::STRING),
    }
}

pub(super) fn arith<'a>(op: Arith, l: &Value, r: &Value, a: Operand<'a>, b: Operand<'a>) -> Result<Value, Faulty<'a>> {
    match (op, l, r) {
        (Arith::Add, Value::String(x), Value::String(y)) => return Ok(Value::from(format!("{x}{y}"))),
        (Arith::Add, Value::Array(x), Value::Array(y)) => return Ok(x.iter().chain(y.iter()).cloned().collect()),
        _ => {}
    }
    let expected = if op == Arith::Add { Ty::NUMBER.or(Ty::STRING).or(Ty::ARRAY) } else { Ty::NUMBER };
    if l.as_f64().is_none() {
        return Err(Fault::wrong_type(a.0, expected, l, a.1));
    }
    if r.as_f64().is_none() {
        return Err(Fault::wrong_type(b.0, expected, r, b.1));
    }
    let overflow = || Fault::error("integer overflow", a.1.or(b.1));
    let zero = |what: &str| Fault::error(format!("{what} by zero"), b.1.or(a.1));
    if let (Value::Int(x), Value::Int(y)) = (l, r) {
        let (x, y) = (*x, *y);
        return match op {
            Arith::Add => x.checked_add(y).map(Value::Int).ok_or_else(overflow),
            Arith::Sub => x.checked_sub(y).map(Value::Int).ok_or_else(overflow),
            Arith::Mul => x.checked_mul(y).map(Value::Int).ok_or_else(overflow),
            Arith::Div if y == 0 => Err(zero("division")),
            Arith::Div if x % y == 0 => x.checked_div(y).map(Value::Int).ok_or_else(overflow),
            Arith::Div => Ok(Value::Float(x as f64 / y as f64)),
            Arith::Rem if y == 0 => Err(zero("remainder")),
            Arith::Rem => x.checked_rem(y).map(Value::Int).ok_or_else(overflow),
        };
    }
    let (x, y) = (l.as_f64().unwrap_or_default(), r.as_f64().unwrap_or_default());
    let result = match op {
        Arith::Add => x + y,
        Arith::Sub => x - y,
        Arith::Mul => x * y,
        Arith::Div if y == 0.0 => return Err(zero("division")),
        Arith::Div => x / y,
        Arith::Rem if y == 0.0 => return Err(zero("remainder")),
        Arith::Rem => x % y,
    };
    Ok(Value::Float(result))
}

/// `item in set`: element of an array, key of an object, substring of a string.
pub(super) fn contains<'a>(
    set: &Value,
    item: &Value,
    set_expr: ExprId,
    n: Option<&'a Value>,
) -> Result<bool, Faulty<'a>> {
    match (set, item) {
        (Value::Array(items), _) => Ok(items.iter().any(|x| x == item)),
        (Value::Object(map), Value::String(k)) => Ok(map.contains_key(&**k)),
        (Value::Object(_), _) => Ok(false),
        (Value::String(s), Value::String(part)) => Ok(s.contains(&**part)),
        (Value::String(_), _) => Ok(false),
        (other, _) => Err(Fault::wrong_type(set_expr, Ty::ARRAY.or(Ty::OBJECT).or(Ty::STRING), other, n)),
    }
}

pub(super) fn matches_dynamic<'a>(
    v: &Value,
    pattern: &Value,
    a: Operand<'a>,
    b: Operand<'a>,
) -> Result<bool, Faulty<'a>> {
    let Value::String(s) = v else { return Err(Fault::wrong_type(a.0, Ty::STRING, v, a.1)) };
    let Value::String(p) = pattern else { return Err(Fault::wrong_type(b.0, Ty::STRING, pattern, b.1)) };
    crate::functions::regex_is_match(p, s).map_err(|message| Fault::error(message, b.1))
}
