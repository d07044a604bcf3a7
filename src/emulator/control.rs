//! Control plane: create, describe, list, update and delete assistants
//! (docs/wire/endpoints.md).

use std::time::Instant;

use serde_json::Value;

use super::Shared;
use super::router::{Call, list_page};
use super::state::{AssistantRec, after};
use super::wire::{self, Reply, now};

/// 1–63 characters, lowercase alphanumerics and `-`, alphanumeric at both ends.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (1..=63).contains(&b.len())
        && b.iter().all(|c| edge(c) || *c == b'-')
        && edge(&b[0])
        && edge(&b[b.len() - 1])
}

fn not_found(name: &str) -> Reply {
    wire::not_found(format!("Assistant \"{name}\" not found."))
}

fn optional<'a>(
    body: &'a serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<&'a Value>, Reply> {
    Ok(match body.get(key) {
        None | Some(Value::Null) => None,
        Some(v) => Some(v),
    })
}

fn instructions(body: &serde_json::Map<String, Value>) -> Result<Option<String>, Reply> {
    match optional(body, "instructions")? {
        None => Ok(None),
        Some(Value::String(s)) if s.len() <= 16 * 1024 => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(wire::invalid("instructions must be at most 16 KB")),
        Some(_) => Err(wire::invalid("instructions must be a string")),
    }
}

fn metadata(body: &serde_json::Map<String, Value>) -> Result<Option<Value>, Reply> {
    match optional(body, "metadata")? {
        None => Ok(None),
        Some(v @ Value::Object(_)) if v.to_string().len() <= 16 * 1024 => Ok(Some(v.clone())),
        Some(Value::Object(_)) => Err(wire::invalid("metadata must be at most 16 KB")),
        Some(_) => Err(wire::invalid("metadata must be a JSON object")),
    }
}

/// The endpoints this module serves (the path below `/assistant`): the reply, or
/// `None` when the request is not one of them.
pub(crate) fn route(shared: &Shared, call: &Call, method: &str, path: &[&str]) -> Option<Reply> {
    Some(match (method, path) {
        ("GET", ["assistants"]) => list(shared, call),
        ("POST", ["assistants"]) => create(shared, call),
        ("GET", ["assistants", name]) => describe(shared, name),
        ("PATCH", ["assistants", name]) => update(shared, call, name),
        ("DELETE", ["assistants", name]) => delete(shared, name),
        _ => return None,
    })
}

pub(crate) fn create(shared: &Shared, call: &Call) -> Reply {
    let body = match call.json() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(name) = body.get("name").and_then(Value::as_str) else {
        return wire::invalid("name is required");
    };
    if !valid_name(name) {
        return wire::invalid(format!(
            "Invalid assistant name \"{name}\": use 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit."
        ));
    }
    let region = match body.get("region") {
        None | Some(Value::Null) => "us",
        Some(Value::String(r)) if r == "us" || r == "eu" => r.as_str(),
        Some(other) => {
            return wire::invalid(format!("region must be \"us\" or \"eu\", got {other}"));
        }
    };
    let (instructions, metadata) = match (instructions(&body), metadata(&body)) {
        (Ok(i), Ok(m)) => (i, m),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let mut st = shared.state();
    if st.find(name).is_some() {
        return wire::error(
            409,
            "ALREADY_EXISTS",
            format!("Assistant {name} already exists"),
        );
    }
    let stamp = now();
    let rec = AssistantRec {
        name: name.to_owned(),
        instructions,
        metadata,
        region: region.to_owned(),
        created_at: stamp.clone(),
        updated_at: stamp,
        ready_at: after(shared.settings.ready_delay),
        deleted: None,
        files: Vec::new(),
        operations: Vec::new(),
    };
    // The creation answer always shows the first state, as the real service does.
    let body = rec.render("Initializing", &shared.host);
    if let Some(store) = shared.store() {
        store.save_assistant(&rec);
    }
    st.assistants.push(rec);
    Reply::ok(body)
}

pub(crate) fn describe(shared: &Shared, name: &str) -> Reply {
    match shared.state().find(name) {
        Some(a) => Reply::ok(a.to_json(&shared.host)),
        None => not_found(name),
    }
}

pub(crate) fn list(shared: &Shared, call: &Call) -> Reply {
    let all: Vec<Value> = shared
        .state()
        .assistants
        .iter()
        .map(|a| a.to_json(&shared.host))
        .collect();
    list_page(shared, call, "assistants", all)
}

pub(crate) fn update(shared: &Shared, call: &Call, name: &str) -> Reply {
    let body = match call.json() {
        Ok(b) => b,
        Err(r) => return r,
    };
    if !body.contains_key("instructions") && !body.contains_key("metadata") {
        return wire::invalid("nothing to update: send instructions and/or metadata");
    }
    let (instructions, metadata) = match (instructions(&body), metadata(&body)) {
        (Ok(i), Ok(m)) => (i, m),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let mut st = shared.state();
    let Some(a) = st.find_mut(name) else {
        return not_found(name);
    };
    if body.contains_key("instructions") {
        a.instructions = instructions;
    }
    if body.contains_key("metadata") {
        a.metadata = metadata;
    }
    a.updated_at = now();
    if let Some(store) = shared.store() {
        store.save_assistant(a);
    }
    Reply::ok(a.to_json(&shared.host))
}

pub(crate) fn delete(shared: &Shared, name: &str) -> Reply {
    let mut st = shared.state();
    match st.find_mut(name) {
        Some(a) if a.deleted.is_none() => {
            a.deleted = Some(Instant::now());
            // On disk the deletion is immediate: after a restart it has finished.
            if let Some(store) = shared.store() {
                store.remove_assistant(name);
            }
            Reply::Empty(200)
        }
        // Already terminating: the same answer as for a second delete that races it.
        Some(_) => Reply::Empty(200),
        None => not_found(name),
    }
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn names_follow_the_service_rules() {
        for ok in ["a", "support-bot", "a1-b2", &"x".repeat(63)] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "Abc", "a_b", "a.b", "é", &"x".repeat(64)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
