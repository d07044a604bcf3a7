//! Arguments from C: handles, strings, JSON requests and wait modes, each
//! checked and named after its parameter in every error.
//!
//! JSON requests decode straight into the Rust request and option types, which
//! refuse unknown keys naming them. A call that also takes settings only C has
//! (a chat's `timeout_ms`, a paginator's `skip`) declares them as a small struct
//! beside the model type; [`split_json`] hands each key to the one that declares
//! it.

use std::ffi::{CStr, c_char, c_int};
use std::time::Duration;

use ::pinecone_assistant::Wait;
use ::pinecone_assistant::models::{ChatCompletionRequest, ChatRequest};
use serde::de::{self, DeserializeOwned, IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::boundary::FfiError;
use crate::client::pinecone_wait;
use crate::error::pinecone_result;
use crate::paginator::WalkOptions;

/// A raw handle pointer of either constness.
pub(crate) trait HandlePtr {
    type Target;
    fn into_const(self) -> *const Self::Target;
}

impl<T> HandlePtr for *const T {
    type Target = T;
    fn into_const(self) -> *const T {
        self
    }
}

impl<T> HandlePtr for *mut T {
    type Target = T;
    fn into_const(self) -> *const T {
        self.cast_const()
    }
}

/// A handle argument, borrowed for the call.
///
/// # Safety
///
/// `ptr` is NULL or a live handle of its type made by this library, not being
/// freed concurrently.
pub(crate) unsafe fn handle<'a, P: HandlePtr>(
    ptr: P,
    name: &str,
) -> Result<&'a P::Target, FfiError> {
    // SAFETY: NULL-checked by `as_ref`; otherwise a live handle per the contract.
    unsafe { ptr.into_const().as_ref() }.ok_or_else(|| FfiError::null(name))
}

/// A required string argument.
///
/// # Safety
///
/// `ptr` is NULL or points to a NUL-terminated string that stays valid and
/// unchanged for `'a`.
pub(crate) unsafe fn str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, FfiError> {
    if ptr.is_null() {
        return Err(FfiError::null(name));
    }
    // SAFETY: not NULL; the caller guarantees a NUL-terminated string alive for 'a.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes.to_str().map_err(|e| {
        FfiError::new(
            pinecone_result::InvalidUtf8,
            format!(
                "`{name}` is not valid UTF-8 (bad byte at offset {})",
                e.valid_up_to()
            ),
        )
        .argument(name)
    })
}

/// An optional string argument: NULL gives `None`.
///
/// # Safety
///
/// As [`str`].
pub(crate) unsafe fn opt_str<'a>(
    ptr: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, FfiError> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { str(ptr, name) }.map(Some)
}

/// A required JSON argument decoded into `T`.
///
/// # Safety
///
/// As [`str`].
pub(crate) unsafe fn json<T: DeserializeOwned>(
    ptr: *const c_char,
    name: &str,
) -> Result<T, FfiError> {
    // SAFETY: forwarded contract.
    parse_json(unsafe { str(ptr, name) }?, name)
}

/// An optional JSON argument: NULL gives `T::default()`.
///
/// # Safety
///
/// As [`str`].
pub(crate) unsafe fn opt_json<T: DeserializeOwned + Default>(
    ptr: *const c_char,
    name: &str,
) -> Result<T, FfiError> {
    // SAFETY: forwarded contract.
    match unsafe { opt_str(ptr, name) }? {
        Some(text) => parse_json(text, name),
        None => Ok(T::default()),
    }
}

/// An optional JSON object split into a model type `M` and the C-only settings
/// `C` beside its keys (see [`split_json`]); NULL gives both defaults.
///
/// # Safety
///
/// As [`str`].
pub(crate) unsafe fn split<M, C>(ptr: *const c_char, name: &str) -> Result<(M, C), FfiError>
where
    M: DeserializeOwned + Default,
    C: DeserializeOwned + Default,
{
    // SAFETY: forwarded contract.
    match unsafe { opt_str(ptr, name) }? {
        Some(text) => split_json(text, name),
        None => Ok(Default::default()),
    }
}

