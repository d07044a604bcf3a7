//! Alignment evaluation, on its own host (US by default, EU selectable).

use crate::client::Client;
use crate::error::Result;
use crate::http::retry::RequestClass;
use crate::http::{Body, Method, Request};
use crate::models::{AlignmentRequest, AlignmentResponse};

impl Client {
    /// Scores how well `answer` matches `ground_truth_answer` for `question`:
    /// correctness, completeness and alignment, with a verdict per fact.
    ///
    /// Runs on the evaluation host of the configured region
    /// ([`EvaluationRegion`](crate::EvaluationRegion), US by default) or the
    /// configured `evaluation_host`.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// use pinecone_assistant::models::AlignmentRequest;
    /// let r = client.evaluate_alignment(AlignmentRequest::new(
    ///     "What is the refund window for annual plans?",
    ///     "30 days.",
    ///     "Annual plans can be refunded within 30 days.",
    /// ))?;
    /// println!("alignment {:.2}", r.scores().alignment);
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Api`](crate::Error::Api) when the server refuses (422 for a
    /// malformed request, with the server's message); [`Error::Decode`](crate::Error::Decode)
    /// for an unreadable answer.
    pub fn evaluate_alignment(&self, request: AlignmentRequest) -> Result<AlignmentResponse> {
        let url = format!(
            "{}/assistant/evaluation/metrics/alignment",
            self.config().evaluation_base()
        );
        let req =
            Request::new(Method::Post, url, RequestClass::Generation).body(Body::json(&request)?);
        self.transport
            .json(req, &self.cancel, "alignment evaluation")
    }
}
