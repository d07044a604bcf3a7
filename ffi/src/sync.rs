//! Keeping an assistant in sync with a local folder: plan (a dry run), execute a
//! plan, or both at once, with JSON options, a JSON plan and report, and one
//! progress callback receiving JSON events.

use std::ffi::{CString, c_char, c_void};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ::pinecone_assistant::sync::{PlanEntry, SyncEvent, SyncOptions, SyncPlan, SyncReport};
use ::pinecone_assistant::{Assistant, Error};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::assistant::pinecone_assistant;
use crate::boundary::FfiError;
use crate::client::set;
use crate::error::{error_document, pinecone_result};
use crate::exclusive::pinecone_json_cb;

/// The options of the sync functions, as JSON; every key is optional. What to
/// sync: `include` and `exclude` (arrays of gitignore-style patterns),
/// `gitignore`, `hidden`, `follow_symlinks`, `delete_missing`, `multimodal`
/// (booleans) and `metadata` (an object stored with every file). How: `workers`
/// and `fail_fast`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Options {
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    gitignore: Option<bool>,
    hidden: Option<bool>,
    follow_symlinks: Option<bool>,
    delete_missing: Option<bool>,
    multimodal: Option<bool>,
    metadata: Option<Map<String, Value>>,
    workers: Option<usize>,
    fail_fast: Option<bool>,
}

impl Options {
    fn into_rust(self) -> SyncOptions {
        type O = SyncOptions;
        let mut o = SyncOptions::new();
        o = set(o, self.include, O::include);
        o = set(o, self.exclude, O::exclude);
        o = set(o, self.gitignore, O::gitignore);
        o = set(o, self.hidden, O::hidden);
        o = set(o, self.follow_symlinks, O::follow_symlinks);
        o = set(o, self.delete_missing, O::delete_missing);
        o = set(o, self.multimodal, O::multimodal);
        if let Some(m) = self.metadata {
            let m = Value::Object(m);
            o = o.metadata(move |_| m.clone());
        }
        o = set(o, self.workers, O::workers);
        set(o, self.fail_fast, O::fail_fast)
    }
}

/// The progress callback with its userdata.
struct Progress {
    cb: unsafe extern "C" fn(*mut c_void, *const c_char) -> i32,
    userdata: *mut c_void,
}

// SAFETY: sync calls its progress function only on the thread that called the
// export, during that call (its workers pass events to that thread), which is
// where the C contract makes the callback and userdata valid.
unsafe impl Send for Progress {}

impl Progress {
    /// Passes `event` to C; `false` when the callback asked to stop.
    fn send(&self, event: &Value) -> bool {
        // serde_json escapes NUL, so the text has none.
        let text = CString::new(event.to_string()).unwrap_or_default();
        // SAFETY: a valid callback per the export's contract; `text` outlives the call.
        unsafe { (self.cb)(self.userdata, text.as_ptr()) == 0 }
    }
}

/// Runs `plan` for `assistant` with `options`, passing events to `cb`. A
/// non-zero return from `cb` stops the run (through a cancel handle of its own,
/// under the client's) and makes the call fail with `PINECONE_RESULT_ABORTED`.
fn execute(
    assistant: &Assistant,
    plan: &SyncPlan,
    options: SyncOptions,
    cb: pinecone_json_cb,
    userdata: *mut c_void,
) -> Result<Value, FfiError> {
    let stop = assistant.client().cancel_handle().child();
    let stoppable = assistant
        .client()
        .with_cancel_handle(stop.clone())
        .assistant(assistant.name());
    let aborted = Arc::new(AtomicBool::new(false));
    let options = match cb {
        None => options,
        Some(cb) => {
            let progress = Progress { cb, userdata };
            let aborted = Arc::clone(&aborted);
            options.on_progress(move |event| {
                if !aborted.load(Ordering::SeqCst) && !progress.send(&event_json(event)) {
                    aborted.store(true, Ordering::SeqCst);
                    stop.cancel();
                }
            })
        }
    };
    let report = stoppable.execute_sync(plan, &options)?;
    if aborted.load(Ordering::SeqCst) {
        return Err(FfiError::aborted("cb"));
    }
    Ok(report_json(&report))
}

