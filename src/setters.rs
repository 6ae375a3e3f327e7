//! Chainable setters for the public option structs.
//!
//! Option structs that will grow (`LoadOptions`, `CheckOptions`, the limits, `PluginOptions`, ...) are
//! `#[non_exhaustive]`, so adding a field is not a breaking change. That also forbids struct literals (and
//! `..Default::default()`) outside the crate, so each of them is built from `Default` (or `new`) with
//! `with_*` setters; fields stay public for reading and for assignment.

/// `setters!(Type { /// doc \n with_field => field: Ty, ... })` defines, for each entry,
/// `pub fn with_field(self, value: Ty) -> Self` that sets `field`.
macro_rules! setters {
    ($ty:ty { $( $(#[$doc:meta])* $setter:ident => $field:ident : $t:ty ),* $(,)? }) => {
        impl $ty {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $setter(mut self, value: $t) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}
