//! The control plane against exact request shapes (mockito).

mod support;

use std::time::Duration;

use mockito::{Matcher, Mock, Server, ServerGuard};
use pinecone_assistant::models::{
    AssistantModel, AssistantStatus, CreateAssistantRequest, ListOptions, Region,
    UpdateAssistantRequest,
};
use pinecone_assistant::{
    ApiErrorKind, CancelHandle, Client, ClientConfig, Error, RetryPolicy, Wait,
};
use serde_json::json;
use support::fixtures::assistant_json;
use support::mock::{
    KEY, assert_all, builder, builder_for, client, once, recording_client, recording_fixed_client,
    refuses, times,
};

const ASSISTANTS: &str = "/assistant/assistants";

fn path(name: &str) -> String {
    format!("{ASSISTANTS}/{name}")
}

/// A `method` request for assistant `name`, answered with `status` and no body.
fn answer_status(server: &mut ServerGuard, method: &str, name: &str, status: usize) -> Mock {
    server.mock(method, path(name).as_str()).with_status(status)
}

/// A describe of `name`, answering it in `state`.
fn describing(server: &mut ServerGuard, name: &str, state: &str) -> Mock {
    let body = assistant_json(name, state, "h");
    server.mock("GET", path(name).as_str()).with_body(body)
}

/// A create, answering `name` as `Initializing`.
fn creating(server: &mut ServerGuard, name: &str) -> Mock {
    let body = assistant_json(name, "Initializing", "h");
    server.mock("POST", ASSISTANTS).with_body(body)
}

/// Creates `name` with default settings.
fn create(client: &Client, name: &str, wait: Wait) -> Result<AssistantModel, Error> {
    client.create_assistant(CreateAssistantRequest::new(name), wait)
}

#[test]
fn create_sends_the_exact_body_and_headers() {
    let mut server = Server::new();
    let post = server
        .mock("POST", ASSISTANTS)
        .match_header("api-key", KEY)
        .match_header("x-pinecone-api-version", "2026-07")
        .match_header("content-type", "application/json")
        .match_header(
            "user-agent",
            Matcher::Regex(r"^pinecone-assistant-rust/\d+\.\d+\.\d+$".into()),
        )
        .match_body(Matcher::Exact(
            r#"{"name":"support-bot","instructions":null,"region":"us"}"#.into(),
        ))
        .with_status(200)
        .with_body(assistant_json(
            "support-bot",
            "Initializing",
            "prod-1-data.ke.pinecone.io",
        ))
        .expect(1)
        .create();
    let a = create(&client(&server), "support-bot", Wait::No).unwrap();
    post.assert();
    assert_eq!(a.status, AssistantStatus::Initializing);
    let host = a.host.as_deref();
    assert_eq!(host, Some("https://prod-1-data.ke.pinecone.io"));
}

#[test]
fn create_with_every_field() {
    let mut server = Server::new();
    let body =
        r#"{"name":"eu-docs","instructions":"Be brief.","region":"eu","metadata":{"team":"ops"}}"#;
    let post = creating(&mut server, "eu-docs")
        .match_body(Matcher::Exact(body.into()))
        .create();
    let request = CreateAssistantRequest::new("eu-docs")
        .instructions("Be brief.")
        .region(Region::Eu)
        .metadata(json!({"team": "ops"}));
    client(&server).create_assistant(request, Wait::No).unwrap();
    post.assert();
}

#[test]
fn create_polls_until_ready() {
    let mut server = Server::new();
    let post = creating(&mut server, "support-bot").create();
    let initializing = times(2, describing(&mut server, "support-bot", "Initializing"));
    let ready = once(describing(&mut server, "support-bot", "Ready"));
    // On the fixed schedule: a poll at once, then one every interval.
    let (c, slept) = recording_fixed_client(&server);
    let a = create(&c, "support-bot", Wait::Forever).unwrap();
    assert_eq!(a.status, AssistantStatus::Ready);
    assert_all(&[&post, &initializing, &ready]);
    assert_eq!(*slept.lock().unwrap(), vec![Duration::from_millis(500); 2]);
}

