"""Drives the official Python SDK (pinecone 10.2.0) against the emulator.

Usage: python_sdk_compat.py [URL API_KEY]

Without arguments the SDK reads PINECONE_CONTROLLER_HOST and PINECONE_API_KEY
from the environment, as the emulator program prints them. Every assistant
operation is called once the way a user would, and a PDF is uploaded and cited by
page; the script exits non-zero on the first failure, naming the step.
"""

import base64
import os
import sys
import tempfile
import traceback

STEPS = []


def step(name):
    def wrap(fn):
        STEPS.append((name, fn))
        return fn

    return wrap


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HANDBOOK_PDF = os.path.join(ROOT, "tests", "fixtures", "documents", "kettle-handbook.pdf")


def main():
    if len(sys.argv) == 3:
        url, key = sys.argv[1], sys.argv[2]
        # 10.2.0 sends evaluation to a fixed production host unless this is set.
        os.environ["PINECONE_PLUGIN_ASSISTANT_DATA_HOST"] = url
        os.environ["PINECONE_CONTROLLER_HOST"] = url
        os.environ["PINECONE_API_KEY"] = key
    for var in ("PINECONE_CONTROLLER_HOST", "PINECONE_API_KEY", "PINECONE_PLUGIN_ASSISTANT_DATA_HOST"):
        if not os.environ.get(var):
            print(f"FAIL setup: {var} is not set")
            return 1
    from pinecone import Pinecone

    pc = Pinecone()
    ns = pc.assistants
    ctx = {"ns": ns, "name": "compat-bot"}
    for name, fn in STEPS:
        try:
            detail = fn(ctx)
        except Exception:  # noqa: BLE001 - every failure is reported the same way
            print(f"FAIL {name}")
            traceback.print_exc()
            return 1
        print(f"ok   {name}" + (f": {detail}" if detail else ""))
    print(f"all {len(STEPS)} steps passed")
    return 0


def check(cond, what):
    if not cond:
        raise AssertionError(what)


@step("create (wait until Ready)")
def create(c):
    a = c["ns"].create(name=c["name"], instructions="Answer from the manual.", metadata={"team": "support"}, region="us")
    check(a.status == "Ready", f"status {a.status}")
    return a.host


@step("describe")
def describe(c):
    a = c["ns"].describe(name=c["name"])
    check(a.name == c["name"] and a.metadata == {"team": "support"}, repr(a))


@step("list")
def list_all(c):
    names = [a.name for a in c["ns"].list()]
    check(c["name"] in names, names)
    page = c["ns"].list_page(page_size=1)
    check(len(page.assistants) == 1, page)


@step("update")
def update(c):
    a = c["ns"].update(name=c["name"], instructions="Be brief.")
    check(a.instructions == "Be brief.", repr(a))


MANUAL = """# Aurora Lamp manual

The Aurora lamp runs for 40 hours on one charge.

## Warranty

The Aurora lamp has a three year warranty covering defects.
"""


@step("upload a Markdown file with metadata (wait)")
def upload(c):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "aurora-manual.md")
        with open(path, "w") as f:
            f.write(MANUAL)
        file = c["ns"].upload_file(assistant_name=c["name"], file_path=path, metadata={"product": "aurora"})
    check(file.status == "Available", repr(file))
    check(file.metadata == {"product": "aurora"}, repr(file))
    c["file_id"] = file.id
    return file.id


@step("upsert a text file from a stream (file_id)")
def upsert(c):
    import io

    file = c["ns"].upload_file(
        assistant_name=c["name"], file_stream=io.BytesIO(b"Aurora ships in blue and white."), file_name="colours.txt", file_id="colours"
    )
    check(file.id == "colours" and file.status == "Available", repr(file))


@step("list files (with a filter)")
def list_files(c):
    files = list(c["ns"].list_files(assistant_name=c["name"]))
    check(len(files) == 2, files)
    only = list(c["ns"].list_files(assistant_name=c["name"], filter={"product": {"$eq": "aurora"}}))
    check([f.id for f in only] == [c["file_id"]], only)


@step("describe file")
def describe_file(c):
    f = c["ns"].describe_file(assistant_name=c["name"], file_id=c["file_id"], include_url=True)
    check(f.name == "aurora-manual.md" and f.signed_url, repr(f))


@step("list operations / describe operation")
def operations(c):
    ops = list(c["ns"].list_operations(assistant_name=c["name"], status="Completed"))
    check(len(ops) == 2, ops)
    op = c["ns"].describe_operation(assistant_name=c["name"], operation_id=ops[0].operation_id)
    check(op.status == "Completed", repr(op))


QUESTION = [{"role": "user", "content": "How long does the Aurora lamp run on a charge?"}]


@step("chat")
def chat(c):
    r = c["ns"].chat(assistant_name=c["name"], messages=QUESTION, include_highlights=True, context_options={"top_k": 4})
    check("40 hours" in r.message.content, r.message.content)
    check(r.citations and r.citations[0].references[0].file.name == "aurora-manual.md", r.citations)
    check(r.usage.total_tokens > 0, r.usage)
    return r.message.content


