/* Bounded and observed calls from C: a total bound that stops a server
 * dripping its answer (client-wide and per derived client), a body over the
 * body limit, a chat cut after its headers (a stream error, never retried), and
 * the observer's JSON events, removed again with NULL. The mock server is
 * PINECONE_TEST_URL (its cut-bot's data plane breaks every answer off);
 * PINECONE_TEST_DRIP_URL answers a byte every 200 ms. */
#include "check.h"

/* The events an observer received, one string after another. */
struct events {
  pthread_mutex_t lock;
  char text[65536];
  int count;
};

static void record(const char *event_json, void *userdata) {
  struct events *e = userdata;
  pthread_mutex_lock(&e->lock);
  if (strlen(e->text) + strlen(event_json) + 2 < sizeof e->text) {
    strcat(e->text, event_json);
    strcat(e->text, "\n");
  }
  e->count++;
  pthread_mutex_unlock(&e->lock);
}

static double seconds_since(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int main(void) {
  const char *url = test_env("PINECONE_TEST_URL");
  const char *drip = test_env("PINECONE_TEST_DRIP_URL");
  pinecone_client *dripping = test_client(drip, "\"timeout_ms\":5000,\"total_timeout_ms\":1000");
  pinecone_client *patient = test_client(drip, "\"timeout_ms\":5000");
  pinecone_client *quick = NULL;
  pinecone_client *client = test_client(url, "");
  pinecone_client *tight = test_client(url, "\"body_limit\":50");
  pinecone_assistant *docs = NULL;
  pinecone_assistant *cut = NULL;
  pinecone_stream *stream = NULL;
  char *json = NULL;
  struct timespec start;
  struct events seen;

  /* The total bound stops a describe whose every read is quick. */
  clock_gettime(CLOCK_MONOTONIC, &start);
  CHECK_FAILS(pinecone_client_describe_assistant(dripping, "docs", &json), PINECONE_RESULT_TIMEOUT,
              "total_timeout of 1s passed");
  CHECK(json == NULL);
  CHECK(seconds_since(&start) < 4.0);
  CHECK_ERROR_MENTIONS("describe_assistant at ");
  CHECK_CONTAINS(pinecone_last_error_json(), "\"operation\":\"describe_assistant\"");

  /* A derived client has its own bound. */
  CHECK_OK(pinecone_client_with_total_timeout(patient, 500, &quick));
  clock_gettime(CLOCK_MONOTONIC, &start);
  CHECK_FAILS(pinecone_client_describe_assistant(quick, "docs", &json), PINECONE_RESULT_TIMEOUT,
              "total_timeout of 500ms passed");
  CHECK(seconds_since(&start) < 4.0);
  pinecone_client_free(quick);
  quick = NULL;
  /* The out-parameter is cleared on failure, so it must not hold a live handle. */
  CHECK_CODE(pinecone_client_with_total_timeout(NULL, 500, &quick), PINECONE_RESULT_NULL_ARGUMENT);
  CHECK(quick == NULL);

  /* An answer over the body limit has its own code, with the limit and the size. */
  CHECK_FAILS(pinecone_client_describe_assistant(tight, "support-bot", &json),
              PINECONE_RESULT_BODY_TOO_LARGE, "50-byte limit");
  CHECK_CONTAINS(pinecone_last_error_json(), "\"limit\":50");
  CHECK_CONTAINS(pinecone_last_error_json(), "\"setting\":\"body_limit\"");
  CHECK_CONTAINS(pinecone_last_error_json(), "\"result\":\"PINECONE_RESULT_BODY_TOO_LARGE\"");
  CHECK(strcmp(pinecone_result_name(PINECONE_RESULT_BODY_TOO_LARGE),
               "PINECONE_RESULT_BODY_TOO_LARGE") == 0);

  /* The observer sees requests, answers and a stream's end, as JSON. */
  memset(&seen, 0, sizeof seen);
  pthread_mutex_init(&seen.lock, NULL);
  CHECK_OK(pinecone_client_set_observer(client, record, &seen));
  CHECK_OK(pinecone_client_describe_assistant(client, "support-bot", &json));
  pinecone_string_free(json);
  json = NULL;
  CHECK_CONTAINS(seen.text,
                 "{\"attempt\":1,\"event\":\"request_start\",\"method\":\"GET\","
                 "\"operation\":\"describe_assistant\",\"route\":\"/assistants/{assistant_name}\"}");
  CHECK_CONTAINS(seen.text, "\"event\":\"response\"");
  CHECK_CONTAINS(seen.text, "\"status\":200");
  CHECK_CONTAINS(seen.text, "\"latency_us\":");
  CHECK(strstr(seen.text, "support-bot") == NULL);
  CHECK(strstr(seen.text, "test-key") == NULL);

  CHECK_OK(pinecone_client_assistant(client, "support-bot", &docs));
  CHECK_OK(pinecone_assistant_chat_stream(
      docs, "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"total_timeout_ms\":60000}",
      &stream));
  for (;;) {
    CHECK_OK(pinecone_stream_next(stream, &json));
    if (json == NULL) break;
    pinecone_string_free(json);
  }
  pinecone_stream_free(stream);
  stream = NULL;
  CHECK_CONTAINS(seen.text, "\"event\":\"stream_end\"");
  CHECK_CONTAINS(seen.text, "\"operation\":\"chat_stream\"");
  CHECK_CONTAINS(seen.text, "\"total_tokens\":2168");
  CHECK_CONTAINS(seen.text, "\"complete\":true");

  /* A chat cut after its headers: a stream error, never retried. */
  CHECK_OK(pinecone_client_assistant(client, "cut-bot", &cut));
  CHECK_FAILS(pinecone_assistant_chat(cut, "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}",
                                      &json),
              PINECONE_RESULT_STREAM, "may have run");
  CHECK(json == NULL);
  CHECK_CONTAINS(seen.text, "\"event\":\"error\"");
  CHECK_CONTAINS(seen.text, "\"result\":\"PINECONE_RESULT_STREAM\"");

  /* Removed: no more events. */
  CHECK_OK(pinecone_client_set_observer(client, NULL, NULL));
  pthread_mutex_lock(&seen.lock);
  {
    int before = seen.count;
    pthread_mutex_unlock(&seen.lock);
    CHECK_OK(pinecone_client_describe_assistant(client, "support-bot", &json));
    pinecone_string_free(json);
    CHECK(seen.count == before);
  }
  CHECK_CODE(pinecone_client_set_observer(NULL, record, &seen), PINECONE_RESULT_NULL_ARGUMENT);

  pinecone_assistant_free(cut);
  pinecone_assistant_free(docs);
  pinecone_client_free(tight);
  pinecone_client_free(client);
  pinecone_client_free(quick);
  pinecone_client_free(patient);
  pinecone_client_free(dripping);
  pthread_mutex_destroy(&seen.lock);
  printf("bounds: ok\n");
  return 0;
}
