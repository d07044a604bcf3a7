/* Retrieval and generation from C: context, chat, chat completions, alignment
 * evaluation; streams pulled chunk by chunk and text piece by text piece, pushed
 * to callbacks (with an abort), cut off, refused, and cancelled from another
 * thread while a read is blocked. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <time.h>

#include "check.h"

#define QUESTION "{\"messages\":[{\"role\":\"user\",\"content\":\"How long is the refund window?\"}]"

struct seen {
  int chunks;
  int stop_at;
  char text[256];
};

static int on_chunk(void *userdata, const char *json) {
  struct seen *s = userdata;
  s->chunks++;
  CHECK_CONTAINS(json, "\"type\":");
  return s->stop_at != 0 && s->chunks == s->stop_at;
}

static int on_completion_chunk(void *userdata, const char *json) {
  struct seen *s = userdata;
  s->chunks++;
  CHECK_CONTAINS(json, "\"object\":\"chat.completion.chunk\"");
  return 0;
}

/* Calls back into the stream that is calling it: refused, not a deadlock. */
static int reenter(void *userdata, const char *json) {
  char *chunk = NULL;
  (void)json;
  CHECK_CODE(pinecone_stream_next(userdata, &chunk), PINECONE_RESULT_INVALID_ARGUMENT);
  CHECK(chunk == NULL);
  pinecone_stream_cancel(userdata); /* the one call allowed meanwhile */
  return 0;
}

static void *cancel_handle_soon(void *cancel) {
  struct timespec pause = {0, 150 * 1000 * 1000};
  nanosleep(&pause, NULL);
  pinecone_cancel_cancel(cancel);
  return NULL;
}

