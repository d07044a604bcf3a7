//! Per-call options of the list and file calls, and the upload result.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{FileModel, OperationModel, OperationStatus, OperationType, setters};

/// Options of [`Assistant::describe_file`](crate::Assistant::describe_file).
///
/// ```
/// use pinecone_assistant::models::DescribeFileOptions;
/// let opts = DescribeFileOptions::new().include_url(true);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[must_use]
#[non_exhaustive]
pub struct DescribeFileOptions {
    /// Ask for a short-lived download link in `signed_url`.
    pub include_url: bool,
}

impl DescribeFileOptions {
    /// No download link.
    ///
    /// ```
    /// use pinecone_assistant::models::DescribeFileOptions;
    /// let opts = DescribeFileOptions::new();
    /// # let _ = opts;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// Whether to ask for a signed download link (`include_url=true`; nothing is
        /// sent when false). The link is short-lived; treat it as a secret. Defaults to
        /// false.
        ///
        /// ```
        /// use pinecone_assistant::models::DescribeFileOptions;
        /// let opts = DescribeFileOptions::new().include_url(true);
        /// # let _ = opts;
        /// ```
        include_url(include: bool) => include_url = include;
    }
}

/// The paging part of every list call: page size and where to start.
///
/// It is the whole of the options of
/// [`Client::list_assistants_page`](crate::Client::list_assistants_page), and the
/// `page` part of [`ListFilesOptions`] and [`ListOperationsOptions`]. As JSON it
/// uses the wire names, `limit` (the page size) and `pagination_token`, and refuses
/// any other key.
///
/// ```
/// use pinecone_assistant::models::ListOptions;
/// let opts = ListOptions::new().page_size(10).pagination_token("YXNzdDoy");
/// assert_eq!(
///     serde_json::to_string(&opts).unwrap(),
///     r#"{"limit":10,"pagination_token":"YXNzdDoy"}"#
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[must_use]
#[non_exhaustive]
pub struct ListOptions {
    /// Items per page (`limit` on the wire).
    #[serde(rename = "limit", skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// Where to continue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination_token: Option<String>,
}

impl ListOptions {
    /// The server's page size, from the first page.
    ///
    /// ```
    /// use pinecone_assistant::models::ListOptions;
    /// assert_eq!(ListOptions::new(), ListOptions::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// Items per page, sent as `limit`; must be at least 1. Defaults to the
        /// server's (50 for assistants).
        ///
        /// ```
        /// use pinecone_assistant::models::ListOptions;
        /// assert_eq!(ListOptions::new().page_size(20).page_size, Some(20));
        /// ```
        page_size(size: u32) => page_size = Some(size);
        /// The token of the page to start from. Defaults to the first page.
        ///
        /// ```
        /// use pinecone_assistant::models::ListOptions;
        /// let opts = ListOptions::new().pagination_token("eyJvZmZzZXQiOjJ9");
        /// assert_eq!(opts.pagination_token.as_deref(), Some("eyJvZmZzZXQiOjJ9"));
        /// ```
        pagination_token(token: impl Into<String>) => pagination_token = Some(token.into());
    }
}

/// `page_size` and `pagination_token` on an options type that embeds
/// [`ListOptions`] as `page`, so every list call is paged the same way.
macro_rules! paging_setters {
    ($options:ident) => {
        setters! {
            /// Items per page, sent as `limit`; must be at least 1. Defaults to the
            /// server's.
            ///
            /// ```
            #[doc = concat!("use pinecone_assistant::models::", stringify!($options), ";")]
            #[doc = concat!("let opts = ", stringify!($options), "::new().page_size(20);")]
            /// assert_eq!(opts.page.page_size, Some(20));
            /// ```
            page_size(size: u32) => page.page_size = Some(size);
            /// The token of the page to start from. Defaults to the first page.
            ///
            /// ```
            #[doc = concat!("use pinecone_assistant::models::", stringify!($options), ";")]
            #[doc = concat!("let opts = ", stringify!($options), "::new().pagination_token(\"eyJvZmZzZXQiOjJ9\");")]
            /// assert!(opts.page.pagination_token.is_some());
            /// ```
            pagination_token(token: impl Into<String>) => page.pagination_token = Some(token.into());
        }
    };
}

