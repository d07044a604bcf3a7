//! `open_enum!`: the one definition of a forward-compatible string enum.
//!
//! The service adds statuses, kinds and reasons over time. A closed enum would make
//! a whole response fail to decode the day a new value appears, so each of these
//! enums keeps the values this version knows as variants and anything else in
//! `Other(String)`. The macro writes, for every such enum, the same five pieces:
//! the enum itself, `KNOWN` (the wire spellings), `as_str`, serde both ways
//! (reading never fails on a string; writing gives the spelling back), `Display`,
//! and a strict `FromStr` (and the same as `TryFrom<&str>`) for values that come
//! from users (configuration, command lines), where a typo must be an error rather
//! than a new value.

/// Defines a forward-compatible string enum; see the module docs.
///
/// ```ignore
/// open_enum! {
///     /// The processing state of a file.
///     pub enum FileStatus {
///         /// Being ingested.
///         Processing = "Processing",
///         /// Ready for retrieval.
///         Available = "Available",
///     }
///     /// A status this version does not know.
///     Other
/// }
/// ```
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
        $(#[$ometa:meta])*
        Other
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            $(#[$ometa])*
            Other(String),
        }

        impl $name {
            /// Every value this version knows, as spelled on the wire.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];

            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(other) => other,
                }
            }

            /// The value a wire string stands for; unknown strings are kept in
            /// `Other`.
            fn from_wire(text: &str) -> Self {
                match text {
                    $( $wire => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::Error;

            /// Reads one of the known wire spellings, exactly (case-sensitive). A
            /// value from a user that is not known is more likely a typo than a new
            /// value of the service, so it is refused with the accepted values.
            fn from_str(text: &str) -> crate::Result<Self> {
                match Self::from_wire(text) {
                    Self::Other(_) => Err(crate::Error::invalid(
                        stringify!($name),
                        format!(
                            "{text:?} is not one of {}",
                            Self::KNOWN.join(", ")
                        ),
                    )),
                    known => Ok(known),
                }
            }
        }

        impl TryFrom<&str> for $name {
            type Error = crate::Error;

            /// The same as [`FromStr`](std::str::FromStr): a known wire spelling, or
            /// an error listing them.
            fn try_from(text: &str) -> crate::Result<Self> {
                text.parse()
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<$name, E> {
                        Ok($name::from_wire(text))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }
    };
}

pub(crate) use open_enum;

#[cfg(test)]
mod tests {
    open_enum! {
        /// A test enum.
        pub enum Colour {
            /// Red.
            Red = "red",
            /// Dark blue.
            DarkBlue = "dark_blue",
        }
        /// Something else.
        Other
    }

    #[test]
    fn reads_and_writes_the_wire_spelling() {
        let c: Colour = serde_json::from_str(r#""dark_blue""#).unwrap();
        assert_eq!(c, Colour::DarkBlue);
        assert_eq!(serde_json::to_string(&c).unwrap(), r#""dark_blue""#);
        assert_eq!(c.to_string(), "dark_blue");
        assert_eq!(Colour::KNOWN, ["red", "dark_blue"]);
    }

    #[test]
    fn unknown_values_are_kept_and_written_back() {
        let c: Colour = serde_json::from_str(r#""Red""#).unwrap();
        assert_eq!(c, Colour::Other("Red".into()));
        assert_eq!(serde_json::to_string(&c).unwrap(), r#""Red""#);
        // Escaped text is unescaped first.
        let c: Colour = serde_json::from_str(r#""r\u0065d""#).unwrap();
        assert_eq!(c, Colour::Red);
        assert!(serde_json::from_str::<Colour>("5").is_err());
    }

    #[test]
    fn from_str_refuses_what_it_does_not_know() {
        assert_eq!("red".parse::<Colour>().unwrap(), Colour::Red);
        let err = "rde".parse::<Colour>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid argument `Colour`: "rde" is not one of red, dark_blue"#
        );
        assert_eq!(Colour::try_from("dark_blue").unwrap(), Colour::DarkBlue);
        assert!(Colour::try_from("Red").is_err());
    }
}
