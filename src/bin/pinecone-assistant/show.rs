//! How people see the API's records: table rows and `key: value` descriptions.

use pinecone_assistant::models::{AssistantModel, FileModel, OperationModel};

use crate::output::{fields, or_dash};

pub const ASSISTANT_COLUMNS: [&str; 4] = ["NAME", "STATUS", "REGION", "CREATED"];

pub fn assistant_row(a: &AssistantModel) -> Vec<String> {
    vec![
        a.name.clone(),
        a.status.to_string(),
        or_dash(a.region.as_deref()),
        or_dash(a.created_at.as_deref()),
    ]
}

pub fn assistant(a: &AssistantModel) -> String {
    fields(&[
        ("name", Some(a.name.clone())),
        ("status", Some(a.status.to_string())),
        ("region", a.region.clone()),
        ("host", a.host.clone()),
        ("instructions", a.instructions.clone()),
        ("metadata", a.metadata.as_ref().map(|m| m.to_string())),
        ("created", a.created_at.clone()),
        ("updated", a.updated_at.clone()),
    ])
}

pub const FILE_COLUMNS: [&str; 4] = ["ID", "STATUS", "SIZE", "NAME"];

pub fn file_row(f: &FileModel) -> Vec<String> {
    vec![
        f.id.clone(),
        or_dash(f.status.as_ref()),
        or_dash(f.size),
        f.name.clone(),
    ]
}

pub fn file(f: &FileModel) -> String {
    fields(&[
        ("id", Some(f.id.clone())),
        ("name", Some(f.name.clone())),
        ("status", f.status.as_ref().map(ToString::to_string)),
        ("size", f.size.map(|s| format!("{s} bytes"))),
        ("multimodal", f.multimodal.map(|m| m.to_string())),
        ("metadata", f.metadata.as_ref().map(|m| m.to_string())),
        ("created", f.created_on.clone()),
        ("updated", f.updated_on.clone()),
        ("url", f.signed_url.clone()),
    ])
}

pub const OPERATION_COLUMNS: [&str; 5] = ["ID", "TYPE", "STATUS", "DONE", "FILE"];

pub fn operation_row(o: &OperationModel) -> Vec<String> {
    vec![
        o.id.clone(),
        or_dash(o.operation_type.as_ref()),
        o.status.to_string(),
        or_dash(o.percent_complete.map(|p| format!("{p}%"))),
        or_dash(o.file_id.as_deref()),
    ]
}

pub fn operation(o: &OperationModel) -> String {
    fields(&[
        ("id", Some(o.id.clone())),
        ("type", o.operation_type.as_ref().map(ToString::to_string)),
        ("status", Some(o.status.to_string())),
        ("progress", o.percent_complete.map(|p| format!("{p}%"))),
        ("file", o.file_id.clone()),
        ("error", o.error_message.clone()),
        ("units", o.ingestion_units.map(|u| u.to_string())),
        ("created", o.created_on.clone()),
        ("completed", o.completed_on.clone()),
    ])
}
