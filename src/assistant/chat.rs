//! Retrieval and generation: context, chat and chat completions, plain and streamed.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use std::time::Duration;

use crate::assistant::Assistant;
use crate::cancel::HookGuard;
use crate::error::{Error, Result};
use crate::http::interrupt::Interrupter;
use crate::http::retry::RequestClass;
use crate::http::{Body, Bound, Method, RawResponse, Request, Sent, route};
use crate::models::{
    ChatCompletionRequest, ChatCompletionResponse, ChatRequest, ChatResponse, ContextRequest,
    ContextResponse,
};
use crate::stream::{ChatCompletionStream, ChatStream, StreamOrigin};

impl Assistant {
    /// The longest silence allowed while an answer is generated: the call's own
    /// timeout as given, else the configured timeout but never less than
    /// `chat_read_timeout` (300 s by default), since nothing arrives until the
    /// model has something to say.
    fn generation_read_timeout(&self, per_call: Option<Duration>) -> Duration {
        let config = self.client.config();
        per_call.unwrap_or_else(|| config.timeout().max(config.chat_read_timeout()))
    }

    fn generation_request(&self, suffix: &str, body: Body<'static>) -> Result<Request<'static>> {
        let mut path = self.path("chat", &[])?;
        path.push_str(suffix);
        Ok(Request::new(Method::Post, path, RequestClass::Generation).body(body))
    }

    /// The total bound of a chat call: the request's own, else for a plain call
    /// the client's and for a stream none (a long answer is no fault; the idle
    /// timeout still catches a silent one).
    fn generation_bound(&self, per_call: Option<Duration>, streamed: bool) -> Bound {
        let unbounded = |d: Duration| (d != Duration::MAX).then_some(d);
        match per_call {
            Some(own) => Bound {
                limit: unbounded(own),
                name: "the request's total_timeout",
            },
            None if streamed => Bound {
                limit: None,
                name: "the request's total_timeout",
            },
            None => Bound {
                limit: self.client.config().total_timeout(),
                name: "total_timeout",
            },
        }
    }

    /// Sends a generation request on its own, interruptible connection and returns
    /// the response with its hook on the client's cancel handle, so cancelling
    /// stops it even while the model is still writing.
    fn open_interruptible(
        &self,
        mut req: Request<'static>,
        timeout: Option<Duration>,
        total: Bound,
    ) -> Result<Opened> {
        let interrupter = Arc::new(Interrupter::default());
        let hook = {
            let interrupter = interrupter.clone();
            self.client
                .cancel
                .on_cancel(move || interrupter.interrupt())
        };
        req = req
            .read_timeout(self.generation_read_timeout(timeout))
            .interruptible(interrupter.clone())
            .total(total);
        match self.send_data(&mut req) {
            Ok((resp, sent)) => Ok(Opened {
                req,
                resp,
                sent,
                interrupter,
                hook,
            }),
            Err(_) if interrupter.is_interrupted() => Err(Error::Cancelled),
            Err(e) => Err(e),
        }
    }

    /// Sends a generation request interruptibly and decodes the whole answer; a
    /// cancel while the answer is awaited gives [`Error::Cancelled`], and a
    /// failure once the headers are in is [`Error::Stream`] (the call may have
    /// run; `Transport::read_reply` says so).
    fn generate<T: DeserializeOwned>(
        &self,
        req: Request<'static>,
        timeout: Option<Duration>,
        total: Option<Duration>,
        what: &str,
    ) -> Result<T> {
        let opened = self.open_interruptible(req, timeout, self.generation_bound(total, false))?;
        let Opened {
            req,
            resp,
            sent,
            hook: _hook,
            ..
        } = opened;
        self.client
            .transport
            .read_reply(resp, &req, sent)?
            .decode(what)
    }

    /// Opens a stream of either kind.
    fn open_stream(
        &self,
        req: Request<'static>,
        timeout: Option<Duration>,
        total: Option<Duration>,
    ) -> Result<(RawResponse, StreamOrigin, Arc<Interrupter>, HookGuard)> {
        let idle = self.generation_read_timeout(timeout);
        let idle_name = if timeout.is_some() {
            "the request's timeout"
        } else {
            "chat_read_timeout"
        };
        let total = self.generation_bound(total, true);
        let opened = self.open_interruptible(req, timeout, total)?;
        let origin = StreamOrigin {
            operation: req_operation(&opened.req),
            host: route::origin(&opened.req.url),
            idle: (idle, idle_name),
            total,
            event_limit: usize::try_from(self.client.config().stream_event_limit())
                .unwrap_or(usize::MAX),
            watch: opened.sent.into_stream_watch(&opened.resp),
        };
        Ok((opened.resp, origin, opened.interrupter, opened.hook))
    }

    /// Retrieves the snippets the assistant would answer from, for a query or a
    /// conversation.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// use pinecone_assistant::models::{ContextRequest, Snippet};
    /// let found = client
    ///     .assistant("docs")
    ///     .context(ContextRequest::query("refund window").top_k(3))?;
    /// for snippet in &found.snippets {
    ///     if let Snippet::Text(t) = snippet {
    ///         println!("{:.2} {}", t.score, t.content);
    ///     }
    /// }
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] naming `query` unless exactly one of `query` and
    /// `messages` is non-empty; [`Error::Api`] when the server refuses (e.g. the
    /// assistant has no file in `Available` state); [`Error::NotFound`] when the
    /// assistant does not exist.
    pub fn context(&self, request: ContextRequest) -> Result<ContextResponse> {
        request.validate()?;
        let req = self.generation_request("/context", Body::json(&request)?)?;
        self.json_data(req, "context response")
    }