/// The options of a one-page list call: the model type `M`, refusing the
/// settings only paginators take (rather than ignoring them); NULL gives the
/// default.
///
/// # Safety
///
/// As [`str`].
pub(crate) unsafe fn page<M: DeserializeOwned + Default>(
    ptr: *const c_char,
    name: &str,
) -> Result<M, FfiError> {
    // SAFETY: forwarded contract.
    let (options, walk): (M, WalkOptions) = unsafe { split(ptr, name) }?;
    walk.refuse()?;
    Ok(options)
}

/// Decodes the JSON object `text` into the model `M` and the C-only settings `C`:
/// the keys that are fields of `C` go to `C`, every other key to `M`, which
/// refuses one it does not know, naming it. The fields of `C` are read from its
/// own `Deserialize` implementation, so no list of keys is kept by hand.
pub(crate) fn split_json<M: DeserializeOwned, C: DeserializeOwned>(
    text: &str,
    name: &str,
) -> Result<(M, C), FfiError> {
    let mut model: Map<String, Value> = parse_json(text, name)?;
    let c_only: Map<String, Value> = field_names::<C>()
        .iter()
        .filter_map(|key| model.remove_entry(*key))
        .collect();
    Ok((from_map(model, name)?, from_map(c_only, name)?))
}

fn from_map<T: DeserializeOwned>(map: Map<String, Value>, name: &str) -> Result<T, FfiError> {
    serde_path_to_error::deserialize(Value::Object(map))
        .map_err(|e| json_error(name, &e.path().to_string(), e.inner()))
}

/// The field names of a struct, as its derived `Deserialize` hands them to the
/// deserializer; empty for anything that is not a struct.
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Fields<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for Fields<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields read"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
            enum identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    // Always an error: the probe stops at the field list.
    let _ = T::deserialize(Fields(&mut fields));
    fields
}

/// Decodes `text`, naming the argument and the path of the field at fault.
pub(crate) fn parse_json<T: DeserializeOwned>(text: &str, name: &str) -> Result<T, FfiError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| json_error(name, &e.path().to_string(), e.inner()))?;
    de.end().map_err(|e| json_error(name, "", &e))?;
    Ok(value)
}

fn json_error(name: &str, path: &str, inner: &dyn std::fmt::Display) -> FfiError {
    let at = if path.is_empty() || path == "." {
        String::new()
    } else {
        format!(" at `{path}`")
    };
    let mut error = FfiError::new(
        pinecone_result::InvalidJson,
        format!("`{name}` is not valid JSON for this call{at}: {inner}"),
    )
    .argument(name);
    if !at.is_empty() {
        error.extra.insert("field".into(), path.into());
    }
    error
}

/// The C-only settings of a chat request, which the wire body does not carry:
/// `timeout_ms`, the longest silence the call accepts; `total_timeout_ms`, the
/// longest the whole call may take (0 for no bound); and `stream`, which the
/// function called decides, so any value given is ignored.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ChatSettings {
    timeout_ms: Option<u64>,
    total_timeout_ms: Option<u64>,
    #[serde(rename = "stream")]
    _stream: Option<IgnoredAny>,
}

/// A request that carries per-call timeouts outside its wire body.
pub(crate) trait CallTimeout: DeserializeOwned {
    fn with_call_timeout(self, timeout: Duration) -> Self;
    fn with_total_timeout(self, bound: Duration) -> Self;
}

impl CallTimeout for ChatRequest {
    fn with_call_timeout(self, timeout: Duration) -> Self {
        self.timeout(timeout)
    }
    fn with_total_timeout(self, bound: Duration) -> Self {
        self.total_timeout(bound)
    }
}

impl CallTimeout for ChatCompletionRequest {
    fn with_call_timeout(self, timeout: Duration) -> Self {
        self.timeout(timeout)
    }
    fn with_total_timeout(self, bound: Duration) -> Self {
        self.total_timeout(bound)
    }
}