/// Options of [`Assistant::list_files`](crate::Assistant::list_files) and
/// [`Assistant::list_files_page`](crate::Assistant::list_files_page).
///
/// As JSON: `filter`, `limit`, `pagination_token`; any other key is refused.
///
/// ```
/// use pinecone_assistant::models::ListFilesOptions;
/// use serde_json::json;
/// let opts = ListFilesOptions::new().filter(json!({"team": {"$eq": "finance"}})).page_size(20);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "ListFilesWire", into = "ListFilesWire")]
#[must_use]
#[non_exhaustive]
pub struct ListFilesOptions {
    /// A metadata filter, sent as compact JSON on every page.
    pub filter: Option<Value>,
    /// Page size and starting point.
    pub page: ListOptions,
}

/// The JSON form of [`ListFilesOptions`]: flat, with the wire names. (serde's
/// `flatten` cannot be combined with refusing unknown keys.)
#[derive(Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ListFilesWire {
    #[serde(skip_serializing_if = "Option::is_none")]
    filter: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pagination_token: Option<String>,
}

impl From<ListFilesWire> for ListFilesOptions {
    fn from(w: ListFilesWire) -> Self {
        Self {
            filter: w.filter,
            page: ListOptions {
                page_size: w.limit,
                pagination_token: w.pagination_token,
            },
        }
    }
}

impl From<ListFilesOptions> for ListFilesWire {
    fn from(o: ListFilesOptions) -> Self {
        Self {
            filter: o.filter,
            limit: o.page.page_size,
            pagination_token: o.page.pagination_token,
        }
    }
}

impl ListFilesOptions {
    /// Every file, server page size, from the first page.
    ///
    /// ```
    /// use pinecone_assistant::models::ListFilesOptions;
    /// let opts = ListFilesOptions::new();
    /// # let _ = opts;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// Keeps only files whose metadata matches, e.g.
        /// `{"department": {"$eq": "billing"}}` (conditions on top-level metadata keys;
        /// the server ignores a filter wrapped in `{"metadata": …}`). Defaults to no
        /// filter.
        ///
        /// ```
        /// use pinecone_assistant::models::ListFilesOptions;
        /// let opts = ListFilesOptions::new().filter(serde_json::json!({"team": "finance"}));
        /// # let _ = opts;
        /// ```
        filter(filter: Value) => filter = Some(filter);
    }

    paging_setters!(ListFilesOptions);
}

/// Options of [`Assistant::list_operations`](crate::Assistant::list_operations)
/// and [`Assistant::list_operations_page`](crate::Assistant::list_operations_page).
///
/// The filters take the wire spellings, exactly: `operation_type` one of
/// [`OperationType::KNOWN`], `status` one of [`OperationStatus::KNOWN`]
/// (case-sensitive, no trimming); the typed enums convert too. As JSON:
/// `operation_type`, `status`, `limit`, `pagination_token`; any other key is
/// refused.
///
/// ```
/// use pinecone_assistant::models::{ListOperationsOptions, OperationStatus};
/// let opts = ListOperationsOptions::new()
///     .operation_type("upload_file")
///     .status(OperationStatus::Failed);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ListOperationsWire", into = "ListOperationsWire")]
#[must_use]
#[non_exhaustive]
pub struct ListOperationsOptions {
    /// Only operations of this type.
    pub operation_type: Option<String>,
    /// Only operations in this status.
    pub status: Option<String>,
    /// Page size and starting point.
    pub page: ListOptions,
}

/// The JSON form of [`ListOperationsOptions`]: flat, with the wire names.
#[derive(Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ListOperationsWire {
    #[serde(skip_serializing_if = "Option::is_none")]
    operation_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pagination_token: Option<String>,
}

impl From<ListOperationsWire> for ListOperationsOptions {
    fn from(w: ListOperationsWire) -> Self {
        Self {
            operation_type: w.operation_type,
            status: w.status,
            page: ListOptions {
                page_size: w.limit,
                pagination_token: w.pagination_token,
            },
        }
    }
}

impl From<ListOperationsOptions> for ListOperationsWire {
    fn from(o: ListOperationsOptions) -> Self {
        Self {
            operation_type: o.operation_type,
            status: o.status,
            limit: o.page.page_size,
            pagination_token: o.page.pagination_token,
        }
    }
}