#[test]
fn create_fails_fast_on_a_terminal_state() {
    let mut server = Server::new();
    creating(&mut server, "bot").create();
    let poll = once(describing(&mut server, "bot", "InitializationFailed"));
    let err = create(&client(&server), "bot", Wait::Forever).unwrap_err();
    poll.assert();
    match err {
        Error::AssistantFailed { name, status, .. } => {
            let pair = (name.as_str(), status.as_str());
            assert_eq!(pair, ("bot", "InitializationFailed"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn create_wait_deadline_of_zero_polls_once() {
    let mut server = Server::new();
    creating(&mut server, "bot").create();
    let poll = once(describing(&mut server, "bot", "Initializing"));
    let err = create(&client(&server), "bot", Wait::For(Duration::ZERO)).unwrap_err();
    poll.assert();
    match &err {
        Error::WaitTimeout { last_status, .. } => assert_eq!(last_status, "Initializing"),
        other => panic!("unexpected {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("assistant \"bot\" to become Ready"), "{err}");
}

#[test]
fn create_wait_deadline_counts_polling_time() {
    let mut server = Server::new();
    creating(&mut server, "bot").create();
    let poll = times(4, describing(&mut server, "bot", "Initializing"));
    // On the fixed schedule: a poll at once, then one every interval.
    let (c, slept) = recording_fixed_client(&server);
    let err = create(&c, "bot", Wait::For(Duration::from_millis(1200))).unwrap_err();
    assert!(matches!(err, Error::WaitTimeout { .. }));
    poll.assert();
    // The last sleep is shortened so the final poll lands on the deadline.
    let slept = slept.lock().unwrap();
    let ms: Vec<u128> = slept.iter().map(Duration::as_millis).collect();
    assert_eq!(ms, vec![500, 500, 200]);
}

#[test]
fn create_429_is_never_retried() {
    let mut server = Server::new();
    let body = r#"{"error":{"code":"ALREADY_EXISTS","message":"Assistant support-bot already exists"},"status":429}"#;
    let post = server.mock("POST", ASSISTANTS).with_status(429);
    let post = once(post.with_header("retry-after", "120").with_body(body));
    let err = create(&client(&server), "support-bot", Wait::Forever).unwrap_err();
    post.assert();
    let api = err.api().unwrap();
    assert_eq!(api.kind(), ApiErrorKind::RateLimited);
    assert_eq!(api.retry_after, Some(Duration::from_secs(120)));
    let text = err.to_string();
    assert_eq!(
        text,
        "[429 ALREADY_EXISTS] Assistant support-bot already exists"
    );
}

#[test]
fn create_500_is_not_replayed() {
    let mut server = Server::new();
    let post = once(server.mock("POST", ASSISTANTS).with_status(500));
    let err = create(&client(&server), "bot", Wait::No).unwrap_err();
    post.assert();
    assert_eq!(err.status(), Some(500));
    assert!(err.is_retryable());
}

#[test]
fn empty_names_are_refused_before_any_request() {
    let mut server = Server::new();
    let any = refuses(&mut server, "GET");
    let c = client(&server);
    let instructions = UpdateAssistantRequest::new().instructions("x");
    for err in [
        c.describe_assistant("").unwrap_err(),
        create(&c, "", Wait::No).unwrap_err(),
        c.delete_assistant("", Wait::No).unwrap_err(),
        c.update_assistant("", instructions).unwrap_err(),
    ] {
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
    }
    any.assert();
}

#[test]
fn describe_decodes_and_pins_headers() {
    let mut server = Server::new();
    let body = assistant_json("support-bot", "Ready", "https://prod-1-data.ke.pinecone.io");
    let get = server
        .mock("GET", "/assistant/assistants/support-bot")
        .match_header("api-key", KEY)
        .match_header("x-pinecone-api-version", "2026-07")
        .match_body("")
        .with_body(body)
        .create();
    let a = client(&server).describe_assistant("support-bot").unwrap();
    get.assert();
    assert_eq!(a.name, "support-bot");
    assert_eq!(a.region.as_deref(), Some("us"));
    assert_eq!(a.metadata, Some(json!({"team": "billing"})));
    assert_eq!(a.created_at.as_deref(), Some("2026-07-01T09:00:00Z"));
}

#[test]
fn describe_missing_assistant_is_not_found() {
    let mut server = Server::new();
    let body = r#"{"error":{"code":"NOT_FOUND","message":"Assistant \"ghost-bot\" not found."},"status":404}"#;
    answer_status(&mut server, "GET", "ghost-bot", 404)
        .with_header("x-pinecone-request-id", "7f3e2b1a9c")
        .with_body(body)
        .create();
    let err = client(&server).describe_assistant("ghost-bot").unwrap_err();
    assert!(err.is_not_found());
    let api = err.api().unwrap();
    assert_eq!(api.code.as_deref(), Some("NOT_FOUND"));
    assert_eq!(api.request_id.as_deref(), Some("7f3e2b1a9c"));
    assert_eq!(
        api.to_string(),
        r#"[404 NOT_FOUND] Assistant "ghost-bot" not found. (request_id: 7f3e2b1a9c)"#
    );
}

#[test]
fn hostile_names_never_reach_another_endpoint() {
    let mut server = Server::new();
    let cases = [
        ("a/b", "/assistant/assistants/a%2Fb"),
        (
            "x?limit=1#frag",
            "/assistant/assistants/x%3Flimit%3D1%23frag",
        ),
        ("100%", "/assistant/assistants/100%25"),
        ("..", "/assistant/assistants/%2E%2E"),
        ("naïve name", "/assistant/assistants/na%C3%AFve%20name"),
    ];
    let c = client(&server);
    for (name, path) in cases {
        let body = assistant_json(name, "Ready", "h");
        let m = once(server.mock("GET", path).with_body(body));
        assert_eq!(c.describe_assistant(name).unwrap().name, name);
        m.assert();
    }
}

/// A list request whose query must be exactly `query`, answered with `body`.
fn listing(server: &mut ServerGuard, query: &str, body: impl AsRef<[u8]>) -> Mock {
    let query = Matcher::Exact(query.into());
    server
        .mock("GET", ASSISTANTS)
        .match_query(query)
        .with_body(body)
}

#[test]
fn list_page_sends_limit_and_token() {
    let mut server = Server::new();
    let body = r#"{"assistants":[{"name":"support-bot","instructions":"Answer from the billing documents only.","metadata":{"team":"billing"},"status":"Ready","host":"https://prod-1-data.ke.pinecone.io","region":"us","created_at":"2026-07-01T09:00:00Z","updated_at":"2026-07-01T09:00:41Z"},{"name":"eu-docs","instructions":null,"metadata":null,"status":"Initializing","host":"https://prod-eu-data.ke.pinecone.io","region":"eu","created_at":"2026-07-05T12:00:00Z","updated_at":"2026-07-05T12:00:00Z"}],"pagination":{"next":"YXNzdDoy"}}"#;
    let query = "limit=2&pagination_token=tok%20en%2F%2B%26";
    let page = listing(&mut server, query, body).create();
    let options = ListOptions::new()
        .page_size(2)
        .pagination_token("tok en/+&");
    let resp = client(&server).list_assistants_page(options).unwrap();
    page.assert();
    let names: Vec<_> = resp.assistants.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["support-bot", "eu-docs"]);
    assert_eq!(resp.next_token().as_deref(), Some("YXNzdDoy"));
}

#[test]
fn list_page_without_options_sends_no_query() {
    let mut server = Server::new();
    let page = listing(&mut server, "", r#"{"assistants":[]}"#).create();
    let resp = client(&server).list_assistants_page(ListOptions::new());
    page.assert();
    let resp = resp.unwrap();
    assert!(resp.assistants.is_empty() && resp.next_token().is_none());
}

#[test]
fn list_with_options_starts_where_told_and_refuses_a_zero_page_size() {
    let mut server = Server::new();
    let page = listing(
        &mut server,
        "limit=1&pagination_token=p2",
        r#"{"assistants":[]}"#,
    );
    let page = once(page);
    let c = client(&server);
    let options = ListOptions::new().page_size(1).pagination_token("p2");
    let walk: Vec<_> = c.list_assistants_with(options).unwrap().collect();
    assert!(walk.is_empty());
    page.assert();
    // Refused where it is given, before any request.
    let zero = c.list_assistants_with(ListOptions::new().page_size(0));
    assert!(matches!(zero, Err(Error::InvalidArgument { ref name, .. }) if name == "page_size"));
}

/// Two pages: `a1` and `a2` with a token, then `a3`.
fn mock_pages(server: &mut ServerGuard) -> (Mock, Mock) {
    let [a1, a2, a3] = ["a1", "a2", "a3"].map(|n| assistant_json(n, "Ready", "h"));
    let first = format!(r#"{{"assistants":[{a1},{a2}],"pagination":{{"next":"p2"}}}}"#);
    let first = server
        .mock("GET", ASSISTANTS)
        .match_query(Matcher::Missing)
        .with_body(first);
    let first = first.create();
    let token = Matcher::UrlEncoded("pagination_token".into(), "p2".into());
    let second = format!(r#"{{"assistants":[{a3}],"pagination":null}}"#);
    let second = server
        .mock("GET", ASSISTANTS)
        .match_query(token)
        .with_body(second);
    (first, second.create())
}

/// The names the paginator yields.
fn names(paginator: impl Iterator<Item = Result<AssistantModel, Error>>) -> Vec<String> {
    paginator.map(|a| a.unwrap().name).collect()
}

#[test]
fn paginator_is_lazy() {
    let mut server = Server::new();
    let any = refuses(&mut server, "GET");
    let paginator = client(&server).list_assistants();
    drop(paginator);
    any.assert();
}

#[test]
fn paginator_walks_every_page() {
    let mut server = Server::new();
    let (first, second) = mock_pages(&mut server);
    let names: Vec<String> = client(&server)
        .list_assistants()
        .map(|a| a.map(|a| a.name))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names, ["a1", "a2", "a3"]);
    first.expect(1).assert();
    second.expect(1).assert();
}

#[test]
fn paginator_limit_stops_without_another_request() {
    let mut server = Server::new();
    let (first, second) = mock_pages(&mut server);
    let names = names(client(&server).list_assistants().max_items(2));
    assert_eq!(names, ["a1", "a2"]);
    first.expect(1).assert();
    second.expect(0).assert();
}

#[test]
fn paginator_resumes_from_a_token_and_sends_page_size() {
    let mut server = Server::new();
    let a3 = assistant_json("a3", "Ready", "h");
    let body = format!(r#"{{"assistants":[{a3}]}}"#);
    let second = once(listing(&mut server, "limit=5&pagination_token=p2", body));
    let paginator = client(&server).list_assistants().page_size(5);
    assert_eq!(names(paginator.starting_from("p2")), ["a3"]);
    second.assert();
}

#[test]
fn paginator_pages_view() {
    let mut server = Server::new();
    mock_pages(&mut server);
    let pages = client(&server).list_assistants().pages();
    let sizes: Vec<usize> = pages.map(|p| p.unwrap().items.len()).collect();
    assert_eq!(sizes, [2, 1]);
}

/// An update of `name` whose JSON body must be exactly `body`.
fn updating(server: &mut ServerGuard, name: &str, body: &str) -> Mock {
    let body = Matcher::Exact(body.into());
    server.mock("PATCH", path(name).as_str()).match_body(body)
}

#[test]
fn update_replaces_and_returns_the_full_record() {
    let mut server = Server::new();
    let body = r#"{"instructions":"Cite pages.","metadata":{"team":"ops"}}"#;
    let patch = updating(&mut server, "support-bot", body)
        .match_header("content-type", "application/json")
        .with_body(assistant_json("support-bot", "Ready", "h"))
        .create();
    let update = UpdateAssistantRequest::new()
        .instructions("Cite pages.")
        .metadata(json!({"team": "ops"}));
    let a = client(&server).update_assistant("support-bot", update);
    patch.assert();
    assert_eq!(a.unwrap().name, "support-bot");
}

#[test]
fn update_with_a_spec_shaped_answer_describes_once() {
    let mut server = Server::new();
    let answer = r#"{"assistant_name":"support-bot","instructions":"x","metadata":{}}"#;
    let patch = updating(&mut server, "support-bot", r#"{"metadata":{}}"#);
    let patch = patch.with_body(answer).create();
    let get = once(describing(&mut server, "support-bot", "Ready"));
    let update = UpdateAssistantRequest::new().metadata(json!({}));
    let a = client(&server).update_assistant("support-bot", update);
    assert_all(&[&patch, &get]);
    assert_eq!(a.unwrap().status, AssistantStatus::Ready);
}

#[test]
fn update_with_nothing_to_change_is_refused() {
    let mut server = Server::new();
    let any = refuses(&mut server, "PATCH");
    let c = client(&server);
    let err = c.update_assistant("support-bot", UpdateAssistantRequest::new());
    assert!(matches!(err, Err(Error::InvalidArgument { ref name, .. }) if name == "request"));
    any.assert();
}

#[test]
fn delete_waits_until_gone() {
    let mut server = Server::new();
    let delete = answer_status(&mut server, "DELETE", "bot", 200);
    let delete = once(delete.match_header("api-key", KEY));
    let terminating = once(describing(&mut server, "bot", "Terminating"));
    let gone = answer_status(&mut server, "GET", "bot", 404);
    let gone =
        once(gone.with_body(r#"{"error":{"code":"NOT_FOUND","message":"gone"},"status":404}"#));
    // On the fixed schedule: a poll at once, then one every interval.
    let (c, slept) = recording_fixed_client(&server);
    c.delete_assistant("bot", Wait::Forever).unwrap();
    assert_all(&[&delete, &terminating, &gone]);
    assert_eq!(*slept.lock().unwrap(), vec![Duration::from_secs(5)]);
}

#[test]
fn delete_without_waiting_sends_one_request() {
    let mut server = Server::new();
    let delete = once(answer_status(&mut server, "DELETE", "bot", 200));
    let get = refuses(&mut server, "GET");
    client(&server).delete_assistant("bot", Wait::No).unwrap();
    assert_all(&[&delete, &get]);
}

#[test]
fn delete_of_a_failed_assistant_is_an_error_not_an_endless_poll() {
    let mut server = Server::new();
    answer_status(&mut server, "DELETE", "bot", 200).create();
    let poll = once(describing(&mut server, "bot", "Failed"));
    let err = client(&server).delete_assistant("bot", Wait::Forever);
    poll.assert();
    assert!(matches!(err, Err(Error::AssistantFailed { ref status, .. }) if status == "Failed"));
}

#[test]
fn delete_terminated_counts_as_done() {
    let mut server = Server::new();
    answer_status(&mut server, "DELETE", "bot", 200).create();
    once(describing(&mut server, "bot", "Terminated"));
    let c = client(&server);
    c.delete_assistant("bot", Wait::Forever).unwrap();
}

#[test]
fn replayed_delete_that_finds_nothing_succeeded() {
    let mut server = Server::new();
    let unavailable = once(answer_status(&mut server, "DELETE", "bot", 503));
    let gone = once(answer_status(&mut server, "DELETE", "bot", 404));
    let outcome = client(&server).delete_assistant("bot", Wait::No);
    assert_all(&[&unavailable, &gone]);
    assert!(outcome.is_ok(), "{outcome:?}");
}

#[test]
fn first_delete_404_is_not_found() {
    let mut server = Server::new();
    answer_status(&mut server, "DELETE", "bot", 404).create();
    let err = client(&server).delete_assistant("bot", Wait::No);
    assert!(err.unwrap_err().is_not_found());
}

#[test]
fn get_is_retried_after_503_then_succeeds() {
    let mut server = Server::new();
    let failing = times(2, answer_status(&mut server, "GET", "bot", 503));
    let ok = once(describing(&mut server, "bot", "Ready"));
    let (c, slept) = recording_client(&server);
    c.describe_assistant("bot").unwrap();
    assert_all(&[&failing, &ok]);
    let slept = slept.lock().unwrap();
    assert_eq!(slept.len(), 2);
    // Full jitter: the k-th backoff is below 0.5 s × 2^k.
    assert!(slept[0] <= Duration::from_millis(500) && slept[1] <= Duration::from_secs(1));
}

/// A describe of `bot` answering 429 with `Retry-After: {seconds}`, once.
fn rate_limited(server: &mut ServerGuard, seconds: &str) -> Mock {
    let limited = answer_status(server, "GET", "bot", 429);
    once(limited.with_header("retry-after", seconds))
}

#[test]
fn retry_after_is_honoured() {
    let mut server = Server::new();
    let limited = rate_limited(&mut server, "7");
    describing(&mut server, "bot", "Ready").create();
    let (c, slept) = recording_client(&server);
    c.describe_assistant("bot").unwrap();
    limited.assert();
    assert_eq!(*slept.lock().unwrap(), vec![Duration::from_secs(7)]);
}

#[test]
fn retry_after_beyond_the_cap_ends_retrying_with_the_value() {
    let mut server = Server::new();
    let limited = rate_limited(&mut server, "120");
    let (c, slept) = recording_client(&server);
    let err = c.describe_assistant("bot").unwrap_err();
    limited.assert();
    assert!(slept.lock().unwrap().is_empty());
    let retry_after = err.api().unwrap().retry_after;
    assert_eq!(retry_after, Some(Duration::from_secs(120)));
}

#[test]
fn retries_stop_after_the_policy_allows() {
    let mut server = Server::new();
    let failing = times(3, answer_status(&mut server, "GET", "bot", 502));
    let config = builder(&server).retry(RetryPolicy::new().max_retries(2));
    let err = Client::new(config.build())
        .unwrap()
        .describe_assistant("bot");
    failing.assert();
    assert_eq!(err.unwrap_err().status(), Some(502));
}

#[test]
fn client_errors_are_not_retried() {
    let mut server = Server::new();
    let bad = answer_status(&mut server, "GET", "bot", 400);
    let bad = once(bad.with_body(r#"{"detail":"bad request"}"#));
    let err = client(&server).describe_assistant("bot").unwrap_err();
    bad.assert();
    assert_eq!(err.to_string(), "[400] bad request");
}

#[test]
fn redirects_are_not_followed() {
    let mut server = Server::new();
    let redirect = answer_status(&mut server, "GET", "bot", 302);
    redirect
        .with_header("location", "http://127.0.0.1:9/elsewhere")
        .create();
    let err = client(&server).describe_assistant("bot").unwrap_err();
    assert_eq!(err.status(), Some(302));
}

#[test]
fn a_malformed_success_body_is_a_decode_error_with_an_excerpt() {
    let mut server = Server::new();
    let page = answer_status(&mut server, "GET", "bot", 200);
    page.with_body("<html>gateway page</html>").create();
    match client(&server).describe_assistant("bot").unwrap_err() {
        Error::Decode { what, body, .. } => {
            assert_eq!(what, "assistant description");
            assert_eq!(body, "<html>gateway page</html>");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn additional_headers_and_source_tag_are_sent() {
    let mut server = Server::new();
    let user_agent = r"^pinecone-assistant-rust/\S+ source_tag=my_app:v2$";
    let get = describing(&mut server, "bot", "Ready")
        .match_header("x-team", "search")
        .match_header("user-agent", Matcher::Regex(user_agent.into()))
        .match_header("x-pinecone-api-version", "2026-10")
        .create();
    let config = builder(&server)
        .header("X-Team", "search")
        .source_tag("My App:v2")
        .header("X-PINECONE-API-VERSION", "2026-10");
    let c = Client::new(config.build()).unwrap();
    c.describe_assistant("bot").unwrap();
    get.assert();
}

#[test]
fn the_api_key_never_shows() {
    let mut server = Server::new();
    let body = r#"{"error":{"code":"UNAUTHENTICATED","message":"Invalid API key"},"status":401}"#;
    answer_status(&mut server, "GET", "bot", 401)
        .with_body(body)
        .create();
    let c = client(&server);
    let err = c.describe_assistant("bot").unwrap_err();
    for text in [
        format!("{err}"),
        format!("{err:?}"),
        format!("{c:?}"),
        format!("{:?}", c.config()),
    ] {
        assert!(!text.contains(KEY), "{text}");
    }
    assert_eq!(err.api().unwrap().kind(), ApiErrorKind::Unauthorized);
    let bad = Client::new(ClientConfig::builder("pcsk_line\nbreak").build()).unwrap_err();
    assert!(!bad.to_string().contains("pcsk_line"), "{bad}");
}

#[test]
fn cancelled_handle_stops_before_sending() {
    let mut server = Server::new();
    let any = refuses(&mut server, "GET");
    let handle = CancelHandle::new();
    handle.cancel();
    let c = client(&server).with_cancel_handle(handle);
    assert!(matches!(c.describe_assistant("bot"), Err(Error::Cancelled)));
    any.assert();
}

#[test]
fn cancel_interrupts_a_real_wait() {
    let mut server = Server::new();
    answer_status(&mut server, "DELETE", "bot", 200).create();
    describing(&mut server, "bot", "Terminating").create();
    // Real sleeping here: the 1 h poll interval must be cut short by the cancel.
    let config = ClientConfig::builder(KEY)
        .host(server.url())
        .operation_poll_interval(Duration::from_secs(3600));
    let c = Client::new(config.build()).unwrap();
    let handle = CancelHandle::new();
    let worker = c.with_cancel_handle(handle.clone());
    let started = std::time::Instant::now();
    let t = std::thread::spawn(move || worker.delete_assistant("bot", Wait::Forever));
    std::thread::sleep(Duration::from_millis(100));
    handle.cancel();
    assert!(matches!(t.join().unwrap(), Err(Error::Cancelled)));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn connection_refused_is_a_transport_error() {
    // Port 9 (discard) is closed on loopback; nothing listens there in tests.
    let config = builder_for("http://127.0.0.1:9").retry(RetryPolicy::none());
    let c = Client::new(config.build()).unwrap();
    let err = c.describe_assistant("bot").unwrap_err();
    assert!(
        matches!(err, Error::Transport(_) | Error::Timeout(_)),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[test]
fn client_is_send_sync_and_clones_share_the_pool() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Client>();
    assert_send_sync::<pinecone_assistant::Assistant>();
    assert_send_sync::<CancelHandle>();
}

#[test]
fn a_retry_inside_a_wait_never_sleeps_past_its_deadline() {
    let mut server = Server::new();
    creating(&mut server, "bot").create();
    let unavailable = answer_status(&mut server, "GET", "bot", 503);
    let unavailable = once(unavailable.with_header("retry-after", "25"));
    // On the fixed schedule: a poll at once, then one every interval.
    let (c, slept) = recording_fixed_client(&server);
    let err = create(&c, "bot", Wait::For(Duration::from_secs(1))).unwrap_err();
    unavailable.assert();
    assert_eq!(err.status(), Some(503));
    let slept_so_far = slept.lock().unwrap().clone();
    assert!(slept_so_far.is_empty(), "{slept_so_far:?}");
    // Without a deadline the same answer is retried after the 25 s it asked for.
    let (c, slept) = recording_client(&server);
    let _ = c.describe_assistant("bot");
    let first = slept.lock().unwrap().first().copied();
    assert_eq!(first, Some(Duration::from_secs(25)));
}

#[test]
fn a_wait_too_long_to_represent_is_a_wait_without_deadline() {
    let mut server = Server::new();
    creating(&mut server, "bot").create();
    once(describing(&mut server, "bot", "Initializing"));
    describing(&mut server, "bot", "Ready").create();
    let a = create(&client(&server), "bot", Wait::For(Duration::MAX)).unwrap();
    assert_eq!(a.status, AssistantStatus::Ready);
}
