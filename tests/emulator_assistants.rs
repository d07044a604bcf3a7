//! Assistants in the emulator: their lifecycle through the Rust client, and the
//! wire answers for a wrong key, unknown resources and encoded names.

mod support;

use std::time::{Duration, Instant};

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
    let req = CreateAssistantRequest::new("support-bot")
        .instructions("Be brief.")
        .metadata(json!({"team": "billing"}))
        .region(Region::Eu);
    let a = client(&emu).create_assistant(req, Wait::For(Duration::from_secs(5)));
    let a = a.unwrap();
    assert_eq!(a.status.to_string(), "Ready");
    assert_eq!(a.host.as_deref(), Some(emu.url()));
    assert_eq!(a.region.as_deref(), Some("eu"));
    assert_eq!(a.metadata, Some(json!({"team": "billing"})));
    let requests = emu.requests();
    let posts: Vec<_> = requests.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].header("x-pinecone-api-version"), Some("2026-07"));
    assert_eq!(posts[0].header("content-type"), Some("application/json"));
}

#[test]
fn creation_answer_is_initializing_then_ready_after_the_delay() {
    let emu = start(Emulator::builder().ready_delay(ms(300)));
    let c = client(&emu);
    let started = Instant::now();
    let a = create(&c, "slow").unwrap();
    assert_eq!(a.status.to_string(), "Initializing");
    let ready = loop {
        let status = c.describe_assistant("slow").unwrap().status.to_string();
        if status == "Ready" {
            break started.elapsed();
        }
        assert_eq!(status, "Initializing");
        std::thread::sleep(ms(10));
    };
    assert!(ready >= ms(300), "{ready:?}");
}

#[test]
fn duplicates_and_invalid_names_are_refused() {
    let (_emu, c) = fast_client();
    create(&c, "dup").unwrap();
    let e = create(&c, "dup").unwrap_err();
    assert_eq!(api_status(&e), (Some(409), Some("ALREADY_EXISTS".into())));
    for bad in ["Upper", "-lead", "trail-", "under_score", &"x".repeat(64)] {
        let e = create(&c, bad).unwrap_err();
        let invalid = (Some(400), Some("INVALID_ARGUMENT".into()));
        assert_eq!(api_status(&e), invalid, "{bad}");
    }
    assert_eq!(c.list_assistants().count(), 1);
}

#[test]
fn list_paginates_over_several_pages() {
    let emu = start(Emulator::builder().page_size(3));
    let c = client(&emu);
    let names: Vec<String> = (0..7).map(|i| format!("a{i}")).collect();
    for n in &names {
        create(&c, n).unwrap();
    }
    emu.clear_requests();
    let listed: Vec<String> = c.list_assistants().map(|a| a.unwrap().name).collect();
    assert_eq!(listed, names);
    assert_eq!(count(&emu, "GET", "/assistant/assistants"), 3);

    let page = c.list_assistants_page(ListOptions::new().page_size(5));
    let page = page.unwrap();
    assert_eq!(page.assistants.len(), 5);
    let token = page.next_token().unwrap();
    let rest = ListOptions::new().page_size(5).pagination_token(token);
    let rest = c.list_assistants_page(rest).unwrap();
    assert_eq!(rest.assistants.len(), 2);
    assert_eq!(rest.next_token(), None);
    let bogus = ListOptions::new().pagination_token("bogus!");
    let e = c.list_assistants_page(bogus).unwrap_err();
    assert_eq!(e.status(), Some(400));
}

#[test]
fn update_replaces_instructions_and_metadata() {
    let (_emu, c) = fast_client();
    let old = CreateAssistantRequest::new("u")
        .instructions("old")
        .metadata(json!({"a": 1, "b": 2}));
    c.create_assistant(old, Wait::No).unwrap();
    let metadata = UpdateAssistantRequest::new().metadata(json!({"c": 3}));
    let a = c.update_assistant("u", metadata).unwrap();
    assert_eq!(a.metadata, Some(json!({"c": 3})));
    assert_eq!(a.instructions.as_deref(), Some("old"));
    let instructions = UpdateAssistantRequest::new().instructions("new");
    let a = c.update_assistant("u", instructions).unwrap();
    assert_eq!(a.instructions.as_deref(), Some("new"));
    let ghost = UpdateAssistantRequest::new().instructions("x");
    let e = c.update_assistant("ghost", ghost).unwrap_err();
    assert!(e.is_not_found());
}

#[test]
fn delete_goes_through_terminating_to_not_found() {
    let emu = start(
        Emulator::builder()
            .ready_delay(Duration::ZERO)
            .delete_delay(ms(100)),
    );
    let c = client(&emu);
    create(&c, "gone").unwrap();
    c.delete_assistant("gone", Wait::No).unwrap();
    let status = c.describe_assistant("gone").unwrap().status;
    assert_eq!(status.to_string(), "Terminating");
    c.delete_assistant("gone", Wait::Forever).unwrap();
    let e = c.describe_assistant("gone").unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(api_status(&e).1.as_deref(), Some("NOT_FOUND"));
    // The name is free again.
    create(&c, "gone").unwrap();
}

#[test]
fn wrong_or_missing_key_is_401_with_the_real_body() {
    let emu = fast();
    let wrong = client_with(&emu, "wrong", RetryPolicy::default());
    let e = wrong.describe_assistant("x").unwrap_err();
    assert_eq!(api_status(&e), (Some(401), Some("UNAUTHENTICATED".into())));
    let (status, body) = raw(&emu, "GET", "/assistant/assistants", None, &[]);
    assert_eq!(status, 401);
    assert_eq!(body["status"], 401);
    assert_eq!(body["error"]["code"], "UNAUTHENTICATED");
}

#[test]
fn unknown_resources_are_404_not_found() {
    let (emu, c) = fast_client();
    let e = c.describe_assistant("ghost-bot").unwrap_err();
    assert!(e.is_not_found());
    let message = &e.api().unwrap().message;
    assert_eq!(message, "Assistant \"ghost-bot\" not found.");
    let paths = [
        "/assistant/files/ghost",
        "/assistant/operations/ghost",
        "/assistant/nothing-here",
    ];
    for path in paths {
        let (status, body) = authed(&emu, "GET", path, None);
        assert_eq!(code_of(status, &body), (404, Some("NOT_FOUND")), "{path}");
    }
}

#[test]
fn percent_encoded_names_are_decoded() {
    let emu = fast();
    authed(
        &emu,
        "POST",
        "/assistant/assistants",
        Some(json!({"name": "a-b"})),
    );
    let (status, body) = authed(&emu, "GET", "/assistant/assistants/%61-b", None);
    assert_eq!((status, body["name"].as_str()), (200, Some("a-b")));
}