    /// Asks the assistant and waits for the whole answer, with citations.
    ///
    /// The read timeout is at least the configured `chat_read_timeout` (300 s by
    /// default), since nothing arrives until the answer is complete, unless the
    /// request sets its own with [`ChatRequest::timeout`].
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// use pinecone_assistant::models::{ChatRequest, Message};
    /// let reply = client.assistant("docs").chat(
    ///     ChatRequest::new([Message::user("What is the refund window?")]).temperature(0.2),
    /// )?;
    /// println!("{}", reply.content());
    /// for c in &reply.citations {
    ///     println!("at {:?}: {} sources", c.position, c.references.len());
    /// }
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Api`] / [`Error::NotFound`] when the server refuses;
    /// [`Error::Timeout`] when no answer came within the read timeout;
    /// [`Error::Decode`] for an unreadable answer; [`Error::Cancelled`] when the
    /// client's cancel handle fires first (the call runs on its own connection, so
    /// a cancel stops it even while the answer is being written).
    pub fn chat(&self, request: ChatRequest) -> Result<ChatResponse> {
        let req = self.generation_request("", Body::json(&request.body(false))?)?;
        self.generate(req, request.timeout, request.total_timeout, "chat response")
    }

    /// Asks the assistant and streams the answer as it is generated.
    ///
    /// The request is sent before this returns, so a refusal comes back here
    /// rather than from the first chunk. The stream allows `chat_read_timeout`
    /// (300 s by default) of silence between bytes, or the request's own
    /// [`ChatRequest::timeout`].
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// use pinecone_assistant::models::{ChatRequest, Message};
    /// let stream = client
    ///     .assistant("docs")
    ///     .chat_stream(ChatRequest::new([Message::user("What is the refund window?")]))?;
    /// for piece in stream.text() {
    ///     print!("{}", piece?);
    /// }
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] naming `json_response` when it is set (a JSON
    /// answer cannot be streamed); [`Error::Api`] / [`Error::NotFound`] when the
    /// server refuses; [`Error::Cancelled`] when the client's cancel handle fires
    /// first. Errors during the stream come from the iterator.
    pub fn chat_stream(&self, request: ChatRequest) -> Result<ChatStream> {
        if request.json_response {
            return Err(Error::invalid(
                "json_response",
                "a JSON answer cannot be streamed; use chat() or turn json_response off",
            ));
        }
        let req = self
            .generation_request("", Body::json(&request.body(true))?)?
            .operation("chat_stream");
        let (resp, origin, interrupter, hook) =
            self.open_stream(req, request.timeout, request.total_timeout)?;
        Ok(ChatStream::from_response(resp, interrupter, hook, origin))
    }

    /// Asks the assistant through the OpenAI-shaped endpoint and waits for the
    /// whole answer; citations are inline in the text.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// use pinecone_assistant::models::{ChatCompletionRequest, Message};
    /// let reply = client.assistant("docs").chat_completions(
    ///     ChatCompletionRequest::new([Message::user("What is the refund window?")]),
    /// )?;
    /// println!("{}", reply.content());
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`chat`](Self::chat).
    pub fn chat_completions(
        &self,
        request: ChatCompletionRequest,
    ) -> Result<ChatCompletionResponse> {
        let req =
            self.generation_request("/chat/completions", Body::json(&request.body(false))?)?;
        self.generate(
            req,
            request.timeout,
            request.total_timeout,
            "chat completion",
        )
    }

    /// Streams an answer from the OpenAI-shaped endpoint as it is generated.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// use pinecone_assistant::models::{ChatCompletionRequest, Message};
    /// let reply = client
    ///     .assistant("docs")
    ///     .chat_completions_stream(ChatCompletionRequest::new([Message::user("Hi")]))?
    ///     .into_response()?;
    /// println!("{} {:?}", reply.content(), reply.usage);
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`chat_stream`](Self::chat_stream), without the `json_response` case.
    pub fn chat_completions_stream(
        &self,
        request: ChatCompletionRequest,
    ) -> Result<ChatCompletionStream> {
        let req = self
            .generation_request("/chat/completions", Body::json(&request.body(true))?)?
            .operation("chat_completions_stream");
        let (resp, origin, interrupter, hook) =
            self.open_stream(req, request.timeout, request.total_timeout)?;
        Ok(ChatCompletionStream::from_response(
            resp,
            interrupter,
            hook,
            origin,
        ))
    }
}

/// A generation request sent, with what reading its answer needs.
struct Opened {
    req: Request<'static>,
    resp: RawResponse,
    sent: Sent,
    interrupter: Arc<Interrupter>,
    hook: HookGuard,
}

/// The operation name of a generation request.
fn req_operation(req: &Request<'_>) -> &'static str {
    req.operation.unwrap_or_else(|| {
        let at = req.api_path_at.unwrap_or(0);
        route::classify(req.method, req.url.get(at..).unwrap_or("")).operation
    })
}
