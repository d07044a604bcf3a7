//! `files list | upload | describe | delete` and `operations list | describe | wait`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use pinecone_assistant::models::{
    DescribeFileOptions, ListFilesOptions, ListOperationsOptions, UploadFile, UploadResult,
};
use pinecone_assistant::{Assistant, Client, Error, Wait};
use serde_json::{Value, json};

use crate::args::{FilesCommand, OperationsCommand, wait_for};
use crate::exit::Failure;
use crate::optional::Optionally;
use crate::output::Output;
use crate::progress::Progress;
use crate::show;

pub fn files(client: &Client, command: FilesCommand, out: Output) -> Result<(), Failure> {
    match command {
        FilesCommand::List {
            target,
            filter,
            list,
        } => {
            let options = ListFilesOptions::new().optionally(filter, |o, v| o.filter(v));
            let assistant = client.assistant(target.assistant);
            let files = list.collect(assistant.list_files_with(options)?)?;
            out.list(&files, &show::FILE_COLUMNS, show::file_row, "no files")
        }
        FilesCommand::Upload {
            target,
            paths,
            metadata,
            multimodal,
            wait,
            jobs,
        } => upload(
            &client.assistant(target.assistant),
            &paths,
            &UploadOptions {
                metadata,
                multimodal,
                wait: wait.wait(),
                jobs: usize::from(jobs),
            },
            out,
        ),
        FilesCommand::Describe {
            target,
            file_id,
            url,
        } => {
            let options = DescribeFileOptions::new().include_url(url);
            let file = client
                .assistant(target.assistant)
                .describe_file_with(&file_id, options)?;
            out.one(&file, show::file)
        }
        FilesCommand::Delete {
            target,
            file_id,
            wait,
        } => {
            let waiting = (!wait.no_wait)
                .then(|| Progress::for_stderr().waiting(&format!("file {file_id} to be deleted")));
            let operation = client
                .assistant(target.assistant)
                .delete_file(&file_id, wait.wait())?;
            drop(waiting);
            let state = if wait.no_wait { "deleting" } else { "deleted" };
            let report = json!({
                "file_id": file_id,
                "status": state,
                "operation": operation,
            });
            out.one(&report, |_| {
                let op = operation
                    .as_ref()
                    .map(|o| format!(" (operation {})", o.id))
                    .unwrap_or_default();
                format!("{state} file {file_id}{op}\n")
            })
        }
    }
}

/// Uploads the paths, `jobs` at a time (each upload waits for its processing
/// unless `--no-wait`, so side by side they finish sooner). A file that fails
/// does not stop the others; the command then reports each failure and fails
/// with the first one's class. Ctrl-C stops them all.
fn upload(
    assistant: &Assistant,
    paths: &[PathBuf],
    options: &UploadOptions,
    out: Output,
) -> Result<(), Failure> {
    let progress = Progress::for_stderr();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<UploadResult, Error>>>> =
        Mutex::new(paths.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.clamp(1, paths.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = paths.get(i) else { break };
                    let result = upload_one(assistant, path, options, &progress);
                    let stop = matches!(result, Err(Error::Cancelled));
                    lock(&results)[i] = Some(result);
                    if stop {
                        break;
                    }
                }
            });
        }
    });
    let mut rows = Vec::new();
    let mut first_failure = None;
    for (path, result) in paths.iter().zip(lock(&results).drain(..)) {
        match result {
            // Ctrl-C stops the whole command, not just this file.
            Some(Err(Error::Cancelled)) => return Err(Error::Cancelled.into()),
            Some(Ok(uploaded)) if out.json => out.json_line(&uploaded)?,
            Some(Ok(uploaded)) => rows.push(upload_row(&uploaded, display_name(path))),
            Some(Err(e)) => {
                let failure = Failure::from(e);
                crate::report(
                    &format!("{}: {failure}", path.display()),
                    failure.class,
                    out,
                );
                first_failure.get_or_insert(failure);
            }
            // Not started: an earlier upload was cancelled.
            None => return Err(Error::Cancelled.into()),
        }
    }
    if !rows.is_empty() {
        out.text(&crate::output::table(
            &["FILE", "STATUS", "OPERATION", "NAME"],
            &rows,
        ))?;
    }
    match first_failure {
        Some(failure) => Err(failure.reported()),
        None => Ok(()),
    }
}

/// What `files upload` applies to every file.
struct UploadOptions {
    metadata: Option<Value>,
    multimodal: bool,
    wait: Wait,
    jobs: usize,
}

fn upload_one(
    assistant: &Assistant,
    path: &Path,
    options: &UploadOptions,
    progress: &Progress,
) -> Result<UploadResult, Error> {
    let total = std::fs::metadata(path).ok().map(|m| m.len());
    let waits = options.wait != Wait::No;
    let bar = Arc::new(Mutex::new(progress.upload(
        &display_name(path),
        total,
        waits,
    )));
    let mut upload = UploadFile::path(path).multimodal(options.multimodal);
    if let Some(metadata) = &options.metadata {
        upload = upload.metadata(metadata.clone());
    }
    let callback = Arc::clone(&bar);
    upload = upload.on_progress(move |sent, total| lock(&callback).sent(sent, total));
    let result = assistant.upload_file(upload, options.wait);
    lock(&bar).finish();
    result
}

fn upload_row(uploaded: &UploadResult, name: String) -> Vec<String> {
    let file = uploaded.file.as_ref();
    vec![
        file.map_or_else(
            || uploaded.operation.file_id.clone().unwrap_or_default(),
            |f| f.id.clone(),
        ),
        file.and_then(|f| f.status.as_ref()).map_or_else(
            || uploaded.operation.status.to_string(),
            ToString::to_string,
        ),
        uploaded.operation.id.clone(),
        name,
    ]
}

/// Locks `mutex`, also after a panic elsewhere (the data stays usable).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

pub fn operations(client: &Client, command: OperationsCommand, out: Output) -> Result<(), Failure> {
    match command {
        OperationsCommand::List {
            target,
            operation_type,
            status,
            list,
        } => {
            let options = ListOperationsOptions::new()
                .optionally(operation_type, |o, v| o.operation_type(v))
                .optionally(status, |o, v| o.status(v));
            let assistant = client.assistant(target.assistant);
            let operations = list.collect(assistant.list_operations_with(options)?)?;
            out.list(
                &operations,
                &show::OPERATION_COLUMNS,
                show::operation_row,
                "no operations",
            )
        }
        OperationsCommand::Describe {
            target,
            operation_id,
        } => {
            let operation = client
                .assistant(target.assistant)
                .describe_operation(&operation_id)?;
            out.one(&operation, show::operation)
        }
        OperationsCommand::Wait {
            target,
            operation_id,
            timeout,
        } => {
            let waiting =
                Progress::for_stderr().waiting(&format!("operation {operation_id} to finish"));
            let wait: Wait = wait_for(false, timeout);
            let operation = client
                .assistant(target.assistant)
                .wait_for_operation(&operation_id, wait)?;
            drop(waiting);
            out.one(&operation, show::operation)
        }
    }
}
