//! Retrieval and answers: context, chat and chat completions (docs/wire/endpoints.md).
//!
//! Answers are extractive and deterministic: the sentences of the best-ranked
//! snippets that share the most words with the question, each followed by a
//! citation of the file (and, for PDF and DOCX files, the page) it came from.
//!
//! Context for a PDF uploaded with `multimodal=true` comes as `multimodal`
//! snippets: the text, then one image block for its page, captioned, with a
//! placeholder PNG as its data (or `null` data without `include_binary_content`).
//! The real service instead returns the figures it found on the page, with
//! captions a model wrote, as separate snippets scored on their own.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use super::Shared;
use super::documents::{FileKind, placeholder_png};
use super::files::live;
use super::filter;
use super::index::{self, query_terms, token_estimate};
use super::router::Call;
use super::wire::{self, Reply, StreamBody};

/// Said when nothing relevant was found.
const NO_INFORMATION: &str =
    "I could not find any information about that in the assistant's files.";

/// A retrieved snippet.
struct Hit {
    file: Value,
    kind: FileKind,
    text: String,
    score: f64,
    /// The page the snippet is on (1 for kinds without pages).
    page: u32,
    /// The file was uploaded with `multimodal=true`.
    multimodal: bool,
}

/// A snippet's reference: `type`, the file, and `pages` for paged kinds.
fn reference(hit: &Hit) -> Value {
    let mut r = json!({"type": hit.kind.reference_type(), "file": hit.file});
    if hit.kind.paged() {
        r["pages"] = json!([hit.page]);
    }
    r
}

/// A context snippet: plain text, or for a multimodal PDF the text and an
/// image block standing for the pictures of its page.
fn snippet(hit: &Hit, multimodal: bool, binary: bool) -> Value {
    if !(multimodal && hit.multimodal && hit.kind == FileKind::Pdf) {
        return json!({"type": "text", "content": hit.text, "score": hit.score, "reference": reference(hit)});
    }
    let name = hit.file["name"].as_str().unwrap_or_default();
    let image = binary.then(|| {
        json!({"type": "base64", "mime_type": "image/png", "data": wire::base64(&placeholder_png(hit.page))})
    });
    json!({
        "type": "multimodal",
        "content": [
            {"type": "text", "text": hit.text},
            {"type": "image", "caption": format!("Placeholder for the images on page {} of {name}.", hit.page), "image": image},
        ],
        "score": hit.score,
        "reference": reference(hit),
    })
}

/// An optional boolean of a request body.
fn flag(body: &Map<String, Value>, name: &str, default: bool) -> Result<bool, Reply> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(wire::invalid(format!(
            "{name} must be true or false, got {other}"
        ))),
    }
}

/// The parsed knobs shared by the three endpoints.
struct Ask {
    question: String,
    all_text: String,
    filter: Option<Value>,
}

fn messages(body: &Map<String, Value>) -> Result<Vec<(String, String)>, Reply> {
    let list = body
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| wire::invalid("messages (an array of {role, content}) is required"))?;
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            let content = m.get("content").and_then(Value::as_str);
            let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
            content
                .map(|c| (role.to_owned(), c.to_owned()))
                .ok_or_else(|| wire::invalid(format!("messages[{i}].content must be a string")))
        })
        .collect()
}

fn read_filter(body: &Map<String, Value>) -> Result<Option<Value>, Reply> {
    match body.get("filter") {
        None | Some(Value::Null) => Ok(None),
        Some(f) => filter::validate(f)
            .map(|()| Some(f.clone()))
            .map_err(|e| wire::invalid(format!("invalid filter: {e}"))),
    }
}

