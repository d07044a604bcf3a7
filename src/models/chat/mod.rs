//! Chat: the request and its messages ([`request`]), the answer ([`response`]) and
//! the chunks of a streamed answer ([`chunk`]).
//!
//! Chat completions ([`super::completions`]) share the messages, the usage and the
//! finish reasons defined here.

mod chunk;
mod request;
mod response;

pub use chunk::*;
pub use request::*;
pub use response::*;

pub(crate) use request::{
    ConversationBody, conversation_request, default_model, with_retrieval_settings,
};
