//! The builtin function library, gathered from one module per topic.

use super::Function;

/// Every builtin, in documentation order.
pub(super) fn all() -> Vec<Function> {
    let mut all = Vec::new();
    all.extend(super::strings::functions());
    all.extend(super::collections::functions());
    all
}
