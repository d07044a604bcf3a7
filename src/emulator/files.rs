//! Files and operations: upload, upsert, describe, list, delete, and operation status
//! (docs/wire/endpoints.md).

use std::sync::Arc;

use serde_json::Value;

use super::Shared;
use super::documents::FileKind;
use super::filter;
use super::ingest::Job;
use super::multipart;
use super::router::{Call, list_page};
use super::state::{AssistantRec, FileRec, OpRec, State};
use super::wire::{self, Reply, crc32c, now};

fn assistant_missing(name: &str) -> Reply {
    wire::not_found(format!("Assistant \"{name}\" not found."))
}

fn file_missing(id: &str) -> Reply {
    wire::not_found(format!("File \"{id}\" not found."))
}

/// A live (not terminating) assistant, for data-plane calls.
pub(crate) fn live<'a>(st: &'a mut State, name: &str) -> Result<&'a mut AssistantRec, Reply> {
    st.find_mut(name)
        .filter(|a| a.deleted.is_none())
        .ok_or_else(|| assistant_missing(name))
}

fn accepted(assistant: &str, op: &OpRec) -> Reply {
    Reply::Json {
        status: 202,
        body: op.to_json(),
        headers: vec![("Location", format!("/operations/{assistant}/{}", op.id))],
    }
}

/// Upsert ids: 1–128 characters of `A–Z a–z 0–9 - _`.
fn valid_file_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The endpoints this module serves (the path below `/assistant`): the reply, or
/// `None` when the request is not one of them. Each handler gives its error
/// answer as `Err`, so that it can use `?`.
pub(crate) fn route(shared: &Shared, call: &Call, method: &str, path: &[&str]) -> Option<Reply> {
    let handled = match (method, path) {
        ("GET", ["files", a]) => list(shared, call, a),
        ("POST", ["files", a]) => upload(shared, call, a, None),
        ("GET", ["files", a, id]) => describe(shared, call, a, id),
        ("PUT", ["files", a, id]) => upload(shared, call, a, Some(id)),
        ("DELETE", ["files", a, id]) => delete(shared, a, id),
        ("GET", ["operations", a]) => list_operations(shared, call, a),
        ("GET", ["operations", a, op]) => describe_operation(shared, a, op),
        _ => return None,
    };
    Some(handled.unwrap_or_else(|error| error))
}

pub(crate) fn upload(
    shared: &Shared,
    call: &Call,
    name: &str,
    file_id: Option<&str>,
) -> Result<Reply, Reply> {
    if let Some(id) = file_id.filter(|id| !valid_file_id(id)) {
        return Err(wire::invalid(format!(
            "Invalid file id \"{id}\": use 1-128 letters, digits, '-' or '_'."
        )));
    }
    let multimodal = match call.query("multimodal") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(wire::invalid(format!(
                "multimodal must be true or false, got {other:?}"
            )));
        }
    };
    let parts =
        multipart::parse(call.content_type.as_deref(), &call.body).map_err(wire::invalid)?;
    let Some(file) = parts.iter().find(|p| p.name == "file") else {
        return Err(wire::invalid("the multipart body has no \"file\" part"));
    };
    let Some(file_name) = file.filename.clone().filter(|n| !n.is_empty()) else {
        return Err(wire::invalid("the \"file\" part has no filename"));
    };
    let Some(kind) = FileKind::from_name(&file_name) else {
        return Err(wire::invalid(format!(
            "Unsupported file type for \"{file_name}\": upload .txt, .md, .json, .pdf or .docx files."
        )));
    };
    let metadata = match parts.iter().find(|p| p.name == "metadata") {
        None => None,
        Some(p) => match serde_json::from_slice::<Value>(&p.data) {
            Ok(Value::Null) => None,
            Ok(v @ Value::Object(_)) => Some(v),
            _ => return Err(wire::invalid("the \"metadata\" part must be a JSON object")),
        },
    };
    let data = Arc::new(file.data.clone());
    let operation_type = if call.method == "PUT" {
        "upsert_file"
    } else {
        "upload_file"
    };
    let (file_id, op_id, generation, seq) = {
        let mut st = shared.state();
        let ids = (
            file_id.map_or_else(|| st.ids.uuid(), str::to_owned),
            format!("op-{}", st.ids.uuid()),
            st.next_generation(),
            st.next_generation(),
        );
        live(&mut st, name)?;
        ids
    };
    // The bytes go to disk before any record names them, and outside the lock:
    // a large upload does not hold up other requests.
    if let Some(store) = shared.store() {
        if let Err(e) = store.save_blob(name, generation, &data) {
            log::error!("emulator: cannot save an uploaded file: {e}");
            return Err(wire::error(
                500,
                "INTERNAL",
                format!("the emulator cannot save the file: {e}"),
            ));
        }
    }
    let mut st = shared.state();
    let a = match live(&mut st, name) {
        Ok(a) => a,
        Err(r) => {
            if let Some(store) = shared.store() {
                store.remove_version(name, generation);
            }
            return Err(r);
        }
    };
    let stamp = now();
    let replaced = a
        .file(&file_id)
        .map(|f| (f.created_on.clone(), f.generation));
    let created_on = replaced
        .as_ref()
        .map_or_else(|| stamp.clone(), |(c, _)| c.clone());
    a.files.retain(|f| f.id != file_id);
    let rec = FileRec {
        id: file_id.clone(),
        name: file_name,
        kind,
        metadata,
        size: data.len() as u64,
        created_on,
        updated_on: stamp.clone(),
        status: "Processing",
        multimodal,
        crc32c: crc32c(&data),
        data: Arc::clone(&data),
        chunks: Vec::new(),
        generation,
    };
    let op = OpRec::started(
        op_id.clone(),
        operation_type,
        file_id.clone(),
        stamp,
        generation,
        seq,
    );
    if let Some(store) = shared.store() {
        // The operation first: a kill before the file's record leaves an
        // operation whose file version never arrived, which the next start fails.
        store.save_op(name, &op);
        store.save_file(name, &rec);
        if let Some((_, old)) = replaced {
            store.remove_version(name, old);
        }
    }
    a.files.push(rec);
    let reply = accepted(name, &op);
    a.operations.push(op);
    drop(st);
    shared.enqueue(Job::Ingest {
        assistant: name.to_owned(),
        file_id,
        op_id,
        operation_type,
        generation,
        kind,
        bytes: data,
    });
    Ok(reply)
}

