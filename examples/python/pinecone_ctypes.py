#!/usr/bin/env python3
"""A Python binding of the pinecone-assistant C ABI, in plain ctypes.

Every request and response crosses as JSON with the API's wire field names, so
the binding needs one wrapper per C function and no model classes. Streams are
pull iterators: Python asks for the next chunk, so no callback ever runs on a
foreign thread.

Run it against the offline emulator:

    cargo build -p pinecone-assistant-ffi         # builds target/debug/libpinecone_assistant_ffi.so
    cargo run --example emulator --features emulator &
    PINECONE_EMULATOR_URL=http://127.0.0.1:PORT PINECONE_EMULATOR_API_KEY=KEY \
        python3 examples/python/pinecone_ctypes.py

Without those variables the script starts the emulator itself with cargo. Set
PINECONE_ASSISTANT_LIB to use a library from elsewhere.
"""

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load():
    path = os.environ.get("PINECONE_ASSISTANT_LIB")
    candidates = [Path(path)] if path else [
        ROOT / "target" / profile / "libpinecone_assistant_ffi.so" for profile in ("debug", "release")
    ]
    for candidate in candidates:
        if candidate.exists():
            return ctypes.CDLL(str(candidate))
    sys.exit("libpinecone_assistant_ffi.so not found: run `cargo build -p pinecone-assistant-ffi` "
             "or set PINECONE_ASSISTANT_LIB")


lib = _load()
c_char_pp = ctypes.POINTER(ctypes.c_char_p)
handle_p = ctypes.POINTER(ctypes.c_void_p)
READ_CB = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint8), ctypes.c_size_t)
PROGRESS_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64)

WAIT_NO, WAIT_FOREVER, WAIT_FOR = 0, 1, 2

# Argument types: "h" handle, "s" string, "o" string out, "p" handle out,
# "i" int, "u" uint64, "q" int64, "z" size_t out, plus callback types.
_SIGNATURES = {
    "pinecone_client_new": "ssp",
    "pinecone_client_create_assistant": "hsiuo",
    "pinecone_client_delete_assistant": "hsiu",
    "pinecone_client_assistant": "hsp",
    "pinecone_assistant_upload_reader": ["h", "s", "q", "s", "i", "u", READ_CB, PROGRESS_CB, "v", "o"],
    "pinecone_assistant_list_files": "hsp",
    "pinecone_paginator_next": "ho",
    "pinecone_assistant_chat_stream": "hsp",
    "pinecone_stream_next_borrowed": "hoz",
}
_TYPES = {"h": ctypes.c_void_p, "s": ctypes.c_char_p, "o": ctypes.POINTER(ctypes.c_void_p),
          "p": handle_p, "i": ctypes.c_int, "u": ctypes.c_uint64, "q": ctypes.c_int64,
          "v": ctypes.c_void_p, "z": ctypes.POINTER(ctypes.c_size_t)}
for _name, _sig in _SIGNATURES.items():
    _fn = getattr(lib, _name)
    _fn.argtypes = [_TYPES[t] if isinstance(t, str) else t for t in _sig]
    _fn.restype = ctypes.c_int
for _name in ("pinecone_last_error_message", "pinecone_last_error_json", "pinecone_result_name",
              "pinecone_version"):
    getattr(lib, _name).restype = ctypes.c_char_p
lib.pinecone_result_name.argtypes = [ctypes.c_int]
lib.pinecone_last_error_status.restype = ctypes.c_int
for _name in ("pinecone_string_free", "pinecone_client_free", "pinecone_assistant_free",
              "pinecone_paginator_free", "pinecone_stream_free"):
    getattr(lib, _name).argtypes = [ctypes.c_void_p]
    getattr(lib, _name).restype = None


class PineconeError(Exception):
    """A failed call: `code` is the pinecone_result name, `status` the HTTP status or 0,
    `details` everything else the library knows (request id, Retry-After, operation id...)."""

    def __init__(self, code):
        self.details = json.loads(lib.pinecone_last_error_json().decode())
        self.code = self.details["result"]
        self.status = self.details["status"]
        super().__init__(f"{self.code}: {self.details['message']}")


def _check(code):
    if code != 0:
        raise PineconeError(code)


def _take_json(ptr):
    """Decodes an owned JSON string and frees it; None for a NULL pointer."""
    if not ptr.value:
        return None
    try:
        return json.loads(ctypes.string_at(ptr.value).decode())
    finally:
        lib.pinecone_string_free(ptr.value)


def _lent_json(fn, *args):
    """Decodes a JSON string the library lends with its length (valid until the next
    call on the same handle): copied once, nothing to free; None at the end."""
    out, size = ctypes.c_void_p(), ctypes.c_size_t()
    _check(fn(*args, ctypes.byref(out), ctypes.byref(size)))
    return json.loads(ctypes.string_at(out.value, size.value)) if out.value else None


def _enc(value):
    return None if value is None else json.dumps(value).encode()


def _call_json(fn, *args):
    out = ctypes.c_void_p()
    _check(fn(*args, ctypes.byref(out)))
    return _take_json(out)