/// A plan entry's identity in events and failures.
fn entry_json(entry: &PlanEntry) -> Map<String, Value> {
    let mut doc = Map::new();
    doc.insert("action".into(), entry.action.as_str().into());
    doc.insert("reason".into(), json!(entry.reason));
    doc.insert("file_id".into(), entry.file_id.clone().into());
    doc.insert("path".into(), entry.path.clone().into());
    doc
}

/// An error as in `pinecone_last_error_json`.
fn error_json(error: &Error) -> Value {
    let e = FfiError::from(error);
    Value::Object(error_document(e.code, &e.message, e.status, &e.extra))
}

fn event_json(event: &SyncEvent<'_>) -> Value {
    let mut doc = Map::new();
    doc.insert("event".into(), event.kind().into());
    doc.extend(entry_json(event.entry()));
    match event {
        SyncEvent::Uploading { sent, total, .. } => {
            doc.insert("sent".into(), (*sent).into());
            doc.insert("total".into(), json!(total));
        }
        SyncEvent::Processing {
            operation_id,
            percent_complete,
            ..
        } => {
            doc.insert("operation_id".into(), (*operation_id).into());
            doc.insert("percent_complete".into(), json!(percent_complete));
        }
        SyncEvent::Failed { error, .. } => {
            doc.insert("error".into(), error_json(error));
        }
        _ => {}
    }
    Value::Object(doc)
}

fn report_json(report: &SyncReport) -> Value {
    let failures: Vec<Value> = report
        .failures
        .iter()
        .map(|f| {
            let mut doc = entry_json(&f.entry);
            doc.insert("error".into(), error_json(&f.error));
            Value::Object(doc)
        })
        .collect();
    let mut doc = report.counts_json();
    doc.insert("complete".into(), report.is_complete().into());
    doc.insert("failures".into(), failures.into());
    Value::Object(doc)
}

/// Plans what it takes to make the assistant's files equal the folder at
/// `root`, changing nothing: the dry run. Reads and hashes the selected files
/// and lists the assistant's files.
///
/// - `root`: required, the folder (borrowed).
/// - `options_json`: NULL or an object with any of: `"include"`, `"exclude"`
///   (arrays of gitignore-style patterns; with no `include`, the types the
///   service reads are selected: .md .txt .pdf .json .docx), `"gitignore"`
///   (honour .gitignore files in the folder), `"hidden"` (include hidden files),
///   `"follow_symlinks"`, `"delete_missing"` (plan deletions of files an earlier
///   sync uploaded whose local file is gone), `"multimodal"` (for PDFs),
///   `"metadata"` (an object stored with every file), `"workers"` (threads,
///   1 to 256, default 8), `"fail_fast"`.
/// - `plan_json_out`: receives `{"entries":[{"action":"create"|"update"|
///   "delete"|"skip","reason":"new"|"content_changed"|...,"file_id":"...",
///   "path":"...","local_path":"...","size":N,"sha256":"...","metadata":{...}},
///   ...]}`; pass it to `pinecone_assistant_sync_execute` to carry it out. Free
///   it with `pinecone_string_free`; NULL first and on failure.
///
/// Each file's id is derived from its path relative to `root` (readable part,
/// `-`, 32 hexadecimal characters of SHA-256), and every upload stores the path
/// and a content hash in its metadata under `"pinecone_sync"`, so unchanged
/// files are skipped whoever synced last. Returns `PINECONE_RESULT_OK`,
/// `_NULL_ARGUMENT`, `_INVALID_UTF8`, `_INVALID_JSON`, `_INVALID_ARGUMENT` (root
/// not a directory, bad pattern, workers out of range), `_IO`, `_NOT_FOUND`
/// (no such assistant), `_API_ERROR`, `_TIMEOUT`, `_TRANSPORT`, `_DECODE`,
/// `_CANCELLED`. Thread-safe.
///
/// # Safety
///
/// `assistant` is NULL or live; strings are NULL or NUL-terminated;
/// `plan_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_sync_plan(
    assistant: *const pinecone_assistant,
    root: *const c_char,
    options_json: *const c_char,
    plan_json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(plan_json_out => json, {
        let assistant = arg!(assistant: handle);
        let root = arg!(root: str);
        let options: Options = arg!(options_json: opt_json);
        assistant.inner.plan_sync(root, &options.into_rust())?
    })
}

