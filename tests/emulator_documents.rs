//! The emulator reads PDF and DOCX files page by page: uploads through the client,
//! then context, chat and completions that name the right page, multimodal
//! snippets, and files it cannot read failing their operation with a reason.

mod support;

use std::time::Duration;

use pinecone_assistant::emulator::Emulator;
use pinecone_assistant::models::{
    ChatCompletionRequest, ChatRequest, ChatStreamChunk, CreateAssistantRequest,
    DescribeFileOptions, Message, UploadFile,
};
use pinecone_assistant::{Assistant, Wait};
use serde_json::{Value, json};
use support::program::{call, document, polling_client};

fn emulator() -> Emulator {
    Emulator::builder()
        .ready_delay(Duration::ZERO)
        .processing_delay(Duration::from_millis(20))
        .seed(11)
        .start()
        .expect("emulator starts")
}

fn assistant(emu: &Emulator, name: &str) -> Assistant {
    let c = polling_client(emu);
    c.create_assistant(CreateAssistantRequest::new(name), Wait::Forever)
        .unwrap();
    c.assistant(name)
}

fn upload(docs: &Assistant, file: UploadFile) -> String {
    let done = docs.upload_file(file, Wait::Forever).expect("processed");
    done.file.expect("the file is described").id
}

fn context(emu: &Emulator, assistant: &str, body: Value) -> Value {
    let (status, body) = call(
        emu.url(),
        emu.api_key(),
        "POST",
        &format!("/assistant/chat/{assistant}/context"),
        Some(body),
    );
    assert_eq!(status, 200, "{body}");
    body
}

