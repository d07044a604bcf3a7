//! The client and the control plane: create, describe, list, update, delete.

use std::sync::Arc;
use std::time::Duration;

use crate::assistant::{Assistant, HostCache};
use crate::cancel::CancelHandle;
use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::http::retry::RequestClass;
use crate::http::url::{Query, push_segment};
use crate::http::{Body, Method, Request, Transport};
use crate::models::{
    AssistantModel, AssistantStatus, CreateAssistantRequest, ListAssistantsResponse, ListOptions,
    UpdateAssistantRequest,
};
use crate::pagination::{Page, Paginator, check_page_size};
use crate::polling::{Poll, Wait, poll_until};

/// A blocking client for the Pinecone Assistant API.
///
/// Cheap to clone; clones share one connection pool and one cache of data-plane
/// hosts, and may be used from many threads at once.
///
/// ```no_run
/// use pinecone_assistant::{Client, ClientConfig, Wait};
/// use pinecone_assistant::models::CreateAssistantRequest;
///
/// let client = Client::new(ClientConfig::builder("pcsk_…").build())?;
/// let created = client.create_assistant(CreateAssistantRequest::new("docs"), Wait::Forever)?;
/// println!("{} is {}", created.name, created.status);
/// # Ok::<(), pinecone_assistant::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) transport: Arc<Transport>,
    pub(crate) hosts: Arc<HostCache>,
    pub(crate) cancel: CancelHandle,
}