pub(crate) fn list(shared: &Shared, call: &Call, name: &str) -> Result<Reply, Reply> {
    let filter = match call.query("filter") {
        None => None,
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(f) => match filter::validate(&f) {
                Ok(()) => Some(f),
                Err(e) => return Err(wire::invalid(format!("invalid filter: {e}"))),
            },
            Err(e) => return Err(wire::invalid(format!("filter is not JSON: {e}"))),
        },
    };
    let mut st = shared.state();
    let a = live(&mut st, name)?;
    let files: Vec<Value> = a
        .files
        .iter()
        .filter(|f| {
            filter
                .as_ref()
                .is_none_or(|flt| filter::matches(flt, f.metadata.as_ref()))
        })
        .map(|f| f.to_json(None))
        .collect();
    drop(st);
    Ok(list_page(shared, call, "files", files))
}

pub(crate) fn describe(shared: &Shared, call: &Call, name: &str, id: &str) -> Result<Reply, Reply> {
    let mut st = shared.state();
    let a = live(&mut st, name)?;
    let f = a.file(id).ok_or_else(|| file_missing(id))?;
    let url = (call.query("include_url") == Some("true")).then(|| {
        format!(
            "{}/_emulator/files/{name}/{id}?signature={}",
            shared.host, f.crc32c
        )
    });
    Ok(Reply::ok(f.to_json(url)))
}

pub(crate) fn delete(shared: &Shared, name: &str, id: &str) -> Result<Reply, Reply> {
    let mut st = shared.state();
    let op_id = format!("op-{}", st.ids.uuid());
    let seq = st.next_generation();
    let a = live(&mut st, name)?;
    let Some(f) = a.file_mut(id) else {
        return Err(file_missing(id));
    };
    if f.status == "ProcessingFailed" {
        // Nothing was indexed, so there is nothing to clean up: done at once.
        let generation = f.generation;
        a.files.retain(|f| f.id != id);
        if let Some(store) = shared.store() {
            store.remove_file(name, id, generation);
        }
        return Ok(Reply::Empty(204));
    }
    f.status = "Deleting";
    let (generation, size) = (f.generation, f.size);
    if let Some(store) = shared.store() {
        store.save_file(name, f);
    }
    let op = OpRec::started(
        op_id.clone(),
        "delete_file",
        id.to_owned(),
        now(),
        generation,
        seq,
    );
    if let Some(store) = shared.store() {
        store.save_op(name, &op);
    }
    let reply = accepted(name, &op);
    a.operations.push(op);
    drop(st);
    shared.enqueue(Job::Delete {
        assistant: name.to_owned(),
        file_id: id.to_owned(),
        op_id,
        generation,
        size,
    });
    Ok(reply)
}

pub(crate) fn describe_operation(shared: &Shared, name: &str, op: &str) -> Result<Reply, Reply> {
    let mut st = shared.state();
    let a = live(&mut st, name)?;
    let o = a
        .op_mut(op)
        .ok_or_else(|| wire::not_found(format!("Operation \"{op}\" not found.")))?;
    Ok(Reply::ok(o.to_json()))
}

pub(crate) fn list_operations(shared: &Shared, call: &Call, name: &str) -> Result<Reply, Reply> {
    const TYPES: [&str; 4] = [
        "upload_file",
        "upsert_file",
        "update_file_metadata",
        "delete_file",
    ];
    const STATUSES: [&str; 3] = ["Processing", "Completed", "Failed"];
    let op_type = call.query("operation_type");
    let status = call.query("status");
    if let Some(t) = op_type.filter(|t| !TYPES.contains(t)) {
        return Err(wire::invalid(format!(
            "operation_type must be one of {TYPES:?}, got {t:?}"
        )));
    }
    if let Some(s) = status.filter(|s| !STATUSES.contains(s)) {
        return Err(wire::invalid(format!(
            "status must be one of {STATUSES:?}, got {s:?}"
        )));
    }
    let mut st = shared.state();
    let a = live(&mut st, name)?;
    let ops: Vec<Value> = a
        .operations
        .iter()
        .filter(|o| op_type.is_none_or(|t| o.operation_type == t))
        .filter(|o| status.is_none_or(|s| o.status == s))
        .map(OpRec::to_json)
        .collect();
    drop(st);
    Ok(list_page(shared, call, "operations", ops))
}