impl ListOperationsOptions {
    /// Every operation, server page size, from the first page.
    ///
    /// ```
    /// use pinecone_assistant::models::ListOperationsOptions;
    /// let opts = ListOperationsOptions::new();
    /// # let _ = opts;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// Only operations of this type: `upload_file`, `upsert_file`,
        /// `update_file_metadata` or `delete_file`. Defaults to every type.
        ///
        /// ```
        /// use pinecone_assistant::models::ListOperationsOptions;
        /// let opts = ListOperationsOptions::new().operation_type("delete_file");
        /// # let _ = opts;
        /// ```
        operation_type(operation_type: impl Into<String>) => operation_type = Some(operation_type.into());
        /// Only operations in this status: `Processing`, `Completed` or `Failed`.
        /// Defaults to every status.
        ///
        /// ```
        /// use pinecone_assistant::models::ListOperationsOptions;
        /// let opts = ListOperationsOptions::new().status("Processing");
        /// # let _ = opts;
        /// ```
        status(status: impl Into<String>) => status = Some(status.into());
    }

    paging_setters!(ListOperationsOptions);
}

impl From<OperationType> for String {
    fn from(t: OperationType) -> Self {
        t.as_str().to_owned()
    }
}

impl From<OperationStatus> for String {
    fn from(s: OperationStatus) -> Self {
        s.as_str().to_owned()
    }
}

/// What [`Assistant::upload_file`](crate::Assistant::upload_file) returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UploadResult {
    /// The last state of the upload's operation that was seen: the accepted one
    /// with [`Wait::No`](crate::Wait::No), the completed one after a wait. Its
    /// `ingestion_units` are set once the processing has completed.
    pub operation: OperationModel,
    /// The file as described after the upload; `None` when no description was
    /// available (with `Wait::No` the file record may not exist yet, and a server
    /// that names no file id leaves nothing to describe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileModel>,
    /// The raw `Location` header of the 202 answer (the operation's path below the
    /// data-plane base, e.g. `/operations/docs/op-1`), when the server sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_options_read_and_write_the_wire_names() {
        let files: ListFilesOptions = serde_json::from_str(
            r#"{"filter":{"team":"finance"},"limit":2,"pagination_token":"t"}"#,
        )
        .unwrap();
        assert_eq!(
            files,
            ListFilesOptions::new()
                .filter(serde_json::json!({"team": "finance"}))
                .page_size(2)
                .pagination_token("t")
        );
        assert_eq!(
            serde_json::to_string(&files).unwrap(),
            r#"{"filter":{"team":"finance"},"limit":2,"pagination_token":"t"}"#
        );
        let ops: ListOperationsOptions =
            serde_json::from_str(r#"{"status":"Failed","limit":3}"#).unwrap();
        assert_eq!(
            ops,
            ListOperationsOptions::new().status("Failed").page_size(3)
        );
        let page: ListOptions = serde_json::from_str("{}").unwrap();
        assert_eq!(page, ListOptions::new());
        let describe: DescribeFileOptions =
            serde_json::from_str(r#"{"include_url":true}"#).unwrap();
        assert!(describe.include_url);
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let err = serde_json::from_str::<ListFilesOptions>(r#"{"limt":2}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `limt`"), "{err}");
        let err = serde_json::from_str::<ListOperationsOptions>(r#"{"page_size":2}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `page_size`"),
            "{err}"
        );
        let err = serde_json::from_str::<ListOptions>(r#"{"filter":{}}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `filter`"), "{err}");
        let err =
            serde_json::from_str::<DescribeFileOptions>(r#"{"include_urls":true}"#).unwrap_err();
        assert!(err.to_string().contains("include_urls"), "{err}");
    }

    #[test]
    fn the_refusal_lists_the_accepted_keys() {
        let err = serde_json::from_str::<ListFilesOptions>(r#"{"limt":2}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected one of `filter`, `limit`, `pagination_token`"),
            "{err}"
        );
        let err = serde_json::from_str::<ListOperationsOptions>(r#"{"kind":"x"}"#).unwrap_err();
        assert!(
            err.to_string().contains(
                "expected one of `operation_type`, `status`, `limit`, `pagination_token`"
            ),
            "{err}"
        );
    }
}
