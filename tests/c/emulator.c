/* One end-to-end session against the offline emulator (PINECONE_TEST_URL,
 * PINECONE_TEST_API_KEY): create an assistant, upload two files, list them page
 * by page, retrieve, chat (streamed both ways), evaluate, clean up. */
#include "check.h"

struct source {
  const char *data;
  size_t pos;
  uint64_t reported;
};

static int64_t read_source(void *userdata, uint8_t *buf, size_t len) {
  struct source *s = userdata;
  size_t n = strlen(s->data) - s->pos;
  if (n > len) n = len;
  memcpy(buf, s->data + s->pos, n);
  s->pos += n;
  return (int64_t)n;
}

static void on_progress(void *userdata, uint64_t sent, uint64_t total) {
  struct source *s = userdata;
  (void)total;
  s->reported = sent;
}

int main(void) {
  const char *url = test_env("PINECONE_TEST_URL");
  const char *key = test_env("PINECONE_TEST_API_KEY");
  pinecone_client *client = test_client_with(key, url, 20, "");
  pinecone_assistant *docs = NULL;
  pinecone_paginator *files = NULL;
  pinecone_stream *stream = NULL;
  struct seen seen = {0, 0, NULL};
  char *json = NULL;
  int i, n = 0;
  const char *texts[] = {
      "# Refunds\n\nAnnual plans can be refunded within 30 days of purchase.\n",
      "# Shipping\n\nOrders ship within two business days.\n",
  };
  const char *names[] = {"refunds.md", "shipping.md"};

  CHECK_OK(pinecone_client_create_assistant(client, "{\"name\":\"c-e2e\"}", PINECONE_WAIT_FOR,
                                            30000, &json));
  CHECK_CONTAINS(json, "\"status\":\"Ready\"");
  pinecone_string_free(json);
  CHECK_OK(pinecone_client_assistant(client, "c-e2e", &docs));

  for (i = 0; i < 2; i++) {
    struct source s = {texts[i], 0, 0};
    CHECK_OK(pinecone_assistant_upload_reader(docs, names[i], (int64_t)strlen(texts[i]),
                                              "{\"metadata\":{\"team\":\"support\"}}",
                                              PINECONE_WAIT_FOR, 30000, read_source, on_progress,
                                              &s, &json));
    CHECK_CONTAINS(json, "\"status\":\"Available\"");
    CHECK(s.reported == strlen(texts[i]));
    pinecone_string_free(json);
  }

  /* page size 1: the paginator fetches two pages */
  CHECK_OK(pinecone_assistant_list_files(
      docs, "{\"limit\":1,\"filter\":{\"team\":{\"$eq\":\"support\"}}}", &files));
  CHECK_OK(pinecone_paginator_for_each(files, on_json, &seen));
  CHECK(seen.count == 2);
  pinecone_paginator_free(files);

  CHECK_OK(pinecone_assistant_context(docs, "{\"query\":\"refund window\",\"top_k\":1}", &json));
  CHECK_CONTAINS(json, "refunds.md");
  pinecone_string_free(json);

  CHECK_OK(pinecone_assistant_chat_stream(
      docs, "{\"messages\":[{\"role\":\"user\",\"content\":\"How long is the refund window?\"}]}",
      &stream));
  n = 0;
  for (;;) {
    CHECK_OK(pinecone_stream_next(stream, &json));
    if (json == NULL) break;
    n++;
    pinecone_string_free(json);
  }
  CHECK(n >= 3);
  pinecone_stream_free(stream);

  seen.count = 0;
  CHECK_OK(pinecone_assistant_chat_completions_stream_cb(
      docs, "{\"messages\":[{\"role\":\"user\",\"content\":\"When do orders ship?\"}]}",
      on_json, &seen));
  CHECK(seen.count >= 2);

  CHECK_OK(pinecone_assistant_chat(
      docs, "{\"messages\":[{\"role\":\"user\",\"content\":\"How long is the refund window?\"}]}",
      &json));
  CHECK_CONTAINS(json, "30 days");
  pinecone_string_free(json);

  CHECK_OK(pinecone_client_evaluate_alignment(
      client, "{\"question\":\"q\",\"answer\":\"30 days\",\"ground_truth_answer\":\"30 days\"}",
      &json));
  CHECK_CONTAINS(json, "\"metrics\"");
  pinecone_string_free(json);

  CHECK_OK(pinecone_client_delete_assistant(client, "c-e2e", PINECONE_WAIT_FOR, 30000));
  CHECK_CODE(pinecone_client_describe_assistant(client, "c-e2e", &json),
             PINECONE_RESULT_NOT_FOUND);

  pinecone_assistant_free(docs);
  pinecone_client_free(client);
  puts("emulator: ok");
  return 0;
}