fn ask(body: &Map<String, Value>, msgs: &[(String, String)]) -> Result<Ask, Reply> {
    let question = msgs
        .iter()
        .rev()
        .find(|(role, _)| role == "user")
        .or(msgs.last())
        .map(|(_, c)| c.clone())
        .unwrap_or_default();
    Ok(Ask {
        question,
        all_text: msgs
            .iter()
            .map(|(_, c)| c.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        filter: read_filter(body)?,
    })
}

fn int(v: Option<&Value>, name: &str, default: usize, max: usize) -> Result<usize, Reply> {
    match v {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_u64()
            .map(|n| (n as usize).min(max))
            .ok_or_else(|| wire::invalid(format!("{name} must be a non-negative integer"))),
    }
}

/// `top_k` and `snippet_size` from the body of a context request or from a
/// chat's `context_options` (`prefix` leads to them in error messages), with the
/// service's defaults and caps.
fn retrieval_sizes(
    settings: Option<&Map<String, Value>>,
    prefix: &str,
) -> Result<(usize, usize), Reply> {
    let get = |key: &str| settings.and_then(|s| s.get(key));
    Ok((
        int(get("top_k"), &format!("{prefix}top_k"), 16, 64)?,
        int(
            get("snippet_size"),
            &format!("{prefix}snippet_size"),
            2048,
            8192,
        )?,
    ))
}

/// The best `top_k` snippets of the assistant's available files for `query`,
/// each cut to about `snippet_size` tokens; also the assistant's instructions.
fn retrieve(
    shared: &Shared,
    name: &str,
    query: &str,
    flt: Option<&Value>,
    top_k: usize,
    snippet_size: usize,
) -> Result<(Vec<Hit>, String), Reply> {
    let mut st = shared.state();
    let a = live(&mut st, name)?;
    let instructions = a.instructions.clone().unwrap_or_default();
    let files: Vec<_> = a
        .files
        .iter()
        .filter(|f| f.status == "Available")
        .filter(|f| flt.is_none_or(|flt| filter::matches(flt, f.metadata.as_ref())))
        .collect();
    let chunks: Vec<(usize, &index::Chunk)> = files
        .iter()
        .enumerate()
        .flat_map(|(i, f)| f.chunks.iter().map(move |c| (i, c)))
        .collect();
    let refs: Vec<&index::Chunk> = chunks.iter().map(|(_, c)| *c).collect();
    // The service's snippet size is in tokens; about four characters each.
    let max_chars = snippet_size.clamp(512, 8192) * 4;
    let hits = index::rank(&refs, &query_terms(query))
        .into_iter()
        .take(top_k)
        .map(|(i, score)| {
            let (fi, chunk) = chunks[i];
            let text: String = chunk.text.chars().take(max_chars).collect();
            Hit {
                file: files[fi].to_json(None),
                kind: files[fi].kind,
                text,
                score: index::normalise(score),
                page: chunk.page,
                multimodal: files[fi].multimodal,
            }
        })
        .collect();
    Ok((hits, instructions))
}

fn usage(prompt: u64, completion: u64) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

/// The endpoints this module serves (the path below `/assistant`): the reply, or
/// `None` when the request is not one of them.
pub(crate) fn route(shared: &Shared, call: &Call, method: &str, path: &[&str]) -> Option<Reply> {
    Some(match (method, path) {
        ("POST", ["chat", a]) => chat(shared, call, a),
        ("POST", ["chat", a, "context"]) => context(shared, call, a),
        ("POST", ["chat", a, "chat", "completions"]) => completions(shared, call, a),
        _ => return None,
    })
}

pub(crate) fn context(shared: &Shared, call: &Call, name: &str) -> Reply {
    run(|| {
        let body = call.json()?;
        let query = match body
            .get("query")
            .and_then(Value::as_str)
            .filter(|q| !q.is_empty())
        {
            Some(q) => q.to_owned(),
            None => {
                let msgs = messages(&body).map_err(|_| wire::invalid("send query or messages"))?;
                if msgs.is_empty() {
                    return Err(wire::invalid("send query or messages"));
                }
                msgs.into_iter()
                    .map(|(_, c)| c)
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        };
        let flt = read_filter(&body)?;
        let (top_k, size) = retrieval_sizes(Some(&body), "")?;
        // Both default to true on the service.
        let multimodal = flag(&body, "multimodal", true)?;
        let binary = flag(&body, "include_binary_content", true)?;
        let (hits, _) = retrieve(shared, name, &query, flt.as_ref(), top_k, size)?;
        let prompt =
            token_estimate(&query) + hits.iter().map(|h| token_estimate(&h.text)).sum::<u64>();
        let snippets: Vec<Value> = hits
            .iter()
            .map(|h| snippet(h, multimodal, binary))
            .collect();
        let id = format!("ctx-{}", &shared.state().ids.hex32()[..8]);
        Ok(Reply::ok(
            json!({"id": id, "snippets": snippets, "usage": usage(prompt, 0)}),
        ))
    })
}

fn run(f: impl FnOnce() -> Result<Reply, Reply>) -> Reply {
    f().unwrap_or_else(|r| r)
}

/// An extractive answer: its text and, per sentence, the end offset (in
/// characters), the snippet it came from and the sentence itself.
struct Answer {
    text: String,
    cited: Vec<(usize, usize, String)>,
}

fn compose(hits: &[Hit], question: &str) -> Answer {
    let terms = query_terms(question);
    // Candidates: (snippet rank, position in snippet, sentence, question words it has).
    let mut candidates: Vec<(usize, usize, String, Vec<&String>)> = Vec::new();
    for (i, hit) in hits.iter().enumerate().take(3) {
        for (k, s) in index::sentences(&hit.text).into_iter().enumerate() {
            let words = index::tokens(&s);
            let has: Vec<&String> = terms.iter().filter(|t| words.contains(t)).collect();
            if !has.is_empty() && !candidates.iter().any(|c| c.2 == s) {
                candidates.push((i, k, s, has));
            }
        }
    }
    // Greedy cover: each pick must bring a question word the answer lacks, so a
    // two-part question gets both parts and repetition is avoided.
    let mut covered: Vec<&String> = Vec::new();
    let mut picked: Vec<(usize, usize, String)> = Vec::new();
    while picked.len() < 3 {
        let best = candidates
            .iter()
            .map(|c| {
                let gain = c.3.iter().filter(|t| !covered.contains(t)).count();
                // Headings ("Refunds.") match well but say nothing: real sentences first.
                let prose = c.2.split_whitespace().count() > 3;
                ((gain, prose, c.3.len()), c)
            })
            .filter(|(key, _)| key.0 > 0)
            .max_by(|a, b| a.0.cmp(&b.0).then((b.1.0, b.1.1).cmp(&(a.1.0, a.1.1))));
        let Some((_, c)) = best else { break };
        covered.extend(c.3.iter().copied());
        picked.push((c.0, c.1, c.2.clone()));
    }
    picked.sort_by_key(|p| (p.0, p.1));
    let picked: Vec<(usize, String)> = picked.into_iter().map(|(i, _, s)| (i, s)).collect();
    let mut text = String::new();
    let mut cited = Vec::new();
    for (i, s) in picked {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&s);
        cited.push((text.chars().count(), i, s));
    }
    if text.is_empty() {
        text = NO_INFORMATION.to_owned();
    }
    Answer { text, cited }
}

/// The request parts that every chat flavour reads.
struct Prepared {
    model: String,
    answer: Answer,
    hits: Vec<Hit>,
    prompt_tokens: u64,
    stream: bool,
}

fn prepare(
    shared: &Shared,
    call: &Call,
    name: &str,
) -> Result<(Prepared, Map<String, Value>), Reply> {
    let body = call.json()?;
    let msgs = messages(&body)?;
    let ask = ask(&body, &msgs)?;
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("gpt-4o")
        .to_owned();
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let settings = body.get("context_options").and_then(Value::as_object);
    let (top_k, size) = retrieval_sizes(settings, "context_options.")?;
    let (hits, instructions) = retrieve(
        shared,
        name,
        &ask.question,
        ask.filter.as_ref(),
        top_k,
        size,
    )?;
    let prompt_tokens = token_estimate(&instructions)
        + token_estimate(&ask.all_text)
        + hits.iter().map(|h| token_estimate(&h.text)).sum::<u64>();
    let answer = compose(&hits, &ask.question);
    Ok((
        Prepared {
            model,
            answer,
            hits,
            prompt_tokens,
            stream,
        },
        body,
    ))
}

/// Pieces of a few words each, keeping the spaces, so a stream has several chunks.
fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut words = 0;
    for ch in text.chars() {
        if ch == ' ' && !cur.is_empty() {
            words += 1;
            if words == 4 {
                out.push(std::mem::take(&mut cur));
                words = 0;
            }
        }
        cur.push(ch);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

pub(crate) fn chat(shared: &Shared, call: &Call, name: &str) -> Reply {
    run(|| {
        let (p, body) = prepare(shared, call, name)?;
        let json_response = body
            .get("json_response")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let highlights = body
            .get("include_highlights")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if json_response && p.stream {
            return Err(wire::invalid(
                "json_response cannot be combined with stream",
            ));
        }
        let mut content = p.answer.text.clone();
        let mut cited = p.answer.cited.clone();
        if json_response {
            let sources: Vec<&Value> = p
                .answer
                .cited
                .iter()
                .map(|(_, i, _)| &p.hits[*i].file["name"])
                .collect();
            content = json!({"answer": p.answer.text, "sources": sources}).to_string();
            let end = content.chars().count();
            cited.iter_mut().for_each(|c| c.0 = end);
        }
        let citations: Vec<Value> = cited
            .iter()
            .map(|(pos, i, sentence)| {
                let mut r = reference(&p.hits[*i]);
                r.as_object_mut().map(|o| o.remove("type"));
                if highlights {
                    r["highlight"] = json!({"type": "text", "content": sentence});
                }
                json!({"position": pos, "references": [r]})
            })
            .collect();
        let completion = token_estimate(&content);
        let id = shared.state().ids.hex32();
        let count = p.hits.len();
        if !p.stream {
            return Ok(Reply::ok(json!({
                "id": id,
                "model": p.model,
                "usage": usage(p.prompt_tokens, completion),
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
                "citations": citations,
                "context_snippet_count": count,
            })));
        }
        let mut events = vec![
            json!({"type": "message_start", "id": id, "model": p.model, "role": "assistant", "context_snippet_count": count}),
        ];
        for piece in pieces(&content) {
            events.push(json!({"type": "content_chunk", "id": id, "model": p.model, "delta": {"content": piece}}));
        }
        for c in citations {
            events.push(json!({"type": "citation", "id": id, "model": p.model, "citation": c}));
        }
        events.push(json!({"type": "message_end", "id": id, "model": p.model, "finish_reason": "stop", "usage": usage(p.prompt_tokens, completion)}));
        Ok(Reply::Stream(StreamBody {
            events: events.iter().map(Value::to_string).collect(),
            done_marker: false,
        }))
    })
}

pub(crate) fn completions(shared: &Shared, call: &Call, name: &str) -> Reply {
    run(|| {
        let (p, _) = prepare(shared, call, name)?;
        // Citations travel inline, as the service writes them: "[1]" after a
        // sentence, "[1, pp. 4]" when the source has pages.
        let mut content = String::new();
        let mut last = 0;
        let chars: Vec<char> = p.answer.text.chars().collect();
        for (n, (pos, hit, _)) in p.answer.cited.iter().enumerate() {
            content.extend(&chars[last..*pos]);
            let hit = &p.hits[*hit];
            if hit.kind.paged() {
                content.push_str(&format!(" [{}, pp. {}]", n + 1, hit.page));
            } else {
                content.push_str(&format!(" [{}]", n + 1));
            }
            last = *pos;
        }
        content.extend(&chars[last..]);
        let completion = token_estimate(&content);
        let id = shared.state().ids.hex32();
        if !p.stream {
            return Ok(Reply::ok(json!({
                "id": id,
                "model": p.model,
                "usage": usage(p.prompt_tokens, completion),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            })));
        }
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let chunk = |choices: Value| json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": p.model, "choices": choices});
        let mut events = vec![chunk(
            json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]),
        )];
        for piece in pieces(&content) {
            events.push(chunk(
                json!([{"index": 0, "delta": {"content": piece}, "finish_reason": null}]),
            ));
        }
        events.push(chunk(
            json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        ));
        let mut last_chunk = chunk(json!([]));
        last_chunk["usage"] = usage(p.prompt_tokens, completion);
        events.push(last_chunk);
        Ok(Reply::Stream(StreamBody {
            events: events.iter().map(Value::to_string).collect(),
            done_marker: true,
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_rejoin_to_the_text() {
        let t = "Annual plans can be refunded within 30 days of purchase.";
        let p = pieces(t);
        assert!(p.len() > 1);
        assert_eq!(p.concat(), t);
    }
}
