//! `setters!`: the one definition of a by-value builder setter.
//!
//! Every options, request and builder type in the crate has the same kind of
//! setter: it takes the builder by value, stores one value in one field and
//! hands the builder back. Written out, each is four lines that differ only in
//! names; here each is one line saying which field gets what, and its
//! documentation stays where it was.

/// By-value setters: `name(arg: Type) => field = value;` becomes
/// `pub fn name(mut self, arg: Type) -> Self { self.field = value; self }`.
///
/// The field may be a path into a nested value (`page.page_size`); the value is
/// any expression of the argument (`Some(n)`, `text.into()`). Attributes before
/// an entry, its documentation first of all, go on the method.
///
/// ```ignore
/// impl ContextOptions {
///     setters! {
///         /// How many snippets to retrieve.
///         top_k(n: u32) => top_k = Some(n);
///     }
/// }
/// ```
macro_rules! setters {
    ($(
        $(#[$attr:meta])*
        $name:ident($arg:ident: $ty:ty) => $($field:ident).+ = $value:expr;
    )+) => {$(
        $(#[$attr])*
        pub fn $name(mut self, $arg: $ty) -> Self {
            self.$($field).+ = $value;
            self
        }
    )+};
}

pub(crate) use setters;

#[cfg(test)]
mod tests {
    #[derive(Debug, Default, PartialEq)]
    struct Inner {
        size: Option<u32>,
    }

    #[derive(Debug, Default, PartialEq)]
    struct Builder {
        name: String,
        inner: Inner,
    }

    impl Builder {
        setters! {
            /// A direct field.
            name(text: impl Into<String>) => name = text.into();
            /// A nested one.
            size(n: u32) => inner.size = Some(n.max(1));
        }
    }

    #[test]
    fn each_setter_stores_its_value_and_returns_the_builder() {
        let b = Builder::default().name("a").size(0);
        assert_eq!(
            b,
            Builder {
                name: "a".into(),
                inner: Inner { size: Some(1) },
            }
        );
    }
}
