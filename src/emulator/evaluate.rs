//! Alignment evaluation, scored by word overlap (docs/wire/endpoints.md).
//!
//! Each sentence of the ground truth is a fact; a fact is entailed when most of
//! its key words appear in the answer. Completeness is the share of entailed
//! facts, correctness the share of answer sentences supported by the ground
//! truth, alignment their harmonic mean.

use serde_json::{Value, json};

use super::index::{query_terms, sentences, token_estimate, tokens};
use super::router::Call;
use super::wire::Reply;

/// A fact counts as covered when this share of its key words is present.
const ENTAILED: f64 = 0.6;

fn basic_error(status: u16, message: impl Into<String>) -> Reply {
    Reply::with_status(status, json!({ "message": message.into() }))
}

/// Share of `claim`'s key words found in `reference`, and the missing ones.
fn coverage(claim: &str, reference: &[String]) -> (f64, Vec<String>) {
    let terms = query_terms(claim);
    if terms.is_empty() {
        return (1.0, Vec::new());
    }
    let missing: Vec<String> = terms
        .iter()
        .filter(|t| !reference.contains(t))
        .cloned()
        .collect();
    (1.0 - missing.len() as f64 / terms.len() as f64, missing)
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The endpoints this module serves (the path below `/assistant`): the reply, or
/// `None` when the request is not one of them.
pub(crate) fn route(call: &Call, method: &str, path: &[&str]) -> Option<Reply> {
    match (method, path) {
        ("POST", ["evaluation", "metrics", "alignment"]) => Some(alignment(call)),
        _ => None,
    }
}

pub(crate) fn alignment(call: &Call) -> Reply {
    let body: Value = match serde_json::from_slice(&call.body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return basic_error(422, "body: a JSON object is required"),
    };
    let mut fields = Vec::new();
    for key in ["question", "answer", "ground_truth_answer"] {
        match body.get(key).and_then(Value::as_str) {
            Some(s) => fields.push(s),
            None => return basic_error(422, format!("{key}: field required")),
        }
    }
    let (question, answer, truth) = (fields[0], fields[1], fields[2]);
    let answer_words = tokens(answer);
    let truth_words = tokens(truth);
    let mut facts = Vec::new();
    let mut entailed = 0usize;
    for fact in sentences(truth) {
        let (share, missing) = coverage(&fact, &answer_words);
        let ok = share >= ENTAILED;
        entailed += usize::from(ok);
        let reasoning = if missing.is_empty() {
            "Every key term of this fact appears in the answer.".to_owned()
        } else {
            format!(
                "{:.0}% of the key terms of this fact appear in the answer; missing: {}.",
                share * 100.0,
                missing.join(", ")
            )
        };
        facts.push(json!({
            "fact": {"content": fact},
            "entailment": if ok { "entailed" } else { "neutral" },
            "reasoning": reasoning,
        }));
    }
    let claims = sentences(answer);
    let supported = claims
        .iter()
        .filter(|c| coverage(c, &truth_words).0 >= ENTAILED)
        .count();
    let ratio = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    let completeness = ratio(entailed, facts.len());
    let correctness = ratio(supported, claims.len());
    let alignment = if completeness + correctness == 0.0 {
        0.0
    } else {
        2.0 * completeness * correctness / (completeness + correctness)
    };
    let prompt = token_estimate(question) + token_estimate(answer) + token_estimate(truth);
    let completion = facts
        .iter()
        .map(|f| token_estimate(f["reasoning"].as_str().unwrap_or_default()))
        .sum::<u64>();
    Reply::ok(json!({
        "metrics": {"correctness": round(correctness), "completeness": round(completeness), "alignment": round(alignment)},
        "reasoning": {"evaluated_facts": facts},
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }))
}