/// Carries out a plan made by `pinecone_assistant_sync_plan` (possibly edited,
/// e.g. to drop entries) on a pool of worker threads, and reports.
///
/// - `plan_json`: required, the plan's JSON; it is checked before anything is
///   sent (valid ids, a `local_path` for each upload, at most one change per
///   id).
/// - `options_json`: NULL or the options of `pinecone_assistant_sync_plan`;
///   only `"workers"` and `"fail_fast"` matter here.
/// - `cb`: NULL, or a callback receiving each event as JSON, on the calling
///   thread: `{"event":"queued"|"skipped"|"uploading"|"processing"|"deleting"|
///   "done"|"failed","action":"...","reason":"...","file_id":"...","path":"..."}`
///   plus `"sent"` and `"total"` (uploading), `"operation_id"` and
///   `"percent_complete"` (processing), `"error"` (failed: as
///   `pinecone_last_error_json`). A non-zero return stops the workers promptly;
///   the call then returns `PINECONE_RESULT_ABORTED` (the events received say
///   what was done; running the sync again converges).
/// - `report_json_out`: receives `{"created":N,"updated":N,"deleted":N,
///   "skipped":N,"failed":N,"unfinished":N,"bytes_sent":N,"elapsed_ms":N,
///   "stopped":null|"cancelled"|"fail_fast","complete":true|false,
///   "failures":[{"action":"...","file_id":"...","path":"...","error":{...}}]}`.
///   Free it with `pinecone_string_free`; NULL first and on failure.
///
/// A file that fails does not fail the call: the report lists it. Neither does
/// a cancel through the client's `pinecone_cancel`: the report then has
/// `"stopped":"cancelled"` and counts the files not done as `unfinished`.
/// A `429` or `Retry-After` answer pauses every worker. Returns
/// `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, `_INVALID_UTF8`, `_INVALID_JSON`,
/// `_INVALID_ARGUMENT` (a plan entry that cannot be carried out, workers out of
/// range), `_CANCELLED` (cancelled before it started), `_ABORTED`.
/// Thread-safe with respect to `assistant`.
///
/// # Safety
///
/// `assistant` is NULL or live; strings are NULL or NUL-terminated; `cb` is NULL
/// or a function that does not unwind, and `userdata` what it expects;
/// `report_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_sync_execute(
    assistant: *const pinecone_assistant,
    plan_json: *const c_char,
    options_json: *const c_char,
    cb: pinecone_json_cb,
    userdata: *mut c_void,
    report_json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(report_json_out => json, {
        let assistant = arg!(assistant: handle);
        let plan: SyncPlan = arg!(plan_json: json);
        let options: Options = arg!(options_json: opt_json);
        execute(&assistant.inner, &plan, options.into_rust(), cb, userdata)?
    })
}

/// Makes the assistant's files equal the folder at `root`:
/// `pinecone_assistant_sync_plan`, then `pinecone_assistant_sync_execute` with
/// the same options. `report_json_out` receives the report of
/// `pinecone_assistant_sync_execute`.
///
/// Returns the codes of both. Thread-safe with respect to `assistant`.
///
/// # Safety
///
/// As `pinecone_assistant_sync_execute`, with `root` NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_sync(
    assistant: *const pinecone_assistant,
    root: *const c_char,
    options_json: *const c_char,
    cb: pinecone_json_cb,
    userdata: *mut c_void,
    report_json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(report_json_out => json, {
        let assistant = arg!(assistant: handle);
        let root = arg!(root: str);
        let options: Options = arg!(options_json: opt_json);
        let options = options.into_rust();
        let plan = assistant.inner.plan_sync(root, &options)?;
        execute(&assistant.inner, &plan, options, cb, userdata)?
    })
}
