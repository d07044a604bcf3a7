//! Files and operations: upload and upsert, describe, list and delete files, and the
//! operations that follow uploads and deletions (wire shapes: docs/wire/endpoints.md).

use std::time::Duration;

use crate::assistant::Assistant;
use crate::error::{Error, Result};
use crate::http::retry::RequestClass;
use crate::http::url::Query;
use crate::http::{Body, Method, Request};
use crate::models::{
    DescribeFileOptions, FileModel, ListFilesOptions, ListFilesResponse, ListOperationsOptions,
    OperationList, OperationModel, OperationStatus, OperationType, UploadFile, UploadResult,
};
use crate::pagination::{Page, Paginator, check_page_size};
use crate::polling::{Pending, Poll, Wait};
use crate::upload::Prepared;

impl Assistant {
    /// Uploads a file, streaming it from disk or from a reader in constant memory,
    /// and by default waits until the assistant has processed it.
    ///
    /// Without a [`file_id`](UploadFile::file_id) this is a `POST` that creates a new
    /// file; with one it is a `PUT` that creates or replaces the file with that id.
    /// The server answers with an operation; then, per `wait`:
    /// - [`Wait::No`]: the file is described once and returned with the accepted
    ///   operation (`file` is `None` when the server has no record of it yet);
    /// - otherwise the operation is polled on the client's
    ///   [poll schedule](crate::PollSchedule) (the first poll 250 ms after the
    ///   upload was accepted, then less often, up to
    ///   [`operation_poll_interval`](crate::ClientConfigBuilder::operation_poll_interval))
    ///   until it completes, and the processed file is described and returned.
    ///
    /// A plain upload is retried only when the server cannot have stored it (a
    /// refused connection, 408, 429, a 503 with `Retry-After`), and only when the
    /// body can be sent again: a path is reopened, a seekable reader rewound, a plain
    /// reader never once read from. Cancelling the client's
    /// [`CancelHandle`](crate::CancelHandle) stops the upload mid-body.
    ///
    /// ```no_run
    /// use pinecone_assistant::{Client, Wait};
    /// use pinecone_assistant::models::UploadFile;
    /// use serde_json::json;
    ///
    /// let docs = Client::from_env()?.assistant("docs");
    /// let done = docs.upload_file(
    ///     UploadFile::path("q3-report.pdf").metadata(json!({"team": "finance"})),
    ///     Wait::Forever,
    /// )?;
    /// println!("{:?} is {:?}", done.file.map(|f| f.id), done.operation.status);
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidArgument`] before any request: an empty `file_id`, a path
    ///   that is not an existing regular file, a reader's `file_name` without an
    ///   extension, metadata that is not a JSON object;
    /// - [`Error::Io`] when the source cannot be opened or read, or yields a length
    ///   other than the one declared;
    /// - [`Error::OperationFailed`] when processing fails, with the server's message;
    /// - [`Error::WaitTimeout`] when a [`Wait::For`] deadline passes (the processing
    ///   goes on; the error names the operation to follow);
    /// - [`Error::Cancelled`] when the cancel handle fires;
    /// - API, transport and decode errors.
    pub fn upload_file(&self, upload: UploadFile, wait: Wait) -> Result<UploadResult> {
        let Prepared {
            file_id,
            multimodal,
            mut body,
        } = upload.prepare()?;
        body.cancel = Some(self.client.cancel.clone());
        let (method, class, mut url) = match &file_id {
            Some(id) => (
                Method::Put,
                RequestClass::ReplaySafe,
                self.path("files", &[("file_id", id)])?,
            ),
            None => (
                Method::Post,
                RequestClass::Creating,
                self.path("files", &[])?,
            ),
        };
        let mut query = Query::new();
        query.push_opt("multimodal", multimodal);
        url.push_str(query.as_str());
        let chunked = body.is_chunked();
        let reply = self
            .call_data(Request::new(method, url, class).body(Body::Source(&mut body)))
            .map_err(|e| if chunked { name_the_length_fix(e) } else { e })?;
        // Closes a file opened from a path before any waiting starts.
        drop(body);
        let accepted: OperationModel = reply.decode("upload operation")?;
        let location = reply.location;
        let known_id = |op: &OperationModel| op.file_id.clone().filter(|id| !id.is_empty());
        let file_id_given = file_id.is_some();
        let target = file_id.or_else(|| known_id(&accepted));
        if wait == Wait::No {
            let file = match &target {
                Some(id) => match self.describe_file(id) {
                    Ok(file) => Some(file),
                    // Not yet visible: the upload itself was accepted.
                    Err(e) if e.is_not_found() => None,
                    Err(e) => return Err(e),
                },
                None => None,
            };
            return Ok(UploadResult {
                operation: accepted,
                file,
                location,
            });
        }
        let kind = if file_id_given {
            OperationType::UpsertFile
        } else {
            OperationType::UploadFile
        };
        let done = self
            .wait_for_operation(&accepted.id, wait)
            .map_err(|e| with_context(e, kind, target.as_deref()))?;
        let file = match target.or_else(|| known_id(&done)) {
            Some(id) => Some(self.describe_file(&id)?),
            None => None,
        };
        Ok(UploadResult {
            operation: done,
            file,
            location,
        })
    }

    /// Describes one file. [`describe_file_with`](Self::describe_file_with) also
    /// asks for a download link.
    ///
    /// ```no_run
    /// # let docs = pinecone_assistant::Client::from_env()?.assistant("docs");
    /// let file = docs.describe_file("q3-report")?;
    /// println!("{} {:?}", file.name, file.status);
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when there is no such file (or assistant);
    /// [`Error::InvalidArgument`] for an empty id; API, transport and decode errors.
    pub fn describe_file(&self, file_id: &str) -> Result<FileModel> {
        self.describe_file_with(file_id, DescribeFileOptions::new())
    }

