/* Retrieval and generation from C: context, chat, chat completions, alignment
 * evaluation; streams pulled chunk by chunk and text piece by text piece, pushed
 * to callbacks (with an abort), cut off, refused, and cancelled from another
 * thread while a read is blocked. */
#include "check.h"

#define QUESTION "{\"messages\":[{\"role\":\"user\",\"content\":\"How long is the refund window?\"}]"

#define CHAT_CHUNK "\"type\":"
#define COMPLETION_CHUNK "\"object\":\"chat.completion.chunk\""

/* Calls back into the stream that is calling it: refused, not a deadlock. */
static int reenter(void *userdata, const char *json) {
  char *chunk = NULL;
  (void)json;
  CHECK_CODE(pinecone_stream_next(userdata, &chunk), PINECONE_RESULT_INVALID_ARGUMENT);
  CHECK(chunk == NULL);
  pinecone_stream_cancel(userdata); /* the one call allowed meanwhile */
  return 0;
}

/* Frees the stream it is reading from its own callback, after the first chunk. */
static int free_self(void *stream, const char *json) {
  (void)json;
  pinecone_stream_free((pinecone_stream *)stream);
  return 0;
}

int main(void) {
  pinecone_client *client = test_client(test_env("PINECONE_TEST_URL"), "");
  pinecone_assistant *docs = NULL;
  pinecone_stream *stream = NULL;
  pinecone_stream *completions = NULL;
  char *json = NULL;

  CHECK_OK(pinecone_client_assistant(client, "support-bot", &docs));

  /* context */
  CHECK_OK(pinecone_assistant_context(
      docs, "{\"query\":\"refund window\",\"top_k\":3,\"multimodal\":true,"
            "\"include_binary_content\":true}",
      &json));
  CHECK_CONTAINS(json, "\"snippets\":[");
  CHECK_CONTAINS(json, "billing-policy");
  pinecone_string_free(json);
  CHECK_FAILS(pinecone_assistant_context(docs, "{\"top_k\":3}", &json),
              PINECONE_RESULT_INVALID_ARGUMENT, "query");

  /* chat */
  CHECK_OK(pinecone_assistant_chat(
      docs, QUESTION ",\"temperature\":0.2,\"include_highlights\":true}", &json));
  CHECK_CONTAINS(json, "within 30 days of purchase.");
  CHECK_CONTAINS(json, "\"finish_reason\":\"stop\"");
  CHECK_CONTAINS(json, "\"position\":79");
  pinecone_string_free(json);
  CHECK_FAILS(pinecone_assistant_chat(docs, "{\"messages\":[{\"role\":\"user\"}]}", &json),
              PINECONE_RESULT_INVALID_JSON, "messages[0]");

  /* a stream, pulled chunk by chunk, then the same answer as text pieces */
  {
    const char *types[] = {
        "\"type\":\"message_start\"", "\"type\":\"content_chunk\"", "\"type\":\"content_chunk\"",
        "\"type\":\"citation\"",
        "\"type\":\"message_end\",\"id\":\"00000000000000007e21a9c4d8b05f13\","
        "\"model\":\"gpt-4o-2024-11-20\",\"finish_reason\":\"stop\",\"usage\":"
        "{\"prompt_tokens\":2154,\"completion_tokens\":14,\"total_tokens\":2168}"};
    const char *pieces[] = {"Annual plans can be refunded ", "within 30 days of purchase."};
    CHECK_OK(pinecone_assistant_chat_stream(docs, QUESTION "}", &stream));
    check_stream(stream, pinecone_stream_next, types, 5, 0);
    pinecone_stream_free(stream);
    CHECK_OK(pinecone_assistant_chat_stream(docs, QUESTION "}", &stream));
    check_stream(stream, pinecone_stream_next_text, pieces, 2, 1);
    pinecone_stream_free(stream);
    stream = NULL;
  }

  /* the same chunks lent: each equal to what pinecone_stream_next hands over,
     with its length, valid until the next call; NULL and 0 at the end */
  {
    pinecone_stream *owned = NULL;
    const char *lent = NULL;
    size_t len = 7;
    int n = 0;
    CHECK_OK(pinecone_assistant_chat_stream(docs, QUESTION "}", &owned));
    CHECK_OK(pinecone_assistant_chat_stream(docs, QUESTION "}", &stream));
    for (;; n++) {
      CHECK_OK(pinecone_stream_next(owned, &json));
      CHECK_OK(pinecone_stream_next_borrowed(stream, &lent, &len));
      CHECK((json == NULL) == (lent == NULL));
      if (lent == NULL) break;
      CHECK(strlen(lent) == len && strcmp(lent, json) == 0);
      pinecone_string_free(json);
    }
    CHECK(n == 5 && len == 0);
    CHECK_OK(pinecone_stream_next_borrowed(stream, &lent, NULL)); /* stays ended */
    CHECK(lent == NULL);
    pinecone_stream_free(owned);
    pinecone_stream_free(stream);
    stream = NULL;
  }

  /* pushed to a callback; then stopped by the callback at the second chunk */
  {
    struct seen s = {0, 0, CHAT_CHUNK};
    CHECK_OK(pinecone_assistant_chat_stream_cb(docs, QUESTION "}", on_json, &s));
    CHECK(s.count == 5);
    s.count = 0;
    s.stop_at = 2;
    CHECK_CODE(pinecone_assistant_chat_stream_cb(docs, QUESTION "}", on_json, &s),
               PINECONE_RESULT_ABORTED);
    CHECK(s.count == 2);
    s.count = 0;
    s.stop_at = 0;
    CHECK_OK(pinecone_assistant_chat_stream(docs, QUESTION "}", &stream));
    CHECK_OK(pinecone_stream_next(stream, &json)); /* message_start */
    pinecone_string_free(json);
    CHECK_OK(pinecone_stream_for_each(stream, on_json, &s));
    CHECK(s.count == 4);
    pinecone_stream_free(stream);
    stream = NULL;

    /* freed from its own callback: the walk ends there and the stream is freed
       when it returns (valgrind checks there is no use after free) */
    CHECK_OK(pinecone_assistant_chat_stream(docs, QUESTION "}", &stream));
    CHECK_OK(pinecone_stream_for_each(stream, free_self, stream));
    stream = NULL;

    /* re-entered and cancelled from its own callback: the walk stops cancelled */
    CHECK_OK(pinecone_assistant_chat_stream(docs, QUESTION "}", &stream));
    CHECK_CODE(pinecone_stream_for_each(stream, reenter, stream), PINECONE_RESULT_CANCELLED);
    pinecone_stream_free(stream);
    stream = NULL;
  }

  /* refused before sending, refused by the server, cut off */
  CHECK_CODE(pinecone_assistant_chat_stream(docs, QUESTION ",\"json_response\":true}", &stream),
             PINECONE_RESULT_INVALID_ARGUMENT);
  CHECK(stream == NULL);
  CHECK_ERROR_MENTIONS("json_response");
  CHECK_CODE(pinecone_assistant_chat_stream(docs, QUESTION ",\"model\":\"nope\"}", &stream),
             PINECONE_RESULT_API_ERROR);
  CHECK(pinecone_last_error_status() == 400);
  CHECK(stream == NULL);
  CHECK_OK(pinecone_assistant_chat_stream(docs, QUESTION ",\"model\":\"cut\"}", &stream));
  /* NULL outputs and callbacks on a live stream consume nothing */
  CHECK_FAILS(pinecone_stream_next(stream, NULL), PINECONE_RESULT_NULL_ARGUMENT, "chunk_json_out");
  CHECK_FAILS(pinecone_stream_next_text(stream, NULL), PINECONE_RESULT_NULL_ARGUMENT, "text_out");
  CHECK_FAILS(pinecone_stream_for_each(stream, NULL, NULL), PINECONE_RESULT_NULL_ARGUMENT, "cb");
  CHECK_FAILS(pinecone_stream_next_borrowed(stream, NULL, NULL), PINECONE_RESULT_NULL_ARGUMENT,
              "chunk_json_out");
  CHECK_OK(pinecone_stream_next(stream, &json));
  pinecone_string_free(json);
  CHECK_OK(pinecone_stream_next(stream, &json));
  /* the server's event text, byte for byte */
  CHECK(strcmp(json, "{\"type\": \"content_chunk\", \"id\": \"1\", \"delta\": {\"content\": "
                     "\"Annual\"}, \"seq\": 2}") == 0);
  pinecone_string_free(json);
  CHECK_CODE(pinecone_stream_next(stream, &json), PINECONE_RESULT_STREAM);
  CHECK(json == NULL);
  CHECK_OK(pinecone_stream_next(stream, &json));
  CHECK(json == NULL);
  pinecone_stream_free(stream);
  stream = NULL;
  /* the same cut answer lent: the chunks that came, then the error, then the end */
  {
    const char *lent = "x";
    size_t len = 7;
    CHECK_OK(pinecone_assistant_chat_stream(docs, QUESTION ",\"model\":\"cut\"}", &stream));
    CHECK_OK(pinecone_stream_next_borrowed(stream, &lent, &len));
    CHECK_CONTAINS(lent, "message_start");
    CHECK_OK(pinecone_stream_next_borrowed(stream, &lent, &len));
    CHECK(len == strlen("{\"type\": \"content_chunk\", \"id\": \"1\", \"delta\": {\"content\": "
                        "\"Annual\"}, \"seq\": 2}"));
    CHECK_CODE(pinecone_stream_next_borrowed(stream, &lent, &len), PINECONE_RESULT_STREAM);
    CHECK(lent == NULL && len == 0);
    CHECK_ERROR_MENTIONS("truncated");
    CHECK_OK(pinecone_stream_next_borrowed(stream, &lent, &len));
    CHECK(lent == NULL);
    pinecone_stream_free(stream);
    stream = NULL;
  }

  /* cancelled from another thread while the next chunk is slow to come */
  {
    struct later later = {150, NULL, NULL, 0};
    double start;
    CHECK_OK(pinecone_assistant_chat_stream(docs, QUESTION ",\"model\":\"slow\"}", &stream));
    CHECK_OK(pinecone_stream_next(stream, &json));
    CHECK_CONTAINS(json, "message_start");
    pinecone_string_free(json);
    later.stream = stream;
    start_later(&later);
    start = now_ms();
    CHECK_CODE(pinecone_stream_next(stream, &json), PINECONE_RESULT_CANCELLED);
    CHECK(now_ms() - start < 2000.0);
    finish_later(&later);
    pinecone_stream_free(stream);
    stream = NULL;
  }

  /* the callback form, stopped through a client bound to a cancel handle */
  {
    struct later later = {150, NULL, NULL, 0};
    pinecone_client *cancellable = NULL;
    pinecone_assistant *slow = NULL;
    struct seen s = {0, 0, CHAT_CHUNK};
    double start;
    CHECK_OK(pinecone_cancel_new(&later.cancel));
    CHECK_OK(pinecone_client_with_cancel(client, later.cancel, &cancellable));
    CHECK_OK(pinecone_client_assistant(cancellable, "support-bot", &slow));
    start_later(&later);
    start = now_ms();
    CHECK_CODE(pinecone_assistant_chat_stream_cb(slow, QUESTION ",\"model\":\"slow\"}", on_json,
                                                 &s),
               PINECONE_RESULT_CANCELLED);
    CHECK(now_ms() - start < 2000.0);
    /* the cancel may land while the answer opens or while its second chunk is
       awaited (the mock serves one slow answer at a time) */
    CHECK(s.count <= 1);
    finish_later(&later);
    pinecone_assistant_free(slow);
    pinecone_client_free(cancellable);
    pinecone_cancel_free(later.cancel);
  }

  /* chat completions, whole and streamed */
  CHECK_OK(pinecone_assistant_chat_completions(docs, QUESTION ",\"model\":\"gpt-4o\"}", &json));
  CHECK_CONTAINS(json, "\"choices\":[");
  CHECK_CONTAINS(json, "within 30 days");
  pinecone_string_free(json);
  {
    const char *pieces[] = {"Annual plans can be refunded within 30 days", " [1, pp. 4]."};
    CHECK_OK(pinecone_assistant_chat_completions_stream(docs, QUESTION "}", &completions));
    check_stream(completions, pinecone_stream_next_text, pieces, 2, 1);
    pinecone_stream_free(completions);
    completions = NULL;

    CHECK_OK(pinecone_assistant_chat_completions_stream(docs, QUESTION "}", &completions));
    CHECK_CODE(pinecone_stream_next(completions, NULL),
               PINECONE_RESULT_NULL_ARGUMENT);
    CHECK_CODE(pinecone_stream_next_text(completions, NULL),
               PINECONE_RESULT_NULL_ARGUMENT);
    CHECK_CODE(pinecone_stream_for_each(completions, NULL, NULL),
               PINECONE_RESULT_NULL_ARGUMENT);
    CHECK_OK(pinecone_stream_next(completions, &json));
    CHECK_CONTAINS(json, "\"role\":\"assistant\"");
    pinecone_string_free(json);
    {
      struct seen s = {0, 0, COMPLETION_CHUNK};
      CHECK_OK(pinecone_stream_for_each(completions, on_json, &s));
      CHECK(s.count == 4);
    }
    pinecone_stream_cancel(completions);
    pinecone_stream_free(completions);
    completions = NULL;

    {
      struct seen s = {0, 0, COMPLETION_CHUNK};
      CHECK_OK(
          pinecone_assistant_chat_completions_stream_cb(docs, QUESTION "}", on_json, &s));
      CHECK(s.count == 5);
    }
  }

  /* alignment evaluation, scored and refused */
  CHECK_OK(pinecone_client_evaluate_alignment(
      client,
      "{\"question\":\"What is the refund window for annual plans?\","
      "\"answer\":\"30 days, but only monthly plans are refundable.\","
      "\"ground_truth_answer\":\"Annual plans can be refunded within 30 days.\"}",
      &json));
  CHECK_CONTAINS(json, "\"alignment\":0.6667");
  CHECK_CONTAINS(json, "contradicted");
  pinecone_string_free(json);
  CHECK_CODE(pinecone_client_evaluate_alignment(
                 client, "{\"question\":\"q\",\"answer\":\"a\",\"ground_truth_answer\":\"\"}",
                 &json),
             PINECONE_RESULT_API_ERROR);
  CHECK(pinecone_last_error_status() == 422);
  CHECK_ERROR_MENTIONS("ground_truth_answer: field required");

  pinecone_assistant_free(docs);
  pinecone_client_free(client);
  puts("chat: ok");
  return 0;
}
