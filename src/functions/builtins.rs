//! The builtin function library, gathered from one module per topic.

use super::Function;

/// Every builtin, in documentation order.
pub(super) fn all() -> Vec<Function> {
    let mut all = Vec::new();
    all.extend(super::strings::functions());
    all.extend(super::collections::functions());
    all.extend(super::patterns::functions());
    all.extend(super::time::functions());
    all.extend(super::versions::functions());
    all.extend(super::quantities::functions());
    all.extend(super::urls::functions());
    all.extend(super::images::functions());
    all.extend(super::licenses::functions());
    all.extend(super::traffic::functions());
    super::examples::attach(all)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::all;
    use crate::Value;
    use crate::functions::{CallContext, Registry};

    #[test]
    fn names_are_unique() {
        let mut seen = HashSet::new();
        for f in all() {
            assert!(seen.insert(f.name().to_owned()), "`{}` is registered twice", f.name());
        }
        // The registry replaces a function registered under a taken name, so a duplicate would shrink it.
        assert_eq!(Registry::default().iter().count(), seen.len());
    }

    #[test]
    fn every_builtin_is_documented() {
        for f in Registry::default().iter() {
            let doc = f.description();
            assert!(doc.starts_with(&format!("`{}(", f.name())), "`{}` has doc {doc:?}", f.name());
            assert!(doc.ends_with('.'), "`{}`: {doc:?}", f.name());
            assert!(!doc.contains('\n'), "`{}`: one line", f.name());
        }
    }

    #[test]
    fn names_are_snake_case() {
        for f in Registry::default().iter() {
            let name = f.name();
            assert!(name.starts_with(|c: char| c.is_ascii_lowercase()), "{name}");
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{name}");
        }
    }

    #[test]
    fn odd_arguments_give_errors_not_panics() {
        let samples = [
            Value::Null,
            Value::Bool(true),
            Value::Int(i64::MIN),
            Value::Float(f64::NAN),
            Value::Float(-1e308),
            Value::from(""),
            Value::from("\u{0}é\u{202e}`"),
            Value::from("9".repeat(500)),
            Value::from(vec![Value::Null]),
            Value::object(),
        ];
        let cx = CallContext { now: jiff::Timestamp::MAX };
        for f in Registry::default().iter() {
            let (min, max) = f.arity();
            for n in min..=max.unwrap_or(min + 2) {
                for v in &samples {
                    let args = vec![v; n];
                    let _ = f.call(&args, &cx);
                }
            }
        }
    }
}