    /// [`describe_file`](Self::describe_file) with options: a signed download link.
    ///
    /// ```no_run
    /// # let docs = pinecone_assistant::Client::from_env()?.assistant("docs");
    /// use pinecone_assistant::models::DescribeFileOptions;
    /// let options = DescribeFileOptions::new().include_url(true);
    /// let file = docs.describe_file_with("q3-report", options)?;
    /// println!("{} {:?}", file.name, file.signed_url);
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`describe_file`](Self::describe_file).
    pub fn describe_file_with(
        &self,
        file_id: &str,
        options: DescribeFileOptions,
    ) -> Result<FileModel> {
        let mut url = self.path("files", &[("file_id", file_id)])?;
        if options.include_url {
            // `false` is the server's default and is never sent.
            url.push_str("?include_url=true");
        }
        self.json_data(Request::get(url), "file description")
    }

    /// One page of files.
    ///
    /// ```no_run
    /// # let docs = pinecone_assistant::Client::from_env()?.assistant("docs");
    /// use pinecone_assistant::models::ListFilesOptions;
    /// let page = docs.list_files_page(ListFilesOptions::new().page_size(50))?;
    /// for file in &page.files {
    ///     println!("{} {}", file.id, file.name);
    /// }
    /// let next = page.next_token();
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a page size of 0; [`Error::NotFound`] when the
    /// assistant does not exist; API, transport and decode errors.
    pub fn list_files_page(&self, options: ListFilesOptions) -> Result<ListFilesResponse> {
        let filter = options.filter.map(|f| f.to_string());
        self.fetch_files(
            options.page.pagination_token.as_deref(),
            options.page.page_size,
            filter.as_deref(),
        )
    }

    /// Every file, fetched page by page as the iterator advances. Nothing is sent
    /// before the first `next()`; see [`Paginator`] for page sizes, a maximum
    /// number of items and resuming, and [`list_files_with`](Self::list_files_with)
    /// for a metadata filter.
    ///
    /// ```no_run
    /// # let docs = pinecone_assistant::Client::from_env()?.assistant("docs");
    /// for file in docs.list_files() {
    ///     println!("{}", file?.name);
    /// }
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn list_files(&self) -> Paginator<FileModel> {
        self.files_paginator(ListFilesOptions::new())
    }

    /// [`list_files`](Self::list_files) with options: a metadata filter, sent with
    /// every page, a page size and a starting page.
    ///
    /// ```no_run
    /// # let docs = pinecone_assistant::Client::from_env()?.assistant("docs");
    /// use pinecone_assistant::models::ListFilesOptions;
    /// use serde_json::json;
    /// let finance = docs.list_files_with(ListFilesOptions::new().filter(json!({"team": "finance"})))?;
    /// for file in finance.max_items(100) {
    ///     println!("{}", file?.name);
    /// }
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a page size of 0, here rather than from the
    /// first `next()`; nothing is sent.
    pub fn list_files_with(&self, options: ListFilesOptions) -> Result<Paginator<FileModel>> {
        check_page_size(options.page.page_size)?;
        Ok(self.files_paginator(options))
    }

    fn files_paginator(&self, options: ListFilesOptions) -> Paginator<FileModel> {
        let this = self.clone();
        let filter = options.filter.map(|f| f.to_string());
        let mut pages = Paginator::new(move |token, page_size| {
            let page = this.fetch_files(token, page_size, filter.as_deref())?;
            let next = page.next_token();
            Ok(Page::new(page.files, next))
        });
        if let Some(size) = options.page.page_size {
            pages = pages.page_size(size);
        }
        if let Some(token) = options.page.pagination_token {
            pages = pages.starting_from(token);
        }
        pages
    }

    fn fetch_files(
        &self,
        token: Option<&str>,
        page_size: Option<u32>,
        filter: Option<&str>,
    ) -> Result<ListFilesResponse> {
        check_page_size(page_size)?;
        let mut url = self.path("files", &[])?;
        let mut query = Query::new();
        query
            .push_opt("limit", page_size)
            .push_opt("pagination_token", token)
            .push_opt("filter", filter);
        url.push_str(query.as_str());
        self.json_data(Request::get(url), "file list")
    }

    /// Deletes a file and by default waits until it is gone.
    ///
    /// The server either deletes at once (`204`; returns `None`) or starts a deletion
    /// operation (`202`), which is polled to completion unless `wait` is
    /// [`Wait::No`]; the last state of that operation is returned. A retried delete
    /// that finds the file already gone counts as done.
    ///
    /// ```no_run
    /// # let docs = pinecone_assistant::Client::from_env()?.assistant("docs");
    /// use pinecone_assistant::Wait;
    /// docs.delete_file("q3-report", Wait::Forever)?;
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when there is no such file; [`Error::OperationFailed`]
    /// when the deletion fails; [`Error::WaitTimeout`] after a [`Wait::For`]
    /// deadline; [`Error::InvalidArgument`] for an empty id; API and transport errors.
    pub fn delete_file(&self, file_id: &str, wait: Wait) -> Result<Option<OperationModel>> {
        let url = self.path("files", &[("file_id", file_id)])?;
        let mut req = Request::new(Method::Delete, url, RequestClass::ReplaySafe);
        req.replayed_not_found_is_success = true;
        let reply = self.call_data(req)?;
        // 204, an empty 2xx, or a replayed DELETE that found the file gone.
        if reply.status == 204 || reply.status == 404 || reply.body.trim_ascii().is_empty() {
            return Ok(None);
        }
        let op: OperationModel = match reply.decode("file deletion operation") {
            Ok(op) => op,
            Err(e) if reply.status == 202 => return Err(e),
            // A success without an operation: nothing to follow.
            Err(e) => {
                log::debug!(
                    "delete of file \"{file_id}\" answered {}: {e}",
                    reply.status
                );
                return Ok(None);
            }
        };
        if wait == Wait::No {
            return Ok(Some(op));
        }
        self.wait_for_operation(&op.id, wait)
            .map(Some)
            .map_err(|e| with_context(e, OperationType::DeleteFile, Some(file_id)))
    }

    /// Describes an operation, e.g. to follow an upload or deletion started with
    /// [`Wait::No`]. Decide by `status`, not by `error_message` (the server keeps
    /// an earlier failure's text when it retries).
    ///
    /// ```no_run
    /// # let docs = pinecone_assistant::Client::from_env()?.assistant("docs");
    /// let op = docs.describe_operation("op-3c1f2a9e")?;
    /// println!("{:?} {:?}%", op.status, op.percent_complete);
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when there is no such operation (finished operations are
    /// kept 30 days); [`Error::InvalidArgument`] for an empty id; API, transport and
    /// decode errors.
    pub fn describe_operation(&self, operation_id: &str) -> Result<OperationModel> {
        Ok(self.describe_operation_for_poll(operation_id)?.0)
    }

    /// [`describe_operation`](Self::describe_operation), with the `Retry-After` of
    /// the answer for a wait.
    fn describe_operation_for_poll(
        &self,
        operation_id: &str,
    ) -> Result<(OperationModel, Option<Duration>)> {
        let url = self.path("operations", &[("operation_id", operation_id)])?;
        let reply = self.call_data(Request::get(url))?;
        Ok((reply.decode("operation")?, reply.retry_after))
    }

    /// Polls an operation on the client's [poll schedule](crate::PollSchedule), with
    /// delays up to
    /// [`operation_poll_interval`](crate::ClientConfigBuilder::operation_poll_interval),
    /// until it completes, and returns its final state. `Completed` counts as done,
    /// and so does a status this version does not know once it carries
    /// `completed_on`.
    ///
    /// ```no_run
    /// # let docs = pinecone_assistant::Client::from_env()?.assistant("docs");
    /// use std::time::Duration;
    /// use pinecone_assistant::Wait;
    /// let op = docs.wait_for_operation("op-3c1f2a9e", Wait::For(Duration::from_secs(600)))?;
    /// println!("used {:?} ingestion units", op.ingestion_units);
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::OperationFailed`] quoting the server's `error_message`;
    /// [`Error::WaitTimeout`] with the operation id and last progress when a
    /// [`Wait::For`] deadline passes; [`Error::Cancelled`]; errors of
    /// [`describe_operation`](Self::describe_operation). With [`Wait::No`] the
    /// operation is described once and returned whatever its state.
    pub fn wait_for_operation(&self, operation_id: &str, wait: Wait) -> Result<OperationModel> {
        if wait == Wait::No {
            return self.describe_operation(operation_id);
        }
        if operation_id.is_empty() {
            return Err(Error::Decode {
                what: "operation".into(),
                message: "the server named no operation id to follow".into(),
                body: String::new(),
            });
        }
        self.client.poll(
            wait,
            self.client.config().operation_poll_interval(),
            || format!("operation \"{operation_id}\" to complete"),
            || {
                let (op, retry_after) = self.describe_operation_for_poll(operation_id)?;
                if op.is_failed() {
                    return Err(Error::OperationFailed {
                        operation_id: operation_id.to_owned(),
                        operation_type: op.operation_type,
                        file_id: op.file_id.filter(|id| !id.is_empty()),
                        message: op
                            .error_message
                            .filter(|m| !m.is_empty())
                            .unwrap_or_else(|| "the server gave no error message".into()),
                    });
                }
                if op.is_completed() {
                    return Ok(Poll::Done(op));
                }
                Ok(Poll::Pending(Pending {
                    status: op.progress_text(),
                    operation_id: Some(op.id),
                    percent_complete: op.percent_complete,
                    retry_after,
                }))
            },
        )
    }

    /// One page of operations (running ones, and finished ones for 30 days).
    ///
    /// ```no_run
    /// # let docs = pinecone_assistant::Client::from_env()?.assistant("docs");
    /// use pinecone_assistant::models::ListOperationsOptions;
    /// let page = docs.list_operations_page(
    ///     ListOperationsOptions::new().operation_type("upload_file").status("Completed").page_size(3),
    /// )?;
    /// let next = page.next_token();
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`], before any request, for an `operation_type` or
    /// `status` that is not exactly one of the known values (the message lists them)
    /// or a page size of 0; API, transport and decode errors.
    pub fn list_operations_page(&self, options: ListOperationsOptions) -> Result<OperationList> {
        check_operation_options(&options)?;
        self.fetch_operations(
            &options,
            options.page.pagination_token.as_deref(),
            options.page.page_size,
        )
    }

    /// Every operation (running ones, and finished ones for 30 days), fetched page
    /// by page as the iterator advances. Nothing is sent before the first
    /// `next()`; [`list_operations_with`](Self::list_operations_with) filters.
    ///
    /// ```no_run
    /// # let docs = pinecone_assistant::Client::from_env()?.assistant("docs");
    /// for op in docs.list_operations().max_items(20) {
    ///     let op = op?;
    ///     println!("{} {:?}", op.id, op.status);
    /// }
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn list_operations(&self) -> Paginator<OperationModel> {
        self.operations_paginator(ListOperationsOptions::new())
    }

    /// [`list_operations`](Self::list_operations) with options: filters by type and
    /// status, sent with every page, a page size and a starting page.
    ///
    /// ```no_run
    /// # let docs = pinecone_assistant::Client::from_env()?.assistant("docs");
    /// use pinecone_assistant::models::ListOperationsOptions;
    /// for op in docs.list_operations_with(ListOperationsOptions::new().status("Failed"))? {
    ///     let op = op?;
    ///     println!("{} {:?}", op.id, op.error_message);
    /// }
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an `operation_type` or `status` that is not
    /// exactly one of the known values (the message lists them) or a page size of
    /// 0, here where the options are given rather than from the first `next()`;
    /// nothing is sent.
    pub fn list_operations_with(
        &self,
        options: ListOperationsOptions,
    ) -> Result<Paginator<OperationModel>> {
        check_operation_options(&options)?;
        Ok(self.operations_paginator(options))
    }

    fn operations_paginator(&self, options: ListOperationsOptions) -> Paginator<OperationModel> {
        let this = self.clone();
        let start = options.page.pagination_token.clone();
        let size = options.page.page_size;
        let mut pages = Paginator::new(move |token, page_size| {
            let page = this.fetch_operations(&options, token, page_size)?;
            let next = page.next_token();
            Ok(Page::new(page.operations, next))
        });
        if let Some(size) = size {
            pages = pages.page_size(size);
        }
        if let Some(token) = start {
            pages = pages.starting_from(token);
        }
        pages
    }

    fn fetch_operations(
        &self,
        options: &ListOperationsOptions,
        token: Option<&str>,
        page_size: Option<u32>,
    ) -> Result<OperationList> {
        check_page_size(page_size)?;
        let mut url = self.path("operations", &[])?;
        let mut query = Query::new();
        query
            .push_opt("operation_type", options.operation_type.as_deref())
            .push_opt("status", options.status.as_deref())
            .push_opt("limit", page_size)
            .push_opt("pagination_token", token);
        url.push_str(query.as_str());
        self.json_data(Request::get(url), "operation list")
    }
}