/* Frees the stream it is reading from its own callback, after the first chunk. */
static int free_self(void *stream, const char *json) {
  (void)json;
  pinecone_stream_free((pinecone_stream *)stream);
  return 0;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

static void *cancel_soon(void *stream) {
  struct timespec pause = {0, 150 * 1000 * 1000};
  nanosleep(&pause, NULL);
  pinecone_stream_cancel(stream);
  return NULL;
}

int main(void) {
  const char *url = test_url("PINECONE_TEST_URL");
  char extra[512];
  pinecone_client *client = NULL;
  pinecone_assistant *docs = NULL;
  pinecone_stream *stream = NULL;
  pinecone_stream *completions = NULL;
  char *json = NULL;

  snprintf(extra, sizeof extra, "\"evaluation_host\":\"%s\"", url);
  client = test_client(url, extra);
  CHECK_OK(pinecone_client_assistant(client, "support-bot", &docs));

  /* context */
  CHECK_OK(pinecone_assistant_context(
      docs, "{\"query\":\"refund window\",\"top_k\":3,\"multimodal\":true,"
            "\"include_binary_content\":true}",
      &json));
  CHECK_CONTAINS(json, "\"snippets\":[");
  CHECK_CONTAINS(json, "billing-policy");
  pinecone_string_free(json);
  CHECK_CODE(pinecone_assistant_context(docs, "{\"top_k\":3}", &json),
             PINECONE_RESULT_INVALID_ARGUMENT);

  /* chat */
  CHECK_OK(pinecone_assistant_chat(
      docs, QUESTION ",\"temperature\":0.2,\"include_highlights\":true}", &json));
  CHECK_CONTAINS(json, "within 30 days of purchase.");
  CHECK_CONTAINS(json, "\"finish_reason\":\"stop\"");
  CHECK_CONTAINS(json, "\"position\":79");
  pinecone_string_free(json);
  CHECK_CODE(pinecone_assistant_chat(docs, "{\"messages\":[{\"role\":\"user\"}]}", &json),
             PINECONE_RESULT_INVALID_JSON);
  CHECK_ERROR_MENTIONS("messages[0]");

  /* a stream, pulled chunk by chunk */
  {
    const char *types[] = {"message_start", "content_chunk", "content_chunk", "citation",
                           "message_end"};
    char want[64];
    int i = 0;
    CHECK_OK(pinecone_assistant_chat_stream(docs, QUESTION "}", &stream));
    for (;;) {
      CHECK_OK(pinecone_stream_next(stream, &json));
      if (json == NULL) break;
      CHECK(i < 5);
      snprintf(want, sizeof want, "\"type\":\"%s\"", types[i]);
      CHECK_CONTAINS(json, want);
      if (i == 4) CHECK_CONTAINS(json, "\"total_tokens\":2168");
      pinecone_string_free(json);
      i++;
    }
    CHECK(i == 5);
    CHECK_OK(pinecone_stream_next(stream, &json));
    CHECK(json == NULL);
    pinecone_stream_free(stream);
    stream = NULL;
  }

  /* the same answer as text pieces */
  {
    char text[256] = "";
    CHECK_OK(pinecone_assistant_chat_stream(docs, QUESTION "}", &stream));
    for (;;) {
      CHECK_OK(pinecone_stream_next_text(stream, &json));
      if (json == NULL) break;
      CHECK(strlen(text) + strlen(json) < sizeof text);
      strcat(text, json);
      pinecone_string_free(json);
    }
    CHECK(strcmp(text, "Annual plans can be refunded within 30 days of purchase.") == 0);
    pinecone_stream_free(stream);
    stream = NULL;
  }

  /* pushed to a callback; then stopped by the callback at the second chunk */
  {
    struct seen s = {0, 0, ""};
    CHECK_OK(pinecone_assistant_chat_stream_cb(docs, QUESTION "}", on_chunk, &s));
    CHECK(s.chunks == 5);
    s.chunks = 0;
    s.stop_at = 2;
    CHECK_CODE(pinecone_assistant_chat_stream_cb(docs, QUESTION "}", on_chunk, &s),
               PINECONE_RESULT_ABORTED);
    CHECK(s.chunks == 2);
    s.chunks = 0;
    s.stop_at = 0;
    CHECK_OK(pinecone_assistant_chat_stream(docs, QUESTION "}", &stream));
    CHECK_OK(pinecone_stream_next(stream, &json)); /* message_start */
    pinecone_string_free(json);
    CHECK_OK(pinecone_stream_for_each(stream, on_chunk, &s));
    CHECK(s.chunks == 4);
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
  CHECK_CODE(pinecone_stream_next(stream, NULL), PINECONE_RESULT_NULL_ARGUMENT);
  CHECK_ERROR_MENTIONS("chunk_json_out");
  CHECK_CODE(pinecone_stream_next_text(stream, NULL), PINECONE_RESULT_NULL_ARGUMENT);
  CHECK_ERROR_MENTIONS("text_out");
  CHECK_CODE(pinecone_stream_for_each(stream, NULL, NULL), PINECONE_RESULT_NULL_ARGUMENT);
  CHECK_ERROR_MENTIONS("cb");
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

  /* cancelled from another thread while the next chunk is slow to come */
  {
    pthread_t thread;
    double start;
    CHECK_OK(pinecone_assistant_chat_stream(docs, QUESTION ",\"model\":\"slow\"}", &stream));
    CHECK_OK(pinecone_stream_next(stream, &json));
    CHECK_CONTAINS(json, "message_start");
    pinecone_string_free(json);
    CHECK(pthread_create(&thread, NULL, cancel_soon, stream) == 0);
    start = now_ms();
    CHECK_CODE(pinecone_stream_next(stream, &json), PINECONE_RESULT_CANCELLED);
    CHECK(now_ms() - start < 2000.0);
    CHECK(pthread_join(thread, NULL) == 0);
    pinecone_stream_free(stream);
    stream = NULL;
  }

  /* the callback form, stopped through a client bound to a cancel handle */
  {
    pthread_t thread;
    pinecone_cancel *cancel = NULL;
    pinecone_client *cancellable = NULL;
    pinecone_assistant *slow = NULL;
    struct seen s = {0, 0, ""};
    double start;
    CHECK_OK(pinecone_cancel_new(&cancel));
    CHECK_OK(pinecone_client_with_cancel(client, cancel, &cancellable));
    CHECK_OK(pinecone_client_assistant(cancellable, "support-bot", &slow));
    CHECK(pthread_create(&thread, NULL, cancel_handle_soon, cancel) == 0);
    start = now_ms();
    CHECK_CODE(pinecone_assistant_chat_stream_cb(slow, QUESTION ",\"model\":\"slow\"}", on_chunk,
                                                 &s),
               PINECONE_RESULT_CANCELLED);
    CHECK(now_ms() - start < 2000.0);
    /* the cancel may land while the answer opens or while its second chunk is
       awaited (the mock serves one slow answer at a time) */
    CHECK(s.chunks <= 1);
    CHECK(pthread_join(thread, NULL) == 0);
    pinecone_assistant_free(slow);
    pinecone_client_free(cancellable);
    pinecone_cancel_free(cancel);
  }

  /* chat completions, whole and streamed */
  CHECK_OK(pinecone_assistant_chat_completions(docs, QUESTION ",\"model\":\"gpt-4o\"}", &json));
  CHECK_CONTAINS(json, "\"choices\":[");
  CHECK_CONTAINS(json, "within 30 days");
  pinecone_string_free(json);
  {
    const char *pieces[] = {"Annual plans can be refunded within 30 days", " [1, pp. 4]."};
    int i = 0;
    CHECK_OK(pinecone_assistant_chat_completions_stream(docs, QUESTION "}", &completions));
    for (;;) {
      CHECK_OK(pinecone_stream_next_text(completions, &json));
      if (json == NULL) break;
      CHECK(i < 2);
      CHECK(strcmp(json, pieces[i]) == 0);
      pinecone_string_free(json);
      i++;
    }
    CHECK(i == 2);
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
      struct seen s = {0, 0, ""};
      CHECK_OK(pinecone_stream_for_each(completions, on_completion_chunk, &s));
      CHECK(s.chunks == 4);
    }
    pinecone_stream_cancel(completions);
    pinecone_stream_free(completions);
    completions = NULL;

    {
      struct seen s = {0, 0, ""};
      CHECK_OK(pinecone_assistant_chat_completions_stream_cb(docs, QUESTION "}",
                                                             on_completion_chunk, &s));
      CHECK(s.chunks == 5);
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
