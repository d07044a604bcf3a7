//! Assistants in the emulator: their lifecycle through the Rust client, and the
//! wire answers for a wrong key, unknown resources and encoded names.

mod support;

use std::time::Duration;

use pinecone_assistant::emulator::Emulator;
use pinecone_assistant::models::{
    CreateAssistantRequest, ListOptions, Region, UpdateAssistantRequest,
};
use pinecone_assistant::{RetryPolicy, Wait};
use serde_json::json;
use support::emu::*;

#[test]
fn create_reaches_ready_and_points_the_host_back() {
    let emu = fast();
    let c = client(&emu);
    let req = CreateAssistantRequest::new("support-bot")
        .instructions("Be brief.")
        .metadata(json!({"team": "billing"}))
        .region(Region::Eu);
    let a = c
        .create_assistant(req, Wait::For(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(a.status.to_string(), "Ready");
    assert_eq!(a.host.as_deref(), Some(emu.url()));
    assert_eq!(a.region.as_deref(), Some("eu"));
    assert_eq!(a.metadata, Some(json!({"team": "billing"})));
    let posts = emu
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect::<Vec<_>>();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].header("x-pinecone-api-version"), Some("2026-07"));
    assert_eq!(posts[0].header("content-type"), Some("application/json"));
}

#[test]
fn creation_answer_is_initializing_then_ready_after_the_delay() {
    let emu = Emulator::builder()
        .ready_delay(Duration::from_millis(300))
        .start()
        .unwrap();
    let c = client(&emu);
    let started = std::time::Instant::now();
    let a = c
        .create_assistant(CreateAssistantRequest::new("slow"), Wait::No)
        .unwrap();
    assert_eq!(a.status.to_string(), "Initializing");
    let ready = loop {
        let status = c.describe_assistant("slow").unwrap().status.to_string();
        if status == "Ready" {
            break started.elapsed();
        }
        assert_eq!(status, "Initializing");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(ready >= Duration::from_millis(300), "{ready:?}");
}

#[test]
fn duplicates_and_invalid_names_are_refused() {
    let emu = fast();
    let c = client(&emu);
    c.create_assistant(CreateAssistantRequest::new("dup"), Wait::No)
        .unwrap();
    let e = c
        .create_assistant(CreateAssistantRequest::new("dup"), Wait::No)
        .unwrap_err();
    assert_eq!(api_status(&e), (Some(409), Some("ALREADY_EXISTS".into())));
    for bad in ["Upper", "-lead", "trail-", "under_score", &"x".repeat(64)] {
        let e = c
            .create_assistant(CreateAssistantRequest::new(bad), Wait::No)
            .unwrap_err();
        assert_eq!(
            api_status(&e),
            (Some(400), Some("INVALID_ARGUMENT".into())),
            "{bad}"
        );
    }
    assert_eq!(c.list_assistants().count(), 1);
}

#[test]
fn list_paginates_over_several_pages() {
    let emu = Emulator::builder().page_size(3).start().unwrap();
    let c = client(&emu);
    let names: Vec<String> = (0..7).map(|i| format!("a{i}")).collect();
    for n in &names {
        c.create_assistant(CreateAssistantRequest::new(n.as_str()), Wait::No)
            .unwrap();
    }
    emu.clear_requests();
    let listed: Vec<String> = c.list_assistants().map(|a| a.unwrap().name).collect();
    assert_eq!(listed, names);
    assert_eq!(count(&emu, "GET", "/assistant/assistants"), 3);

    let page = c
        .list_assistants_page(ListOptions::new().page_size(5))
        .unwrap();
    assert_eq!(page.assistants.len(), 5);
    let rest = c
        .list_assistants_page(
            ListOptions::new()
                .page_size(5)
                .pagination_token(page.next_token().unwrap()),
        )
        .unwrap();
    assert_eq!(rest.assistants.len(), 2);
    assert_eq!(rest.next_token(), None);
    let e = c
        .list_assistants_page(ListOptions::new().pagination_token("bogus!"))
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
}

#[test]
fn update_replaces_instructions_and_metadata() {
    let emu = fast();
    let c = client(&emu);
    c.create_assistant(
        CreateAssistantRequest::new("u")
            .instructions("old")
            .metadata(json!({"a": 1, "b": 2})),
        Wait::No,
    )
    .unwrap();
    let a = c
        .update_assistant("u", UpdateAssistantRequest::new().metadata(json!({"c": 3})))
        .unwrap();
    assert_eq!(a.metadata, Some(json!({"c": 3})));
    assert_eq!(a.instructions.as_deref(), Some("old"));
    let a = c
        .update_assistant("u", UpdateAssistantRequest::new().instructions("new"))
        .unwrap();
    assert_eq!(a.instructions.as_deref(), Some("new"));
    let e = c
        .update_assistant("ghost", UpdateAssistantRequest::new().instructions("x"))
        .unwrap_err();
    assert!(e.is_not_found());
}

#[test]
fn delete_goes_through_terminating_to_not_found() {
    let emu = Emulator::builder()
        .ready_delay(Duration::ZERO)
        .delete_delay(Duration::from_millis(100))
        .start()
        .unwrap();
    let c = client(&emu);
    c.create_assistant(CreateAssistantRequest::new("gone"), Wait::No)
        .unwrap();
    c.delete_assistant("gone", Wait::No).unwrap();
    assert_eq!(
        c.describe_assistant("gone").unwrap().status.to_string(),
        "Terminating"
    );
    c.delete_assistant("gone", Wait::Forever).unwrap();
    let e = c.describe_assistant("gone").unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(api_status(&e).1.as_deref(), Some("NOT_FOUND"));
    // The name is free again.
    c.create_assistant(CreateAssistantRequest::new("gone"), Wait::No)
        .unwrap();
}

#[test]
fn wrong_or_missing_key_is_401_with_the_real_body() {
    let emu = fast();
    let e = client_with(&emu, "wrong", RetryPolicy::default())
        .describe_assistant("x")
        .unwrap_err();
    assert_eq!(api_status(&e), (Some(401), Some("UNAUTHENTICATED".into())));
    let (status, body) = raw(&emu, "GET", "/assistant/assistants", None, &[]);
    assert_eq!(status, 401);
    assert_eq!(body["status"], 401);
    assert_eq!(body["error"]["code"], "UNAUTHENTICATED");
}

#[test]
fn unknown_resources_are_404_not_found() {
    let emu = fast();
    let c = client(&emu);
    let e = c.describe_assistant("ghost-bot").unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(
        e.api().unwrap().message,
        "Assistant \"ghost-bot\" not found."
    );
    let key = [("Api-Key", emu.api_key().to_owned())];
    for path in [
        "/assistant/files/ghost",
        "/assistant/operations/ghost",
        "/assistant/nothing-here",
    ] {
        let (status, body) = raw(&emu, "GET", path, None, &key);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("NOT_FOUND")),
            "{path}"
        );
    }
}

#[test]
fn percent_encoded_names_are_decoded() {
    let emu = fast();
    let key = [("Api-Key", emu.api_key().to_owned())];
    raw(
        &emu,
        "POST",
        "/assistant/assistants",
        Some(json!({"name": "a-b"})),
        &key,
    );
    let (status, body) = raw(&emu, "GET", "/assistant/assistants/%61-b", None, &key);
    assert_eq!((status, body["name"].as_str()), (200, Some("a-b")));
}