/// An operation failure completed with what the call that started the operation
/// knows, where the server's operation left it out: the kind of work and the file.
fn with_context(error: Error, kind: OperationType, file: Option<&str>) -> Error {
    match error {
        Error::OperationFailed {
            operation_id,
            operation_type,
            file_id,
            message,
        } => Error::OperationFailed {
            operation_id,
            operation_type: operation_type.or(Some(kind)),
            file_id: file_id.or_else(|| file.map(str::to_owned)),
            message,
        },
        other => other,
    }
}

/// A 411 (length required) or 400 answer to a chunked upload, with the fix added
/// to the server's message: the service may refuse a body without a length.
fn name_the_length_fix(error: Error) -> Error {
    match error {
        Error::Api(mut api) if matches!(api.status, 400 | 411) => {
            api.message.push_str(
                " (this upload went out chunked, without a Content-Length, because its \
                 reader has no known length, which the service may refuse: give the length \
                 with UploadFile::reader(reader, file_name, length), or upload with \
                 UploadFile::bytes, UploadFile::seekable or UploadFile::path)",
            );
            Error::Api(api)
        }
        other => other,
    }
}

/// The filters must be spelled exactly as the server knows them: a typo would
/// otherwise silently match nothing.
fn check_operation_options(options: &ListOperationsOptions) -> Result<()> {
    fn one_of(name: &str, value: Option<&str>, known: &[&str]) -> Result<()> {
        match value {
            Some(v) if !known.contains(&v) => Err(Error::invalid(
                name,
                format!(
                    "must be exactly one of {} (case-sensitive); got \"{v}\"",
                    known
                        .iter()
                        .map(|k| format!("\"{k}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            _ => Ok(()),
        }
    }
    one_of(
        "operation_type",
        options.operation_type.as_deref(),
        OperationType::KNOWN,
    )?;
    one_of("status", options.status.as_deref(), OperationStatus::KNOWN)?;
    check_page_size(options.page.page_size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_filters_are_exact() {
        let ok = ListOperationsOptions::new()
            .operation_type(OperationType::UpdateFileMetadata)
            .status("Completed");
        assert!(check_operation_options(&ok).is_ok());
        for (opts, name) in [
            (
                ListOperationsOptions::new().operation_type("upload"),
                "operation_type",
            ),
            (ListOperationsOptions::new().status("processing"), "status"),
            (ListOperationsOptions::new().status("Completed "), "status"),
            (ListOperationsOptions::new().page_size(0), "page_size"),
        ] {
            match check_operation_options(&opts) {
                Err(Error::InvalidArgument { name: n, reason }) => {
                    assert_eq!(n, name);
                    if name == "status" {
                        assert!(reason.contains("\"Processing\", \"Completed\", \"Failed\""));
                    }
                }
                other => panic!("{opts:?}: {other:?}"),
            }
        }
    }
}
