//! Request and response types, equal to the 2026-07 wire shapes.
//!
//! Every response type ignores unknown keys, keeps what the server may omit as
//! `Option`, and keeps unknown values of status-like strings in an `Other` variant,
//! so a newer server never breaks decoding. Serialising a model gives the wire JSON
//! back (the C API relies on that).

mod assistant;
mod chat;
mod completions;
mod context;
mod evaluation;
mod file;
mod open_enum;
mod operation;
mod options;
mod setters;

pub use assistant::*;
pub use chat::*;
pub use completions::*;
pub use context::*;
pub use evaluation::*;
pub use file::*;
pub use operation::*;
pub use options::*;

pub use crate::upload::UploadFile;

pub(crate) use setters::setters;

use serde::{Deserialize, Serialize};

/// The continuation part of a list response.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaginationResponse {
    /// The token for the next page; absent, `null` or empty on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Defines the response of one page of a list call: the items under their wire
/// key, the continuation, and `next_token`.
macro_rules! list_response {
    ($(#[$meta:meta])* pub struct $name:ident { $items:ident: $item:ty }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            #[doc = concat!("The ", stringify!($items), " on this page.")]
            #[serde(default)]
            pub $items: Vec<$item>,
            /// The continuation token, absent on the last page.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub pagination: Option<$crate::models::PaginationResponse>,
        }

        impl $name {
            /// The token of the next page: `None` on the last page, however the
            /// server spells "last" (`pagination` missing, `null` or `{}`, `next`
            /// missing, `null` or empty).
            pub fn next_token(&self) -> Option<String> {
                self.pagination
                    .as_ref()
                    .and_then(|p| p.next.clone())
                    .filter(|t| !t.is_empty())
            }
        }
    };
}

use list_response;