@step("chat (streamed)")
def chat_stream(c):
    stream = c["ns"].chat(assistant_name=c["name"], messages=QUESTION, stream=True)
    kinds, text = [], []
    for chunk in stream:
        kinds.append(chunk.type)
        if chunk.type == "content_chunk":
            text.append(chunk.delta.content)
    check(kinds[0] == "message_start" and kinds[-1] == "message_end" and "citation" in kinds, kinds)
    check("40 hours" in "".join(text), text)
    return f"{len(kinds)} chunks"


@step("context")
def context(c):
    r = c["ns"].context(assistant_name=c["name"], query="warranty", top_k=2)
    check(r.snippets and "warranty" in r.snippets[0].content, r)
    check(r.snippets[0].reference.type == "markdown", r.snippets[0].reference)


@step("chat completions")
def completions(c):
    r = c["ns"].chat_completions(assistant_name=c["name"], messages=QUESTION)
    check("40 hours" in r.choices[0].message.content, r)


@step("chat completions (streamed)")
def completions_stream(c):
    stream = c["ns"].chat_completions(assistant_name=c["name"], messages=QUESTION, stream=True)
    text = stream.collect()
    check("40 hours" in text and "[1]" in text, text)


@step("evaluate alignment")
def evaluate(c):
    r = c["ns"].evaluate_alignment(
        question="How long does the lamp run?",
        answer="The Aurora lamp runs for 40 hours on one charge.",
        ground_truth_answer="The Aurora lamp runs for 40 hours on one charge. It has a three year warranty.",
    )
    check(r.scores.completeness == 0.5 and r.scores.correctness == 1.0, r.scores)
    check(len(r.facts) == 2 and r.facts[0].entailment == "entailed" and r.facts[0].reasoning, r.facts)


@step("delete file")
def delete_file(c):
    c["ns"].delete_file(assistant_name=c["name"], file_id=c["file_id"])
    left = [f.id for f in c["ns"].list_files(assistant_name=c["name"])]
    check(left == ["colours"], left)


ZEPHYR = {"product": {"$eq": "zephyr"}}


@step("upload a PDF (wait)")
def upload_pdf(c):
    file = c["ns"].upload_file(assistant_name=c["name"], file_path=HANDBOOK_PDF, metadata={"product": "zephyr"})
    check(file.status == "Available" and file.name == "kettle-handbook.pdf", repr(file))
    c["pdf_id"] = file.id
    return file.id


@step("context names the PDF's page")
def context_pdf(c):
    r = c["ns"].context(assistant_name=c["name"], query="descale vinegar", filter=ZEPHYR, top_k=2)
    ref = r.snippets[0].reference
    check(ref.type == "pdf" and ref.file.name == "kettle-handbook.pdf", ref)
    check(list(ref.pages) == [2], ref)
    check("white vinegar" in r.snippets[0].content, r.snippets[0])
    return f"pages {list(ref.pages)}"


@step("chat cites the PDF's page")
def chat_pdf(c):
    question = [{"role": "user", "content": "How often should I descale the Zephyr kettle?"}]
    r = c["ns"].chat(assistant_name=c["name"], messages=question, filter=ZEPHYR)
    check("every month" in r.message.content, r.message.content)
    ref = r.citations[0].references[0]
    check(ref.file.name == "kettle-handbook.pdf" and list(ref.pages) == [2], ref)
    return r.message.content


@step("multimodal PDF context carries an image")
def multimodal_pdf(c):
    file = c["ns"].upload_file(
        assistant_name=c["name"], file_path=HANDBOOK_PDF, file_id="handbook-mm", multimodal=True,
        metadata={"product": "zephyr-mm"},
    )
    check(file.status == "Available" and file.multimodal, repr(file))
    r = c["ns"].context(
        assistant_name=c["name"], query="warranty refunds receipt", filter={"product": "zephyr-mm"},
        multimodal=True, include_binary_content=True, top_k=1,
    )
    from pinecone.models.assistant.context import ContextImageBlock, MultimodalSnippet

    # The SDK types snippets and blocks by class; their wire tags are not attributes.
    snippet = r.snippets[0]
    check(isinstance(snippet, MultimodalSnippet) and list(snippet.reference.pages) == [3], snippet)
    image = [b for b in snippet.content if isinstance(b, ContextImageBlock)][0]
    data = base64.b64decode(image.image_data.data)
    check(image.caption and image.image_data.mime_type == "image/png" and data[:4] == b"\x89PNG", image)
    return image.caption


@step("not found is NotFoundError")
def not_found(c):
    from pinecone.errors import NotFoundError

    try:
        c["ns"].describe(name="no-such-assistant")
    except NotFoundError as e:
        return str(e)
    raise AssertionError("no error")


@step("delete assistant (wait until gone)")
def delete(c):
    c["ns"].delete(name=c["name"])
    check(c["name"] not in [a.name for a in c["ns"].list()], "still listed")


if __name__ == "__main__":
    sys.exit(main())
