//! Alignment evaluation: how well an answer matches a ground truth.

use serde::{Deserialize, Serialize};

use super::Usage;
use super::open_enum::open_enum;

/// A request for [`Client::evaluate_alignment`](crate::Client::evaluate_alignment).
/// Empty strings are sent as they are.
///
/// ```
/// use pinecone_assistant::models::AlignmentRequest;
/// let r = AlignmentRequest::new(
///     "What is the refund window for annual plans?",
///     "30 days.",
///     "Annual plans can be refunded within 30 days.",
/// );
/// assert!(serde_json::to_string(&r).unwrap().starts_with(r#"{"question":"#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[must_use]
#[non_exhaustive]
// A misspelt option must fail loudly: a dropped `filter` would widen retrieval.
#[serde(deny_unknown_fields)]
pub struct AlignmentRequest {
    /// The question asked.
    pub question: String,
    /// The answer to evaluate.
    pub answer: String,
    /// The answer known to be right.
    pub ground_truth_answer: String,
}

impl AlignmentRequest {
    /// A request comparing `answer` with `ground_truth_answer` for `question`.
    ///
    /// ```
    /// use pinecone_assistant::models::AlignmentRequest;
    /// let r = AlignmentRequest::new("Q?", "A.", "Truth.");
    /// assert_eq!(r.ground_truth_answer, "Truth.");
    /// ```
    pub fn new(
        question: impl Into<String>,
        answer: impl Into<String>,
        ground_truth_answer: impl Into<String>,
    ) -> Self {
        Self {
            question: question.into(),
            answer: answer.into(),
            ground_truth_answer: ground_truth_answer.into(),
        }
    }
}

/// The scores of an evaluation, each from 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AlignmentScores {
    /// Precision: how much of the answer is supported by the ground truth.
    pub correctness: f64,
    /// Recall: how much of the ground truth the answer covers.
    pub completeness: f64,
    /// The harmonic mean of the two.
    pub alignment: f64,
}

/// A fact of the ground truth (`{"content": …}` on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Fact {
    /// The fact.
    pub content: String,
}

open_enum! {
    /// How the answer relates to a fact. Unknown values are kept in `Other`.
    pub enum Entailment {
        /// The answer states the fact.
        Entailed = "entailed",
        /// The answer contradicts it.
        Contradicted = "contradicted",
        /// The answer does not address it.
        Neutral = "neutral",
    }
    /// A value this version does not know.
    Other
}

/// One fact and the verdict on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EvaluatedFact {
    /// The fact.
    pub fact: Fact,
    /// The verdict.
    pub entailment: Entailment,
    /// Why (sent by the service although the schema does not list it; `""` when
    /// absent or `null`).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub reasoning: String,
}

/// An optional string where `null` means the same as absent.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// The reasoning behind the scores.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AlignmentReasoning {
    /// Each fact with its verdict.
    #[serde(default)]
    pub evaluated_facts: Vec<EvaluatedFact>,
}

/// The answer of [`Client::evaluate_alignment`](crate::Client::evaluate_alignment),
/// in its wire shape (`metrics`, `reasoning.evaluated_facts`, `usage`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AlignmentResponse {
    /// The scores.
    pub metrics: AlignmentScores,
    /// The per-fact verdicts.
    #[serde(default)]
    pub reasoning: AlignmentReasoning,
    /// Token counts.
    #[serde(default)]
    pub usage: Usage,
}

impl AlignmentResponse {
    /// The scores (`metrics` on the wire).
    ///
    /// ```
    /// # fn show(r: &pinecone_assistant::models::AlignmentResponse) {
    /// println!("alignment {:.2}", r.scores().alignment);
    /// # }
    /// ```
    pub fn scores(&self) -> &AlignmentScores {
        &self.metrics
    }

    /// The evaluated facts (`reasoning.evaluated_facts` on the wire).
    ///
    /// ```
    /// # fn show(r: &pinecone_assistant::models::AlignmentResponse) {
    /// for f in r.facts() {
    ///     println!("{:?}: {}", f.entailment, f.fact.content);
    /// }
    /// # }
    /// ```
    pub fn facts(&self) -> &[EvaluatedFact] {
        &self.reasoning.evaluated_facts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_request_body() {
        let r = AlignmentRequest::new(
            "What is the refund window for annual plans?",
            "30 days, but only monthly plans are refundable.",
            "Annual plans can be refunded within 30 days.",
        );
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"question":"What is the refund window for annual plans?","answer":"30 days, but only monthly plans are refundable.","ground_truth_answer":"Annual plans can be refunded within 30 days."}"#
        );
    }

    #[test]
    fn numbers_are_strict_and_entailment_open() {
        let bad = serde_json::from_str::<AlignmentResponse>(
            r#"{"metrics":{"correctness":"0.5","completeness":1,"alignment":1}}"#,
        );
        assert!(bad.is_err());
        let ok: AlignmentResponse = serde_json::from_str(
            r#"{"metrics":{"correctness":1,"completeness":1,"alignment":1},"reasoning":{"evaluated_facts":[{"fact":{"content":"x"},"entailment":"partial"}]}}"#,
        )
        .unwrap();
        assert_eq!(
            ok.facts()[0].entailment,
            Entailment::Other("partial".into())
        );
        assert_eq!(ok.facts()[0].reasoning, "");
    }

    #[test]
    fn null_reasoning_reads_as_empty() {
        let ok: AlignmentResponse = serde_json::from_str(
            r#"{"metrics":{"correctness":1,"completeness":1,"alignment":1},"reasoning":{"evaluated_facts":[{"fact":{"content":"x"},"entailment":"entailed","reasoning":null},{"fact":{"content":"y"},"entailment":"neutral","reasoning":"why"}]}}"#,
        )
        .unwrap();
        assert_eq!(ok.facts()[0].reasoning, "");
        assert_eq!(ok.facts()[1].reasoning, "why");
    }
}