#[test]
fn a_pdf_answers_context_chat_and_completions_citing_the_right_page() {
    let emu = emulator();
    let docs = assistant(&emu, "kettle");
    let id = upload(
        &docs,
        UploadFile::path(document("kettle-handbook.pdf")).metadata(json!({"kind": "manual"})),
    );
    let (_, described) = call(
        emu.url(),
        emu.api_key(),
        "GET",
        &format!("/assistant/files/kettle/{id}"),
        None,
    );
    assert_eq!(described["status"], "Available", "{described}");

    // Each page's topic is found on that page.
    for (query, page, text) in [
        ("boils one litre", 1, "90 seconds"),
        ("descale vinegar", 2, "white vinegar"),
        ("warranty refunds receipt", 3, "three year warranty"),
    ] {
        let body = context(&emu, "kettle", json!({"query": query, "top_k": 1}));
        let snippet = &body["snippets"][0];
        assert_eq!(snippet["type"], "text", "{body}");
        assert_eq!(snippet["reference"]["type"], "pdf", "{body}");
        assert_eq!(
            snippet["reference"]["pages"],
            json!([page]),
            "{query}: {body}"
        );
        assert_eq!(snippet["reference"]["file"]["name"], "kettle-handbook.pdf");
        assert!(
            snippet["content"].as_str().unwrap().contains(text),
            "{query}: {body}"
        );
    }

    // Chat through the client: the citation names page 2.
    let answer = docs
        .chat(
            ChatRequest::new([Message::user("How often should I descale the kettle?")])
                .include_highlights(true),
        )
        .unwrap();
    assert!(
        answer.message.content.contains("every month"),
        "{}",
        answer.message.content
    );
    let reference = &answer.citations[0].references[0];
    assert_eq!(
        reference.file.as_ref().map(|f| f.name.as_str()),
        Some("kettle-handbook.pdf")
    );
    assert_eq!(reference.pages, [2]);
    let highlight = reference.highlight.as_ref().expect("a highlight");
    assert!(highlight.content.contains("white vinegar"), "{highlight:?}");

    // The streamed answer cites the same page.
    let stream = docs
        .chat_stream(ChatRequest::new([Message::user(
            "How long is the warranty on the kettle?",
        )]))
        .unwrap();
    let pages: Vec<Vec<u32>> = stream
        .filter_map(|c| match c.unwrap() {
            ChatStreamChunk::Citation(c) => Some(c.citation.references[0].pages.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(pages.first(), Some(&vec![3]), "{pages:?}");

    // Completions cite inline with the page, as the service writes it.
    let completion = docs
        .chat_completions(ChatCompletionRequest::new([Message::user(
            "How often should I descale the kettle?",
        )]))
        .unwrap();
    let text = completion.choices[0]
        .message
        .content
        .clone()
        .unwrap_or_default();
    assert!(text.contains("[1, pp. 2]"), "{text}");

    // The bytes come back unchanged from the signed link.
    let url = docs
        .describe_file_with(&id, DescribeFileOptions::new().include_url(true))
        .unwrap()
        .signed_url
        .expect("a link");
    let mut resp = ureq::get(&url).call().unwrap();
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/pdf"
    );
    assert_eq!(
        resp.body_mut().read_to_vec().unwrap(),
        std::fs::read(document("kettle-handbook.pdf")).unwrap()
    );
}

#[test]
fn pdfs_from_other_layouts_and_fonts_are_read() {
    let emu = emulator();
    let docs = assistant(&emu, "layouts");
    upload(&docs, UploadFile::path(document("cafe-menu.pdf")));
    upload(&docs, UploadFile::path(document("typeset.pdf")));
    // Only the owner's rights are protected: opens without a password.
    upload(&docs, UploadFile::path(document("restricted.pdf")));

    let body = context(
        &emu,
        "layouts",
        json!({"query": "crème brûlée raspberries"}),
    );
    let top = &body["snippets"][0];
    assert_eq!(top["reference"]["file"]["name"], "cafe-menu.pdf", "{body}");
    assert!(
        top["content"]
            .as_str()
            .unwrap()
            .contains("The crème brûlée is served with fresh raspberries."),
        "{body}"
    );
    // Words spaced by kerning, lines moved inside one text object.
    let body = context(&emu, "layouts", json!({"query": "limescale heating plate"}));
    let top = &body["snippets"][0];
    assert_eq!(top["reference"]["file"]["name"], "typeset.pdf", "{body}");
    assert_eq!(top["reference"]["pages"], json!([2]));
    assert_eq!(
        top["content"],
        "Limescale\n\nHard water leaves limescale on the heating plate within weeks."
    );
    let body = context(&emu, "layouts", json!({"query": "dishwasher"}));
    assert_eq!(
        body["snippets"][0]["reference"]["file"]["name"],
        "restricted.pdf"
    );
}

#[test]
fn a_docx_is_read_page_by_page_with_its_tables() {
    let emu = emulator();
    let docs = assistant(&emu, "word");
    let id = upload(&docs, UploadFile::path(document("kettle-handbook.docx")));
    let body = context(
        &emu,
        "word",
        json!({"query": "warranty refunds receipt", "top_k": 1}),
    );
    let snippet = &body["snippets"][0];
    assert_eq!(snippet["reference"]["type"], "doc_x", "{body}");
    assert_eq!(snippet["reference"]["pages"], json!([3]), "{body}");
    assert_eq!(snippet["reference"]["file"]["id"], id.as_str());
    // A table cell's text is indexed with its row.
    let body = context(&emu, "word", json!({"query": "descaling interval"}));
    let snippet = &body["snippets"][0];
    assert_eq!(snippet["reference"]["pages"], json!([2]), "{body}");
    assert!(
        snippet["content"]
            .as_str()
            .unwrap()
            .contains("Descaling interval | monthly"),
        "{body}"
    );
    let answer = docs
        .chat(ChatRequest::new([Message::user(
            "Can I put the kettle in the dishwasher?",
        )]))
        .unwrap();
    assert_eq!(answer.citations[0].references[0].pages, [2]);
}

/// Uploads `data` as `name` and returns the operation failure's text.
fn failure(docs: &Assistant, data: Vec<u8>, name: &str) -> String {
    let e = docs
        .upload_file(UploadFile::bytes(data, name), Wait::Forever)
        .expect_err("processing fails");
    e.to_string()
}

#[test]
fn unreadable_documents_fail_their_operation_with_the_reason() {
    let emu = emulator();
    let docs = assistant(&emu, "broken");
    let read = |name: &str| std::fs::read(document(name)).unwrap();
    for (name, data, reason) in [
        (
            "encrypted.pdf",
            read("encrypted.pdf"),
            "File processing failed: the PDF is encrypted and needs a password to open",
        ),
        (
            "corrupt.pdf",
            read("corrupt.pdf"),
            "File processing failed: the PDF is damaged and cannot be read",
        ),
        (
            "scanned.pdf",
            read("scanned.pdf"),
            "File processing failed: the PDF holds only images and no text layer",
        ),
        (
            "memo.docx",
            b"just text, not a zip".to_vec(),
            "File processing failed: the DOCX file is not a valid zip archive",
        ),
        (
            "notes.txt",
            vec![b'o', b'k', 0xff],
            "File processing failed: the file is not UTF-8 text",
        ),
    ] {
        let message = failure(&docs, data, name);
        assert!(message.contains(reason), "{name}: {message}");
    }
    // Each left a file that failed processing, and an operation that says why.
    let (_, files) = call(
        emu.url(),
        emu.api_key(),
        "GET",
        "/assistant/files/broken",
        None,
    );
    assert_eq!(
        support::texts_of(&files["files"], "status"),
        ["ProcessingFailed"; 5]
    );
    let (_, ops) = call(
        emu.url(),
        emu.api_key(),
        "GET",
        "/assistant/operations/broken?status=Failed",
        None,
    );
    let ops = ops["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 5);
    assert!(
        ops.iter().all(|o| o["error_message"]
            .as_str()
            .unwrap()
            .starts_with("File processing failed: ")),
        "{ops:?}"
    );
}

/// The image of the top snippet of a multimodal context answer: its second
/// content block follows the page's text.
fn picture_of(context: &Value) -> &Value {
    &context["snippets"][0]["content"][1]["image"]
}

#[test]
fn multimodal_pdfs_give_image_snippets_with_a_placeholder_per_page() {
    let emu = emulator();
    let docs = assistant(&emu, "pictures");
    upload(
        &docs,
        UploadFile::path(document("kettle-handbook.pdf"))
            .multimodal(true)
            .file_id("handbook"),
    );
    upload(
        &docs,
        UploadFile::path(document("cafe-menu.pdf")).file_id("menu"),
    );
    // Multimodal and binary content are the defaults.
    let body = context(
        &emu,
        "pictures",
        json!({"query": "descale vinegar", "top_k": 1}),
    );
    let snippet = &body["snippets"][0];
    assert_eq!(snippet["type"], "multimodal", "{body}");
    assert_eq!(snippet["reference"]["pages"], json!([2]));
    assert!(snippet["score"].as_f64().unwrap() > 0.0);
    let blocks = snippet["content"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "text");
    assert!(
        blocks[0]["text"]
            .as_str()
            .unwrap()
            .contains("white vinegar")
    );
    assert_eq!(blocks[1]["type"], "image");
    assert_eq!(
        blocks[1]["caption"],
        "Placeholder for the images on page 2 of kettle-handbook.pdf."
    );
    let image = &blocks[1]["image"];
    assert_eq!(
        (&image["type"], &image["mime_type"]),
        (&json!("base64"), &json!("image/png"))
    );
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD
        .decode(image["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    // Another page, another picture; the same page, the same picture.
    let page3 = context(
        &emu,
        "pictures",
        json!({"query": "warranty receipt", "top_k": 1}),
    );
    assert_eq!(page3["snippets"][0]["reference"]["pages"], json!([3]));
    assert_ne!(picture_of(&page3)["data"], image["data"]);
    let again = context(
        &emu,
        "pictures",
        json!({"query": "descale vinegar", "top_k": 1}),
    );
    assert_eq!(picture_of(&again)["data"], image["data"]);

    // Without binary content the block keeps its caption and loses its data.
    let body = context(
        &emu,
        "pictures",
        json!({"query": "descale vinegar", "top_k": 1, "include_binary_content": false}),
    );
    assert_eq!(picture_of(&body), &Value::Null);
    assert!(body["snippets"][0]["content"][1]["caption"].is_string());
    // Asking for text only, or a file uploaded without multimodal: text snippets.
    let body = context(
        &emu,
        "pictures",
        json!({"query": "descale vinegar", "top_k": 1, "multimodal": false}),
    );
    assert_eq!(body["snippets"][0]["type"], "text");
    let body = context(
        &emu,
        "pictures",
        json!({"query": "raspberries", "top_k": 1}),
    );
    assert_eq!(body["snippets"][0]["type"], "text");
    assert_eq!(body["snippets"][0]["reference"]["file"]["id"], "menu");
    // A wrong type is refused, naming the field.
    let (status, e) = call(
        emu.url(),
        emu.api_key(),
        "POST",
        "/assistant/chat/pictures/context",
        Some(json!({"query": "x", "multimodal": "yes"})),
    );
    assert_eq!(status, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("multimodal"),
        "{e}"
    );
}
