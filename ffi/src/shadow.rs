//! Stand-ins for the list and describe option types, which do not yet decode
//! the keys the C API takes (`limit` for the page size) nor refuse unknown keys.
//! Each converts into the option type it stands for.

use ::pinecone_assistant::models::{
    DescribeFileOptions, ListFilesOptions, ListOperationsOptions, ListOptions,
};
use serde::Deserialize;
use serde_json::Value;

/// `limit` (the page size) and `pagination_token` (the page to start from).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Paging {
    limit: Option<u32>,
    pagination_token: Option<String>,
}

pub(crate) fn list_options(p: Paging) -> ListOptions {
    let mut o = ListOptions::new();
    o.page_size = p.limit;
    o.pagination_token = p.pagination_token;
    o
}

/// The options of a file listing.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileQuery {
    limit: Option<u32>,
    pagination_token: Option<String>,
    filter: Option<Value>,
}

pub(crate) fn files(q: FileQuery) -> ListFilesOptions {
    let mut o = ListFilesOptions::new();
    o.page_size = q.limit;
    o.pagination_token = q.pagination_token;
    o.filter = q.filter;
    o
}

/// The options of an operation listing.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct OperationQuery {
    limit: Option<u32>,
    pagination_token: Option<String>,
    operation_type: Option<String>,
    status: Option<String>,
}

pub(crate) fn operations(q: OperationQuery) -> ListOperationsOptions {
    let mut o = ListOperationsOptions::new();
    o.page_size = q.limit;
    o.pagination_token = q.pagination_token;
    o.operation_type = q.operation_type;
    o.status = q.status;
    o
}

/// The options of a file description.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct DescribeFile {
    include_url: Option<bool>,
}

pub(crate) fn describe_file(d: DescribeFile) -> DescribeFileOptions {
    DescribeFileOptions::new().include_url(d.include_url.unwrap_or(false))
}