class _Walk:
    """A pull iterator over JSON documents. The C handle is freed at the end of the
    walk, on an error, or when the walk is dropped unfinished (even unstarted)."""

    def __init__(self, next_fn, free_fn, handle, take=_call_json):
        self._next, self._free, self._h, self._take = next_fn, free_fn, handle, take

    def __iter__(self):
        return self

    def __next__(self):
        if self._h is None:
            raise StopIteration
        try:
            item = self._take(self._next, self._h)
        except Exception:
            self.close()
            raise
        if item is None:
            self.close()
            raise StopIteration
        return item

    def close(self):
        if self._h is not None:
            self._free(self._h)
            self._h = None

    def __del__(self):
        self.close()


class Client:
    def __init__(self, api_key, **options):
        self._h = ctypes.c_void_p()
        _check(lib.pinecone_client_new(api_key.encode(), _enc(options), ctypes.byref(self._h)))

    def __del__(self):
        lib.pinecone_client_free(self._h)

    def create_assistant(self, request, wait=WAIT_FOREVER, timeout_ms=0):
        return _call_json(lib.pinecone_client_create_assistant, self._h, _enc(request), wait, timeout_ms)

    def delete_assistant(self, name, wait=WAIT_FOREVER, timeout_ms=0):
        _check(lib.pinecone_client_delete_assistant(self._h, name.encode(), wait, timeout_ms))

    def assistant(self, name):
        return Assistant(self, name)


class Assistant:
    def __init__(self, client, name):
        self._client = client  # documents the relation; the C handle needs no keep-alive
        self._h = ctypes.c_void_p()
        _check(lib.pinecone_client_assistant(client._h, name.encode(), ctypes.byref(self._h)))

    def __del__(self):
        lib.pinecone_assistant_free(self._h)

    def upload(self, stream, file_name, options=None, wait=WAIT_FOREVER, progress=None):
        """Uploads a binary file object through the read callback."""
        def read(_userdata, buf, length):
            try:
                data = stream.read(length)
                ctypes.memmove(buf, data, len(data))
                return len(data)
            except Exception:  # an exception must not cross into C
                return -1

        def report(_userdata, sent, total):
            if progress:
                progress(sent, total)

        read_cb, progress_cb = READ_CB(read), PROGRESS_CB(report)  # alive for the call
        return _call_json(lib.pinecone_assistant_upload_reader, self._h, file_name.encode(), -1,
                          _enc(options), wait, 0, read_cb, progress_cb, None)

    def list_files(self, options=None):
        pages = ctypes.c_void_p()
        _check(lib.pinecone_assistant_list_files(self._h, _enc(options), ctypes.byref(pages)))
        return _Walk(lib.pinecone_paginator_next, lib.pinecone_paginator_free, pages)

    def chat_stream(self, request):
        """Yields the chunks of a streamed answer as dicts, as they arrive (each is the
        server's event JSON as sent)."""
        stream = ctypes.c_void_p()
        _check(lib.pinecone_assistant_chat_stream(self._h, _enc(request), ctypes.byref(stream)))
        # Lent chunks: one call per chunk, nothing to free.
        return _Walk(lib.pinecone_stream_next_borrowed, lib.pinecone_stream_free, stream, _lent_json)


def _emulator():
    url, key = os.environ.get("PINECONE_EMULATOR_URL"), os.environ.get("PINECONE_EMULATOR_API_KEY")
    if url and key:
        return url, key, None
    proc = subprocess.Popen(["cargo", "run", "--quiet", "--example", "emulator", "--features", "emulator"],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    lines = dict(proc.stdout.readline().strip().split("=", 1) for _ in range(2))
    return lines["PINECONE_EMULATOR_URL"], lines["PINECONE_EMULATOR_API_KEY"], proc


def main():
    import io

    url, key, proc = _emulator()
    try:
        print("pinecone-assistant", lib.pinecone_version().decode(), "at", url)
        client = Client(key, host=url, evaluation_host=url,
                        create_poll_interval_ms=50, operation_poll_interval_ms=50)
        client.create_assistant({"name": "ctypes-demo", "instructions": "Answer from the files."})
        docs = client.assistant("ctypes-demo")
        text = b"# Refunds\n\nAnnual plans can be refunded within 30 days of purchase.\n"
        done = docs.upload(io.BytesIO(text), "refunds.md", {"metadata": {"team": "billing"}},
                           progress=lambda sent, total: print(f"  uploaded {sent}/{total} bytes"))
        print("file", done["file"]["id"], "is", done["file"]["status"])
        print("files:", [f["name"] for f in docs.list_files()])
        try:
            docs.chat_stream({"messages": [{"role": "user", "content": "Hi"}], "json_response": True})
        except PineconeError as e:
            print("refused as expected:", e.code, "argument:", e.details.get("argument"))
        question = {"messages": [{"role": "user", "content": "How long is the refund window?"}]}
        for chunk in docs.chat_stream(question):
            if chunk["type"] == "content_chunk":
                print(chunk["delta"]["content"], end="", flush=True)
            elif chunk["type"] == "citation":
                print(f" [{len(chunk['citation']['references'])} reference(s)]", end="")
            elif chunk["type"] == "message_end":
                print(f"\nfinish: {chunk.get('finish_reason')}, usage: {chunk.get('usage')}")
        client.delete_assistant("ctypes-demo")
    finally:
        if proc:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
