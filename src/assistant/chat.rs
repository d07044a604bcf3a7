//! Retrieval and generation: context, chat and chat completions, plain and streamed.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use std::time::Duration;

use crate::assistant::Assistant;
use crate::error::{Error, Result};
use crate::http::interrupt::Interrupter;
use crate::http::retry::RequestClass;
use crate::http::{Body, Method, RawResponse, Request, read_reply};
use crate::models::{
    ChatCompletionRequest, ChatCompletionResponse, ChatRequest, ChatResponse, ContextRequest,
    ContextResponse,
};
use crate::stream::{ChatCompletionStream, ChatStream};

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

    /// Sends a generation request on its own, interruptible connection and returns
    /// the response with its hook on the client's cancel handle, so cancelling
    /// stops it even while the model is still writing.
    fn open_interruptible(
        &self,
        mut req: Request<'static>,
        timeout: Option<Duration>,
    ) -> Result<(RawResponse, Arc<Interrupter>, crate::cancel::HookGuard)> {
        let interrupter = Arc::new(Interrupter::default());
        let hook = {
            let interrupter = interrupter.clone();
            self.client
                .cancel
                .on_cancel(move || interrupter.interrupt())
        };
        req = req
            .read_timeout(self.generation_read_timeout(timeout))
            .interruptible(interrupter.clone());
        match self.send_data(&mut req) {
            Ok(resp) => Ok((resp, interrupter, hook)),
            Err(_) if interrupter.is_interrupted() => Err(Error::Cancelled),
            Err(e) => Err(e),
        }
    }

    /// Sends a generation request interruptibly and decodes the whole answer; a
    /// cancel while the answer is awaited gives [`Error::Cancelled`].
    fn generate<T: DeserializeOwned>(
        &self,
        req: Request<'static>,
        timeout: Option<Duration>,
        what: &str,
    ) -> Result<T> {
        let limit = req.max_body;
        let (resp, interrupter, _hook) = self.open_interruptible(req, timeout)?;
        match read_reply(resp, limit) {
            Ok(reply) => reply.decode(what),
            Err(_) if interrupter.is_interrupted() => Err(Error::Cancelled),
            Err(e) => Err(e),
        }
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
        self.generate(req, request.timeout, "chat response")
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
        let req = self.generation_request("", Body::json(&request.body(true))?)?;
        let (resp, interrupter, hook) = self.open_interruptible(req, request.timeout)?;
        Ok(ChatStream::from_response(resp, interrupter, hook))
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
        self.generate(req, request.timeout, "chat completion")
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
        let req = self.generation_request("/chat/completions", Body::json(&request.body(true))?)?;
        let (resp, interrupter, hook) = self.open_interruptible(req, request.timeout)?;
        Ok(ChatCompletionStream::from_response(resp, interrupter, hook))
    }
}
