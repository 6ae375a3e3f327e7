//! Why an expression produced no value: absent data, a wrong type, or an error. Each becomes a finding.
//!
//! This is how missing data fails closed: a check that needs an absent member does not quietly pass, it
//! reports the member it needed — unless the policy handled absence with `??`, `exists(...)` or `== null`.

use std::sync::Arc;

use crate::functions::{Ty, describe_value};
use crate::ir::{ExprId, Program};
use crate::value::Value;

/// The key that was absent.
#[derive(Clone, Debug)]
pub(crate) enum Key {
    Field(Arc<str>),
    Index(i64),
}

impl Key {
    pub(crate) fn segment(&self) -> String {
        match self {
            Key::Field(k) => k.to_string(),
            Key::Index(i) => i.to_string(),
        }
    }
}

#[derive(Debug)]
pub(crate) enum Fault<'a> {
    /// `expr` reads `key` of `parent`, and it is not there.
    Missing { parent: Option<&'a Value>, key: Key, expr: ExprId },
    /// `expr` yielded a value of the wrong type (null included).
    Type { expr: ExprId, expected: Ty, found: String, null: bool, node: Option<&'a Value> },
    /// A value that cannot be used as it is, said in words: values that cannot be ordered (`"three" <= 3`,
    /// NaN), an argument of the wrong type, an index that is not a whole number. Invalid data, like `Type`.
    Invalid { message: String, node: Option<&'a Value> },
    /// Anything else: a function's complaint, arithmetic, the step budget.
    Error { message: String, node: Option<&'a Value> },
}

pub(crate) type Faulty<'a> = Box<Fault<'a>>;

impl<'a> Fault<'a> {
    pub(crate) fn missing(parent: Option<&'a Value>, key: Key, expr: ExprId) -> Faulty<'a> {
        Box::new(Fault::Missing { parent, key, expr })
    }

    pub(crate) fn wrong_type(expr: ExprId, expected: Ty, value: &Value, node: Option<&'a Value>) -> Faulty<'a> {
        Box::new(Fault::Type { expr, expected, found: describe_value(value), null: value.is_null(), node })
    }

    pub(crate) fn invalid(message: impl Into<String>, node: Option<&'a Value>) -> Faulty<'a> {
        Box::new(Fault::Invalid { message: message.into(), node })
    }

    pub(crate) fn error(message: impl Into<String>, node: Option<&'a Value>) -> Faulty<'a> {
        Box::new(Fault::Error { message: message.into(), node })
    }

    /// Absent data, or a null where a container was needed: what `??`, `exists` and `== null` accept.
    pub(crate) fn is_absence(&self) -> bool {
        matches!(self, Fault::Missing { .. } | Fault::Type { null: true, .. })
    }

    /// What to tell the user.
    pub(crate) fn message(&self, program: &Program) -> String {
        match self {
            Fault::Missing { expr, .. } => format!("missing `{}`", program.text(*expr)),
            Fault::Type { expr, expected, null: true, .. } => {
                format!("`{}` is null, expected {expected}", program.text(*expr))
            }
            Fault::Type { expr, expected, found, .. } => {
                format!("`{}` is {found}, expected {expected}", program.text(*expr))
            }
            Fault::Invalid { message, .. } | Fault::Error { message, .. } => message.clone(),
        }
    }
}