/// A chat request argument: the wire JSON plus the [`ChatSettings`].
///
/// # Safety
///
/// As [`str`].
pub(crate) unsafe fn chat<T: CallTimeout>(ptr: *const c_char, name: &str) -> Result<T, FfiError> {
    // SAFETY: forwarded contract.
    let (mut request, settings): (T, ChatSettings) = split_json(unsafe { str(ptr, name) }?, name)?;
    if let Some(ms) = settings.total_timeout_ms {
        // 0: no bound for this call, whatever the client's.
        request = request.with_total_timeout(if ms == 0 {
            Duration::MAX
        } else {
            Duration::from_millis(ms)
        });
    }
    match settings.timeout_ms {
        None => Ok(request),
        Some(0) => Err(FfiError::new(
            pinecone_result::InvalidArgument,
            format!("`{name}`: timeout_ms must be at least 1; leave it out for the default"),
        )
        .argument(name)),
        Some(ms) => Ok(request.with_call_timeout(Duration::from_millis(ms))),
    }
}

/// The C wait mode constants, mirrored by `pinecone_wait` in the header.
pub(crate) fn wait(mode: c_int, timeout_ms: u64) -> Result<Wait, FfiError> {
    const NO: c_int = pinecone_wait::No as c_int;
    const FOREVER: c_int = pinecone_wait::Forever as c_int;
    const FOR: c_int = pinecone_wait::For as c_int;
    match mode {
        NO => Ok(Wait::No),
        FOREVER => Ok(Wait::Forever),
        FOR => Ok(Wait::For(Duration::from_millis(timeout_ms))),
        other => Err(FfiError::invalid(
            "wait_mode",
            format!(
                "{other} is not PINECONE_WAIT_NO (0), PINECONE_WAIT_FOREVER (1) or PINECONE_WAIT_FOR (2)"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;

    use super::*;

    #[test]
    fn chat_requests_take_a_per_call_timeout_outside_the_wire_body() {
        let text =
            CString::new(r#"{"messages":[{"role":"user","content":"hi"}],"timeout_ms":300}"#)
                .unwrap();
        // SAFETY: a live NUL-terminated string.
        let request: ChatRequest = unsafe { chat(text.as_ptr(), "request_json") }.unwrap();
        assert_eq!(request.timeout, Some(Duration::from_millis(300)));
        // SAFETY: as above.
        let completions: ChatCompletionRequest =
            unsafe { chat(text.as_ptr(), "request_json") }.unwrap();
        assert_eq!(completions.timeout, Some(Duration::from_millis(300)));

        let bounded =
            CString::new(r#"{"messages":[],"timeout_ms":300,"total_timeout_ms":9000}"#).unwrap();
        // SAFETY: as above.
        let request: ChatRequest = unsafe { chat(bounded.as_ptr(), "request_json") }.unwrap();
        assert_eq!(request.timeout, Some(Duration::from_millis(300)));
        assert_eq!(request.total_timeout, Some(Duration::from_millis(9000)));
        let unbounded = CString::new(r#"{"messages":[],"total_timeout_ms":0}"#).unwrap();
        // SAFETY: as above.
        let request: ChatCompletionRequest =
            unsafe { chat(unbounded.as_ptr(), "request_json") }.unwrap();
        assert_eq!(request.total_timeout, Some(Duration::MAX));

        let plain = CString::new(r#"{"messages":[]}"#).unwrap();
        // SAFETY: as above.
        let request: ChatRequest = unsafe { chat(plain.as_ptr(), "request_json") }.unwrap();
        assert_eq!(request.timeout, None);

        let zero = CString::new(r#"{"messages":[],"timeout_ms":0}"#).unwrap();
        // SAFETY: as above.
        let err = unsafe { chat::<ChatRequest>(zero.as_ptr(), "request_json") }.unwrap_err();
        assert_eq!(err.code, pinecone_result::InvalidArgument);
        let stream_key = CString::new(r#"{"messages":[],"stream":true}"#).unwrap();
        // SAFETY: as above.
        let _ = unsafe { chat::<ChatRequest>(stream_key.as_ptr(), "request_json") }.unwrap();
        let typo = CString::new(r#"{"messages":[],"temprature":0.2}"#).unwrap();
        // SAFETY: as above.
        let err = unsafe { chat::<ChatRequest>(typo.as_ptr(), "request_json") }.unwrap_err();
        assert_eq!(err.code, pinecone_result::InvalidJson);
        assert!(err.message.contains("temprature"), "{}", err.message);
        let text_ms = CString::new(r#"{"messages":[],"timeout_ms":"soon"}"#).unwrap();
        // SAFETY: as above.
        let err = unsafe { chat::<ChatRequest>(text_ms.as_ptr(), "request_json") }.unwrap_err();
        assert_eq!(err.code, pinecone_result::InvalidJson);
        assert!(err.message.contains("timeout_ms"), "{}", err.message);
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)] // Fields exist to be decoded.
    struct Probe {
        name: String,
        items: Vec<Item>,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        n: u32,
    }

    #[test]
    fn json_errors_name_the_argument_and_field() {
        let e = parse_json::<Probe>(
            r#"{"name":"a","items":[{"n":1},{"n":"x"}]}"#,
            "request_json",
        )
        .unwrap_err();
        assert_eq!(e.code, pinecone_result::InvalidJson);
        assert!(e.message.contains("`request_json`"), "{}", e.message);
        assert!(e.message.contains("`items[1].n`"), "{}", e.message);
        let e = parse_json::<Probe>(r#"{"items":[]}"#, "request_json").unwrap_err();
        assert!(e.message.contains("missing field `name`"), "{}", e.message);
        let e = parse_json::<Probe>(r#"{"name":"a","items":[]} x"#, "r").unwrap_err();
        assert!(e.message.contains("trailing characters"), "{}", e.message);
        let e = parse_json::<Probe>(r#"{"name":"a""#, "r").unwrap_err();
        assert_eq!(e.code, pinecone_result::InvalidJson);
    }

    #[derive(Deserialize, Default, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Model {
        name: Option<String>,
    }

    #[derive(Deserialize, Default, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct COnly {
        skip: Option<usize>,
        #[serde(rename = "max_items")]
        most: Option<usize>,
    }

    #[test]
    fn a_split_hands_each_key_to_the_type_that_declares_it() {
        assert_eq!(field_names::<COnly>(), ["skip", "max_items"]);
        assert!(field_names::<u32>().is_empty());
        let (model, c): (Model, COnly) =
            split_json(r#"{"name":"a","max_items":2,"skip":1}"#, "options_json").unwrap();
        assert_eq!(model.name.as_deref(), Some("a"));
        assert_eq!(
            c,
            COnly {
                skip: Some(1),
                most: Some(2)
            }
        );

        let e = split_json::<Model, COnly>(r#"{"nmae":"a"}"#, "options_json").unwrap_err();
        assert_eq!(e.code, pinecone_result::InvalidJson);
        assert!(e.message.contains("nmae"), "{}", e.message);
        let e = split_json::<Model, COnly>(r#"{"skip":"x"}"#, "options_json").unwrap_err();
        assert_eq!(e.code, pinecone_result::InvalidJson);
        assert!(e.message.contains("`skip`"), "{}", e.message);
        let e = split_json::<Model, COnly>("[1]", "options_json").unwrap_err();
        assert_eq!(e.code, pinecone_result::InvalidJson);
    }

    #[test]
    fn wait_modes() {
        assert_eq!(wait(0, 5).unwrap(), Wait::No);
        assert_eq!(wait(1, 5).unwrap(), Wait::Forever);
        assert_eq!(wait(2, 5).unwrap(), Wait::For(Duration::from_millis(5)));
        let e = wait(3, 0).unwrap_err();
        assert_eq!(e.code, pinecone_result::InvalidArgument);
        assert!(e.message.contains("wait_mode"));
    }
}
