//! Maps method and path to a handler, and the helpers handlers share (body
//! parsing, pagination).

use serde_json::Value;

use super::wire::{self, Reply, page_offset, page_token};
use super::{Shared, chat, control, evaluate, files};

/// A request, decoded as far as every handler needs.
#[derive(Debug)]
pub(crate) struct Call {
    pub method: String,
    /// Path segments, percent-decoded.
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Call {
    pub(crate) fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The body as a JSON object.
    pub(crate) fn json(&self) -> Result<serde_json::Map<String, Value>, Reply> {
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(wire::invalid("the request body must be a JSON object")),
            Err(e) => Err(wire::invalid(format!(
                "the request body is not valid JSON: {e}"
            ))),
        }
    }
}

/// The reply to `call`: each endpoint module (control plane, files and
/// operations, chat, evaluation) owns its routes, below the `/assistant` prefix.
pub(crate) fn route(shared: &Shared, call: &Call) -> Reply {
    let seg: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let m = call.method.as_str();
    let reply = match seg.split_first() {
        Some((&"assistant", path)) => control::route(shared, call, m, path)
            .or_else(|| files::route(shared, call, m, path))
            .or_else(|| chat::route(shared, call, m, path))
            .or_else(|| evaluate::route(call, m, path)),
        _ => None,
    };
    // Lets the unit tests check that a handler bug costs one request only.
    #[cfg(test)]
    if m == "POST" && seg == ["assistant", "_test", "panic"] {
        panic!("a handler bug, on purpose");
    }
    reply
        .unwrap_or_else(|| wire::not_found(format!("no endpoint {m} /{}", call.segments.join("/"))))
}

/// The answer of a list call: the page of `items` that the `limit` and
/// `pagination_token` query parameters ask for, under `key`, with the token of
/// the next page (`{"<key>": [...], "pagination": {"next": …}}`, `pagination`
/// omitted on the last page); a 400 for a bad parameter.
pub(crate) fn list_page(shared: &Shared, call: &Call, key: &str, items: Vec<Value>) -> Reply {
    match paginate(shared, call, items) {
        Ok((page, next)) => Reply::ok(page_body(key, page, next)),
        Err(r) => r,
    }
}

/// One page of `items` per the `limit` and `pagination_token` query parameters:
/// the page and the token of the next one.
fn paginate<T>(
    shared: &Shared,
    call: &Call,
    items: Vec<T>,
) -> Result<(Vec<T>, Option<String>), Reply> {
    let limit = match call.query("limit") {
        None => shared.settings.page_size,
        Some(l) => match l.parse::<usize>() {
            Ok(n @ 1..=100) => n,
            _ => {
                return Err(wire::invalid(format!(
                    "limit must be an integer from 1 to 100, got {l:?}"
                )));
            }
        },
    };
    let start = match call.query("pagination_token") {
        None => 0,
        Some(t) => page_offset(t)
            .ok_or_else(|| wire::invalid(format!("invalid pagination_token {t:?}")))?,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let end = start + page.len();
    Ok((page, (end < total).then(|| page_token(end))))
}

fn page_body(key: &str, items: Vec<Value>, next: Option<String>) -> Value {
    let mut body = serde_json::Map::new();
    body.insert(key.to_owned(), Value::Array(items));
    if let Some(next) = next {
        body.insert("pagination".into(), serde_json::json!({ "next": next }));
    }
    Value::Object(body)
}