impl Client {
    /// A client for `config`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use pinecone_assistant::{Client, ClientConfig};
    /// let client = Client::new(
    ///     ClientConfig::builder("pcsk_example").timeout(Duration::from_secs(10)).build(),
    /// )?;
    /// assert_eq!(client.config().host(), "https://api.pinecone.io");
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] naming the setting when the API key is not a valid
    /// header value, the timeout is zero, the proxy URL or CA bundle is unusable, or
    /// an additional header is malformed.
    pub fn new(config: ClientConfig) -> Result<Self> {
        Ok(Self {
            transport: Transport::new(config)?,
            hosts: Arc::new(HostCache::default()),
            cancel: CancelHandle::new(),
        })
    }

    /// A client configured from the environment (see
    /// [`ClientConfig::builder_from_env`]).
    ///
    /// ```no_run
    /// // PINECONE_API_KEY=pcsk_… [PINECONE_CONTROLLER_HOST=http://127.0.0.1:8080]
    /// let client = pinecone_assistant::Client::from_env()?;
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when `PINECONE_API_KEY` is missing or invalid.
    pub fn from_env() -> Result<Self> {
        Self::new(ClientConfig::builder_from_env()?.build())
    }

    /// Runs `step` on this client's poll schedule, with delays up to `interval`,
    /// until it is done or `wait` runs out, sleeping through this client's
    /// transport and stopping when its handle is cancelled.
    pub(crate) fn poll<T>(
        &self,
        wait: Wait,
        interval: Duration,
        awaited: impl FnOnce() -> String,
        step: impl FnMut() -> Result<Poll<T>>,
    ) -> Result<T> {
        let schedule = (self.config().poll_schedule(), interval);
        poll_until(&self.transport, &self.cancel, wait, schedule, awaited, step)
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        self.transport.config()
    }

    /// A clone of this client whose calls stop with [`Error::Cancelled`] once
    /// `handle` is cancelled: waits and retry sleeps wake at once, uploads stop,
    /// and chat calls (plain or streamed) close their connection.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// use pinecone_assistant::{CancelHandle, Wait};
    /// let stop = CancelHandle::new();
    /// let worker = client.with_cancel_handle(stop.clone());
    /// let t = std::thread::spawn(move || worker.delete_assistant("docs", Wait::Forever));
    /// stop.cancel();
    /// let _ = t.join();
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn with_cancel_handle(&self, handle: CancelHandle) -> Self {
        Self {
            cancel: handle,
            ..self.clone()
        }
    }

    /// The cancel handle this client's calls obey.
    pub fn cancel_handle(&self) -> &CancelHandle {
        &self.cancel
    }

    /// A data-plane handle for the assistant called `name`. Nothing is sent until
    /// the first call; its host is then looked up once and cached for every clone.
    pub fn assistant(&self, name: impl Into<String>) -> Assistant {
        Assistant::new(self.clone(), name.into())
    }

    fn assistant_url(&self, name: &str) -> Result<String> {
        let mut url = self.transport.control_base();
        url.push_str("/assistants");
        push_segment(&mut url, "name", name)?;
        Ok(url)
    }

    /// Creates an assistant and, unless `wait` is [`Wait::No`], polls until it is
    /// `Ready` (on the [poll schedule](crate::PollSchedule), with delays up to
    /// `create_poll_interval`).
    ///
    /// Returns the server's answer to the create request with [`Wait::No`],
    /// otherwise the description that showed it `Ready`.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// use std::time::Duration;
    /// use pinecone_assistant::{Wait, models::{CreateAssistantRequest, Region}};
    /// let a = client.create_assistant(
    ///     CreateAssistantRequest::new("docs").instructions("Be brief.").region(Region::Eu),
    ///     Wait::For(Duration::from_secs(60)),
    /// )?;
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an empty name; [`Error::Api`] when the server
    /// refuses (409 or 429 for a name in use or a quota reached — a 429 here is never
    /// retried); [`Error::AssistantFailed`] when it reaches `Failed`,
    /// `InitializationFailed`, `Terminating` or `Terminated`; [`Error::WaitTimeout`]
    /// when the deadline passes first.
    pub fn create_assistant(
        &self,
        request: CreateAssistantRequest,
        wait: Wait,
    ) -> Result<AssistantModel> {
        if request.name.is_empty() {
            return Err(Error::invalid("name", "must not be empty"));
        }
        let url = format!("{}/assistants", self.transport.control_base());
        let req = Request::new(Method::Post, url, RequestClass::CreateAssistant)
            .body(Body::json(&request)?);
        let created: AssistantModel =
            self.transport
                .json(req, &self.cancel, "created assistant")?;
        if wait == Wait::No {
            return Ok(created);
        }
        let name = request.name;
        self.poll(
            wait,
            self.config().create_poll_interval(),
            || format!("assistant \"{name}\" to become Ready"),
            || {
                let (a, retry_after) = self.describe_for_poll(&name, false)?;
                let poll = match a.status {
                    AssistantStatus::Ready => Poll::Done(a),
                    AssistantStatus::Failed
                    | AssistantStatus::InitializationFailed
                    | AssistantStatus::Terminating
                    | AssistantStatus::Terminated => {
                        return Err(Error::AssistantFailed {
                            name: name.clone(),
                            status: a.status.to_string(),
                            awaited: "Ready".into(),
                        });
                    }
                    other => Poll::pending(other.to_string()),
                };
                Ok(poll.retry_after(retry_after))
            },
        )
    }

    /// Describes the assistant called `name`.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// let a = client.describe_assistant("docs")?;
    /// println!("{} in {:?}: {}", a.name, a.region, a.status);
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when there is no such assistant; [`Error::InvalidArgument`]
    /// for an empty name.
    pub fn describe_assistant(&self, name: &str) -> Result<AssistantModel> {
        Ok(self.describe_for_poll(name, false)?.0)
    }

    /// [`describe_assistant`](Self::describe_assistant), with the `Retry-After`
    /// of the answer for a wait. With `gone_is_expected` a 404 is what the caller
    /// waits for (a delete), so the observer is not told of it as an error.
    fn describe_for_poll(
        &self,
        name: &str,
        gone_is_expected: bool,
    ) -> Result<(AssistantModel, Option<Duration>)> {
        let url = self.assistant_url(name)?;
        let mut req = Request::get(url);
        req.not_found_expected = gone_is_expected;
        let reply = self.transport.call(req, &self.cancel)?;
        Ok((reply.decode("assistant description")?, reply.retry_after))
    }

    /// One page of assistants.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// use pinecone_assistant::models::ListOptions;
    /// let page = client.list_assistants_page(ListOptions::new().page_size(10))?;
    /// let next = page.next_token();
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a page size of 0; API and transport errors.
    pub fn list_assistants_page(&self, options: ListOptions) -> Result<ListAssistantsResponse> {
        fetch_assistants(self, options.pagination_token.as_deref(), options.page_size)
    }

    /// Every assistant, fetched page by page as the iterator advances. Nothing is
    /// sent before the first `next()`. See [`Paginator`] for a maximum number of
    /// items, the page size and resuming.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// let names: Vec<String> = client
    ///     .list_assistants()
    ///     .map(|a| a.map(|a| a.name))
    ///     .collect::<Result<_, _>>()?;
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn list_assistants(&self) -> Paginator<AssistantModel> {
        let client = self.clone();
        Paginator::new(move |token, page_size| {
            let page = fetch_assistants(&client, token, page_size)?;
            let next = page.next_token();
            Ok(Page::new(page.assistants, next))
        })
    }

    /// [`list_assistants`](Self::list_assistants) with its options: the page size
    /// and the page to start from, as the `_page` call takes them.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// use pinecone_assistant::models::ListOptions;
    /// for assistant in client.list_assistants_with(ListOptions::new().page_size(100))? {
    ///     println!("{}", assistant?.name);
    /// }
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a page size of 0; nothing is sent.
    pub fn list_assistants_with(&self, options: ListOptions) -> Result<Paginator<AssistantModel>> {
        check_page_size(options.page_size)?;
        let mut pages = self.list_assistants();
        if let Some(size) = options.page_size {
            pages = pages.page_size(size);
        }
        if let Some(token) = options.pagination_token {
            pages = pages.starting_from(token);
        }
        Ok(pages)
    }

    /// Replaces the instructions and/or the metadata of an assistant (metadata is
    /// replaced whole, not merged) and returns the updated description.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// use pinecone_assistant::models::UpdateAssistantRequest;
    /// let a = client.update_assistant("docs", UpdateAssistantRequest::new().instructions("Cite pages."))?;
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when neither field is set or the name is empty;
    /// [`Error::NotFound`] when there is no such assistant.
    pub fn update_assistant(
        &self,
        name: &str,
        request: UpdateAssistantRequest,
    ) -> Result<AssistantModel> {
        if request.instructions.is_none() && request.metadata.is_none() {
            return Err(Error::invalid(
                "request",
                "sets nothing; set instructions and/or metadata",
            ));
        }
        let url = self.assistant_url(name)?;
        let req =
            Request::new(Method::Patch, url, RequestClass::ReplaySafe).body(Body::json(&request)?);
        let reply = self.transport.call(req, &self.cancel)?;
        // The spec answers with a partial record, the service with a full one: use a
        // full one when it came, else describe.
        let full = serde_json::from_slice::<serde_json::Value>(&reply.body)
            .ok()
            .is_some_and(|v| v.get("name").is_some() && v.get("status").is_some());
        if full {
            reply.decode("updated assistant")
        } else {
            self.describe_assistant(name)
        }
    }

    /// Deletes an assistant and, unless `wait` is [`Wait::No`], polls until it is
    /// gone (on the [poll schedule](crate::PollSchedule), with delays up to
    /// `operation_poll_interval`).
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// use pinecone_assistant::Wait;
    /// client.delete_assistant("docs", Wait::Forever)?;
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when there was no such assistant; [`Error::AssistantFailed`]
    /// when it is stuck in `Failed` or `InitializationFailed` (it would never go);
    /// [`Error::WaitTimeout`] when the deadline passes first.
    pub fn delete_assistant(&self, name: &str, wait: Wait) -> Result<()> {
        let url = self.assistant_url(name)?;
        let mut req = Request::new(Method::Delete, url, RequestClass::ReplaySafe);
        req.replayed_not_found_is_success = true;
        self.transport.call(req, &self.cancel)?;
        self.hosts.forget(name);
        if wait == Wait::No {
            return Ok(());
        }
        self.poll(
            wait,
            self.config().operation_poll_interval(),
            || format!("assistant \"{name}\" to be deleted"),
            || match self.describe_for_poll(name, true) {
                Err(e) if e.is_not_found() => Ok(Poll::Done(())),
                Err(e) => Err(e),
                Ok((a, retry_after)) => match a.status {
                    AssistantStatus::Terminated => Ok(Poll::Done(())),
                    AssistantStatus::Failed | AssistantStatus::InitializationFailed => {
                        Err(Error::AssistantFailed {
                            name: name.to_owned(),
                            status: a.status.to_string(),
                            awaited: "deleted".into(),
                        })
                    }
                    other => Ok(Poll::pending(other.to_string()).retry_after(retry_after)),
                },
            },
        )
    }

    /// A clone of this client whose calls are bounded by `total` instead of the
    /// configured [`total_timeout`](crate::ClientConfigBuilder::total_timeout)
    /// (`None` for no bound). It shares the connections, the host cache, the
    /// cancel handle and the observer. Assistants made from it carry the bound too.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// use std::time::Duration;
    /// let quick = client.with_total_timeout(Duration::from_secs(2));
    /// let found = quick.describe_assistant("docs"); // Error::Timeout after 2 s at most
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn with_total_timeout(&self, total: impl Into<Option<std::time::Duration>>) -> Self {
        Self {
            transport: Arc::new(self.transport.with_total_timeout(total.into())),
            ..self.clone()
        }
    }

    /// Replaces the observer of this client, of its clones and of every client
    /// derived from it ([`with_cancel_handle`](Self::with_cancel_handle),
    /// [`with_total_timeout`](Self::with_total_timeout)); `None` removes it.
    /// Calls already under way may still report to the previous one. Safe to
    /// call while other threads use the client. See
    /// [`observe`](crate::observe).
    ///
    /// ```
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// use std::sync::Arc;
    /// use pinecone_assistant::observe::{Event, Observer};
    /// let log: Arc<dyn Observer> = Arc::new(|event: &Event<'_>| eprintln!("{event:?}"));
    /// client.set_observer(Some(log));
    /// client.set_observer(None);
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn set_observer(&self, observer: Option<Arc<dyn crate::observe::Observer>>) {
        self.transport.observer().replace(observer);
    }
}

fn fetch_assistants(
    client: &Client,
    token: Option<&str>,
    page_size: Option<u32>,
) -> Result<ListAssistantsResponse> {
    check_page_size(page_size)?;
    let mut query = Query::new();
    query
        .push_opt("limit", page_size)
        .push_opt("pagination_token", token);
    let url = format!(
        "{}/assistants{}",
        client.transport.control_base(),
        query.as_str()
    );
    client
        .transport
        .json(Request::get(url), &client.cancel, "assistant list")
}
