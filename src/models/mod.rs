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

/// The next-page token of a list response: `None` on the last page, however the
/// server spells "last" (`pagination` missing, `null` or `{}`, `next` missing, `null`
/// or empty).
pub(crate) fn next_token(pagination: &Option<PaginationResponse>) -> Option<String> {
    pagination
        .as_ref()
        .and_then(|p| p.next.clone())
        .filter(|t| !t.is_empty())
}
