/* Misuse of the C API: NULL for every pointer argument, invalid UTF-8, malformed
 * JSON, unknown settings, _free(NULL), and the static helpers. No request may
 * reach a server: the client points at port 1, where nothing listens, so a
 * check that slipped through would fail with PINECONE_RESULT_TRANSPORT. */
#include "check.h"

#define BAD_UTF8 "caf\xc3\x28"
/* a pointer value no library call may leave in an output after failing */
#define POISON ((void *)&poison_target)
static int poison_target;

#define CHECK_NULL_ARG(expr, name) CHECK_FAILS(expr, PINECONE_RESULT_NULL_ARGUMENT, name)

/* Client settings of the right type but a value the client refuses, each with
 * what the error message must name. All are refused by pinecone_client_new,
 * before any request. */
static const struct {
  const char *options_json;
  const char *named;
} REFUSED_SETTINGS[] = {
    {"{\"timeout_ms\": 0}", "timeout"},
    {"{\"evaluation_region\": \"mars\"}", "evaluation_region"},
    /* hosts must be http(s) URLs */
    {"{\"host\": \"not a url with spaces\"}", "`host`"},
    {"{\"host\": \"ftp://x\"}", "ftp://"},
    {"{\"evaluation_host\": \"ws://e\"}", "evaluation_host"},
    /* a proxy scheme the client cannot speak is refused here, not at the first call */
    {"{\"proxy\": \"ftp://p:21\"}", "proxy"},
    {"{\"poll_schedule\": \"steady\"}", "poll_schedule"},
};

/* Calls that take the same arguments, checked alike. */
typedef pinecone_result (*ask_json)(const pinecone_assistant *, const char *, char **);
typedef pinecone_result (*open_stream)(const pinecone_assistant *, const char *,
                                       pinecone_stream **);
typedef pinecone_result (*pour_stream)(const pinecone_assistant *, const char *, pinecone_json_cb,
                                       void *);

static int never_called(void *userdata, const char *json) {
  (void)userdata;
  (void)json;
  fprintf(stderr, "callback called during a misuse check\n");
  exit(1);
}

static int64_t never_read(void *userdata, uint8_t *buf, size_t len) {
  (void)userdata;
  (void)buf;
  (void)len;
  fprintf(stderr, "read callback called during a misuse check\n");
  exit(1);
}

int main(void) {
  pinecone_client *client = NULL;
  pinecone_client *other = POISON;
  pinecone_assistant *assistant = NULL;
  pinecone_assistant *assistant_out = POISON;
  pinecone_paginator *paginator = POISON;
  pinecone_cancel *cancel = NULL;
  char *json = POISON;

  /* static helpers */
  CHECK(strcmp(pinecone_result_name(PINECONE_RESULT_OK), "PINECONE_RESULT_OK") == 0);
  CHECK(strcmp(pinecone_result_name(PINECONE_RESULT_ABORTED), "PINECONE_RESULT_ABORTED") == 0);
  CHECK(strcmp(pinecone_result_name(12345), "PINECONE_RESULT_UNKNOWN") == 0);
  CHECK(strcmp(pinecone_result_name(-1), "PINECONE_RESULT_UNKNOWN") == 0);
  CHECK(pinecone_version() != NULL && pinecone_version()[0] != '\0');
  CHECK(pinecone_last_error_message() != NULL);
  CHECK(pinecone_last_error_message()[0] == '\0');
  CHECK(pinecone_last_error_status() == 0);

  /* _free(NULL) is a no-op everywhere */
  pinecone_string_free(NULL);
  pinecone_client_free(NULL);
  pinecone_assistant_free(NULL);
  pinecone_paginator_free(NULL);
  pinecone_cancel_free(NULL);
  pinecone_cancel_cancel(NULL);
  CHECK(pinecone_cancel_is_cancelled(NULL) == 0);

  /* client construction */
  CHECK(pinecone_last_error_json()[0] == '\0');
  CHECK_NULL_ARG(pinecone_client_new(NULL, NULL, &other), "api_key");
  CHECK(other == NULL);
  CHECK_CONTAINS(pinecone_last_error_json(), "\"argument\":\"api_key\"");
  CHECK_CONTAINS(pinecone_last_error_json(), "\"result\":\"PINECONE_RESULT_NULL_ARGUMENT\"");
  CHECK_NULL_ARG(pinecone_client_new("k", NULL, NULL), "client_out");
  CHECK_NULL_ARG(pinecone_client_from_env(NULL), "client_out");
  /* without a key the advice names the C function, not a Rust one */
  CHECK(unsetenv("PINECONE_API_KEY") == 0);
  other = POISON;
  CHECK_FAILS(pinecone_client_from_env(&other), PINECONE_RESULT_INVALID_ARGUMENT,
              "pinecone_client_new");
  CHECK(strstr(pinecone_last_error_message(), "ClientConfig") == NULL);
  CHECK(other == NULL);
  other = POISON;
  CHECK_FAILS(pinecone_client_new(BAD_UTF8, NULL, &other), PINECONE_RESULT_INVALID_UTF8, "api_key");
  CHECK(other == NULL);
  CHECK_FAILS(pinecone_client_new("k", "{\"host\": ", &other),
              PINECONE_RESULT_INVALID_JSON, "options_json");
  CHECK_FAILS(pinecone_client_new("k", "{\"timeout_ms\": \"soon\"}", &other),
              PINECONE_RESULT_INVALID_JSON, "timeout_ms");
  CHECK_CONTAINS(pinecone_last_error_json(), "\"field\":\"timeout_ms\"");
  CHECK_FAILS(pinecone_client_new("k", "{\"hots\": \"x\"}", &other),
              PINECONE_RESULT_INVALID_JSON, "hots");
  CHECK_CODE(pinecone_client_new("k", "{\"host\": \"" BAD_UTF8 "\"}", &other),
             PINECONE_RESULT_INVALID_UTF8);
  CHECK_FAILS(pinecone_client_new("k\nk", NULL, &other),
              PINECONE_RESULT_INVALID_ARGUMENT, "api_key");
  for (size_t i = 0; i < sizeof REFUSED_SETTINGS / sizeof REFUSED_SETTINGS[0]; i++) {
    CHECK_FAILS(pinecone_client_new("k", REFUSED_SETTINGS[i].options_json, &other),
                PINECONE_RESULT_INVALID_ARGUMENT, REFUSED_SETTINGS[i].named);
  }
  CHECK(other == NULL);
  /* a SOCKS proxy is usable: one where nothing listens fails the call, never panics */
  CHECK_OK(pinecone_client_new(
      "k", "{\"host\":\"http://127.0.0.1:1\",\"proxy\":\"socks5://127.0.0.1:1\",\"max_retries\":0}",
      &other));
  CHECK_CODE(pinecone_client_describe_assistant(other, "a", &json), PINECONE_RESULT_TRANSPORT);
  CHECK(json == NULL);
  pinecone_client_free(other);
  other = POISON;

  CHECK_OK(pinecone_client_new("k", "{\"host\":\"http://127.0.0.1:1\",\"max_retries\":0}",
                               &client));
  CHECK_OK(pinecone_cancel_new(&cancel));
  CHECK_NULL_ARG(pinecone_cancel_new(NULL), "cancel_out");
  other = POISON;
  CHECK_NULL_ARG(pinecone_client_with_cancel(NULL, cancel, &other), "client");
  CHECK(other == NULL);
  CHECK_NULL_ARG(pinecone_client_with_cancel(client, NULL, &other), "cancel");
  CHECK_NULL_ARG(pinecone_client_with_cancel(client, cancel, NULL), "client_out");

  /* control plane */
  CHECK_NULL_ARG(pinecone_client_create_assistant(NULL, "{\"name\":\"a\"}", 0, 0, &json), "client");
  CHECK(json == NULL);
  CHECK_NULL_ARG(pinecone_client_create_assistant(client, NULL, 0, 0, &json), "request_json");
  CHECK_NULL_ARG(pinecone_client_create_assistant(client, "{\"name\":\"a\"}", 0, 0, NULL), "json_out");
  CHECK_FAILS(pinecone_client_create_assistant(client, "{\"name\":", 0, 0, &json),
              PINECONE_RESULT_INVALID_JSON, "request_json");
  CHECK_FAILS(pinecone_client_create_assistant(client, "{\"instructions\":\"x\"}", 0, 0, &json),
              PINECONE_RESULT_INVALID_JSON, "name");
  CHECK_FAILS(pinecone_client_create_assistant(client, "{\"name\":\"a\",\"region\":\"mars\"}", 0, 0,
                                               &json),
              PINECONE_RESULT_INVALID_JSON, "region");
  CHECK_CODE(pinecone_client_create_assistant(client, "{\"name\":\"\"}", 0, 0, &json),
             PINECONE_RESULT_INVALID_ARGUMENT);
  CHECK_FAILS(pinecone_client_create_assistant(client, "{\"name\":\"a\"}", 3, 0, &json),
              PINECONE_RESULT_INVALID_ARGUMENT, "wait_mode");
  CHECK_CODE(pinecone_client_create_assistant(client, "{\"name\":\"" BAD_UTF8 "\"}", 0, 0, &json),
             PINECONE_RESULT_INVALID_UTF8);
  CHECK(json == NULL);

  CHECK_NULL_ARG(pinecone_client_describe_assistant(NULL, "a", &json), "client");
  CHECK_NULL_ARG(pinecone_client_describe_assistant(client, NULL, &json), "name");
  CHECK_NULL_ARG(pinecone_client_describe_assistant(client, "a", NULL), "json_out");
  CHECK_FAILS(pinecone_client_describe_assistant(client, BAD_UTF8, &json),
              PINECONE_RESULT_INVALID_UTF8, "name");
  CHECK_CODE(pinecone_client_describe_assistant(client, "", &json),
             PINECONE_RESULT_INVALID_ARGUMENT);

  CHECK_NULL_ARG(pinecone_client_list_assistants_page(NULL, NULL, &json), "client");
  CHECK_NULL_ARG(pinecone_client_list_assistants_page(client, NULL, NULL), "json_out");
  CHECK_FAILS(pinecone_client_list_assistants_page(client, "{\"limit\":\"two\"}", &json),
              PINECONE_RESULT_INVALID_JSON, "limit");

  CHECK_NULL_ARG(pinecone_client_list_assistants(NULL, NULL, &paginator), "client");
  CHECK(paginator == NULL);
  CHECK_NULL_ARG(pinecone_client_list_assistants(client, NULL, NULL), "paginator_out");
  CHECK_CODE(pinecone_client_list_assistants(client, "[]", &paginator),
             PINECONE_RESULT_INVALID_JSON);
  CHECK_CODE(pinecone_client_list_assistants(client, BAD_UTF8, &paginator),
             PINECONE_RESULT_INVALID_UTF8);
  /* a page size of 0 is refused when the paginator is made, not by its first fetch */
  paginator = POISON;
  CHECK_FAILS(pinecone_client_list_assistants(client, "{\"limit\":0}", &paginator),
              PINECONE_RESULT_INVALID_ARGUMENT, "page_size");
  CHECK(paginator == NULL);

  CHECK_NULL_ARG(pinecone_client_update_assistant(NULL, "a", "{}", &json), "client");
  CHECK_NULL_ARG(pinecone_client_update_assistant(client, NULL, "{}", &json), "name");
  CHECK_NULL_ARG(pinecone_client_update_assistant(client, "a", NULL, &json), "request_json");
  CHECK_NULL_ARG(pinecone_client_update_assistant(client, "a", "{}", NULL), "json_out");
  CHECK_CODE(pinecone_client_update_assistant(client, "a", "{\"metadata\":", &json),
             PINECONE_RESULT_INVALID_JSON);

  CHECK_NULL_ARG(pinecone_client_delete_assistant(NULL, "a", 0, 0), "client");
  CHECK_NULL_ARG(pinecone_client_delete_assistant(client, NULL, 0, 0), "name");
  CHECK_CODE(pinecone_client_delete_assistant(client, "a", -1, 0),
             PINECONE_RESULT_INVALID_ARGUMENT);

  /* assistants */
  CHECK_NULL_ARG(pinecone_client_assistant(NULL, "a", &assistant_out), "client");
  CHECK(assistant_out == NULL);
  CHECK_NULL_ARG(pinecone_client_assistant(client, NULL, &assistant_out), "name");
  CHECK_NULL_ARG(pinecone_client_assistant(client, "a", NULL), "assistant_out");
  CHECK_CODE(pinecone_client_assistant(client, "", &assistant_out),
             PINECONE_RESULT_INVALID_ARGUMENT);
  CHECK_CODE(pinecone_client_assistant(client, BAD_UTF8, &assistant_out),
             PINECONE_RESULT_INVALID_UTF8);
  CHECK_OK(pinecone_client_assistant(client, "a", &assistant));

  /* paginators */
  CHECK_OK(pinecone_client_list_assistants(client, NULL, &paginator));
  CHECK_NULL_ARG(pinecone_paginator_next(NULL, &json), "paginator");
  CHECK_NULL_ARG(pinecone_paginator_next(paginator, NULL), "item_json_out");
  CHECK_NULL_ARG(pinecone_paginator_for_each(NULL, never_called, NULL), "paginator");
  CHECK_NULL_ARG(pinecone_paginator_for_each(paginator, NULL, NULL), "cb");
  /* the first real fetch fails: nothing listens on port 1 */
  CHECK_CODE(pinecone_paginator_next(paginator, &json), PINECONE_RESULT_TRANSPORT);
  CHECK_OK(pinecone_paginator_next(paginator, &json));
  CHECK(json == NULL);
  pinecone_paginator_free(paginator);

  /* files and operations */
  CHECK_NULL_ARG(pinecone_assistant_upload_file(NULL, "a.md", NULL, 0, 0, NULL, NULL, &json),
                 "assistant");
  CHECK(json == NULL);
  CHECK_NULL_ARG(pinecone_assistant_upload_file(assistant, NULL, NULL, 0, 0, NULL, NULL, &json),
                 "path");
  CHECK_NULL_ARG(pinecone_assistant_upload_file(assistant, "a.md", NULL, 0, 0, NULL, NULL, NULL),
                 "json_out");
  CHECK_CODE(pinecone_assistant_upload_file(assistant, BAD_UTF8, NULL, 0, 0, NULL, NULL, &json),
             PINECONE_RESULT_INVALID_UTF8);
  CHECK_CODE(pinecone_assistant_upload_file(assistant, "a.md", "{\"metadata\":", 0, 0, NULL,
                                            NULL, &json),
             PINECONE_RESULT_INVALID_JSON);
  CHECK_CODE(pinecone_assistant_upload_file(assistant, "a.md", NULL, 9, 0, NULL, NULL, &json),
             PINECONE_RESULT_INVALID_ARGUMENT);
  CHECK_NULL_ARG(pinecone_assistant_upload_reader(NULL, "a.md", -1, NULL, 0, 0, never_read, NULL,
                                                  NULL, &json),
                 "assistant");
  CHECK_NULL_ARG(pinecone_assistant_upload_reader(assistant, NULL, -1, NULL, 0, 0, never_read,
                                                  NULL, NULL, &json),
                 "file_name");
  CHECK_NULL_ARG(pinecone_assistant_upload_reader(assistant, "a.md", -1, NULL, 0, 0, NULL, NULL,
                                                  NULL, &json),
                 "read");
  CHECK_NULL_ARG(pinecone_assistant_upload_reader(assistant, "a.md", -1, NULL, 0, 0, never_read,
                                                  NULL, NULL, NULL),
                 "json_out");
  CHECK_NULL_ARG(pinecone_assistant_upload_bytes(NULL, "a.md", NULL, 0, NULL, 0, 0, NULL, NULL,
                                                 &json),
                 "assistant");
  CHECK_NULL_ARG(pinecone_assistant_upload_bytes(assistant, NULL, NULL, 0, NULL, 0, 0, NULL, NULL,
                                                 &json),
                 "file_name");
  CHECK_NULL_ARG(pinecone_assistant_upload_bytes(assistant, "a.md", NULL, 0, NULL, 0, 0, NULL,
                                                 NULL, NULL),
                 "json_out");
  CHECK_NULL_ARG(pinecone_assistant_describe_file(NULL, "f", NULL, &json), "assistant");
  CHECK_NULL_ARG(pinecone_assistant_describe_file(assistant, NULL, NULL, &json), "file_id");
  CHECK_NULL_ARG(pinecone_assistant_describe_file(assistant, "f", NULL, NULL), "json_out");
  CHECK_FAILS(pinecone_assistant_describe_file(assistant, "f", "{\"include_url\":1}", &json),
              PINECONE_RESULT_INVALID_JSON, "include_url");
  CHECK_NULL_ARG(pinecone_assistant_list_files_page(NULL, NULL, &json), "assistant");
  CHECK_NULL_ARG(pinecone_assistant_list_files_page(assistant, NULL, NULL), "json_out");
  CHECK_FAILS(pinecone_assistant_list_files_page(assistant, "{\"filters\":{}}", &json),
              PINECONE_RESULT_INVALID_JSON, "filters");
  CHECK_FAILS(pinecone_assistant_list_files_page(assistant, "{\"max_items\":3}", &json),
              PINECONE_RESULT_INVALID_ARGUMENT, "max_items");
  CHECK_CODE(pinecone_assistant_list_operations_page(assistant, "{\"max_items\":3}", &json),
             PINECONE_RESULT_INVALID_ARGUMENT);
  CHECK_CODE(pinecone_client_list_assistants_page(client, "{\"max_items\":3}", &json),
             PINECONE_RESULT_INVALID_JSON);
  paginator = POISON;
  CHECK_NULL_ARG(pinecone_assistant_list_files(NULL, NULL, &paginator), "assistant");
  CHECK(paginator == NULL);
  CHECK_NULL_ARG(pinecone_assistant_list_files(assistant, NULL, NULL), "paginator_out");
  CHECK_NULL_ARG(pinecone_assistant_delete_file(NULL, "f", 0, 0, &json), "assistant");
  CHECK_NULL_ARG(pinecone_assistant_delete_file(assistant, NULL, 0, 0, &json), "file_id");
  CHECK_NULL_ARG(pinecone_assistant_delete_file(assistant, "f", 0, 0, NULL), "json_out");
  CHECK_NULL_ARG(pinecone_assistant_describe_operation(NULL, "o", &json), "assistant");
  CHECK_NULL_ARG(pinecone_assistant_describe_operation(assistant, NULL, &json), "operation_id");
  CHECK_NULL_ARG(pinecone_assistant_describe_operation(assistant, "o", NULL), "json_out");
  CHECK_NULL_ARG(pinecone_assistant_wait_for_operation(NULL, "o", 1, 0, &json), "assistant");
  CHECK_NULL_ARG(pinecone_assistant_wait_for_operation(assistant, NULL, 1, 0, &json),
                 "operation_id");
  CHECK_NULL_ARG(pinecone_assistant_wait_for_operation(assistant, "o", 1, 0, NULL), "json_out");
  CHECK_NULL_ARG(pinecone_assistant_list_operations_page(NULL, NULL, &json), "assistant");
  CHECK_NULL_ARG(pinecone_assistant_list_operations_page(assistant, NULL, NULL), "json_out");
  CHECK_NULL_ARG(pinecone_assistant_list_operations(NULL, NULL, &paginator), "assistant");
  CHECK_NULL_ARG(pinecone_assistant_list_operations(assistant, NULL, NULL), "paginator_out");
  CHECK_CODE(pinecone_assistant_list_operations(assistant, "{\"limit\":-1}", &paginator),
             PINECONE_RESULT_INVALID_JSON);
  CHECK(json == NULL);

  /* retrieval, chat and streams */
  {
    pinecone_stream *stream = POISON;
    int i;
    const char *q = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    /* context, chat and chat completions take the same arguments */
    ask_json asks[] = {pinecone_assistant_context, pinecone_assistant_chat,
                       pinecone_assistant_chat_completions};
    const char *requests[] = {"{\"query\":\"q\"}", q, q};
    for (i = 0; i < 3; i++) {
      CHECK_NULL_ARG(asks[i](NULL, requests[i], &json), "assistant");
      CHECK_NULL_ARG(asks[i](assistant, NULL, &json), "request_json");
      CHECK_NULL_ARG(asks[i](assistant, requests[i], NULL), "json_out");
    }
    CHECK_FAILS(pinecone_assistant_context(assistant, "{\"top_k\":\"many\"}", &json),
                PINECONE_RESULT_INVALID_JSON, "top_k");
    CHECK_FAILS(pinecone_assistant_chat(assistant, "{\"messages\":{}}", &json),
                PINECONE_RESULT_INVALID_JSON, "messages");
    CHECK_CODE(pinecone_assistant_chat(assistant, BAD_UTF8, &json), PINECONE_RESULT_INVALID_UTF8);
    CHECK_NULL_ARG(pinecone_client_evaluate_alignment(NULL, "{}", &json), "client");
    CHECK_NULL_ARG(pinecone_client_evaluate_alignment(client, NULL, &json), "request_json");
    CHECK_NULL_ARG(pinecone_client_evaluate_alignment(client, "{}", NULL), "json_out");
    CHECK_FAILS(pinecone_client_evaluate_alignment(client, "{\"question\":\"q\"}", &json),
                PINECONE_RESULT_INVALID_JSON, "answer");

    for (i = 0; i < 2; i++) {
      open_stream open = i == 0 ? pinecone_assistant_chat_stream
                                : pinecone_assistant_chat_completions_stream;
      pour_stream pour = i == 0 ? pinecone_assistant_chat_stream_cb
                                : pinecone_assistant_chat_completions_stream_cb;
      stream = POISON;
      CHECK_NULL_ARG(open(NULL, q, &stream), "assistant");
      CHECK(stream == NULL);
      CHECK_NULL_ARG(open(assistant, NULL, &stream), "request_json");
      CHECK_NULL_ARG(open(assistant, q, NULL), "stream_out");
      CHECK_NULL_ARG(pour(NULL, q, never_called, NULL), "assistant");
      CHECK_NULL_ARG(pour(assistant, NULL, never_called, NULL), "request_json");
      CHECK_NULL_ARG(pour(assistant, q, NULL, NULL), "cb");
    }
    CHECK_NULL_ARG(pinecone_stream_next(NULL, &json), "stream");
    CHECK_NULL_ARG(pinecone_stream_next_text(NULL, &json), "stream");
    {
      const char *lent = "x";
      size_t len = 7;
      CHECK_NULL_ARG(pinecone_stream_next_borrowed(NULL, &lent, &len), "stream");
      CHECK(lent == NULL && len == 0);
    }
    CHECK_NULL_ARG(pinecone_stream_for_each(NULL, never_called, NULL), "stream");
    pinecone_stream_cancel(NULL);
    pinecone_stream_free(NULL);
    /* the connection is refused when the stream opens, not later */
    CHECK_CODE(pinecone_assistant_chat_stream(assistant, q, &stream), PINECONE_RESULT_TRANSPORT);
    CHECK(stream == NULL);
    CHECK(json == NULL);
  }

  /* handles may be freed in any order */
  pinecone_client_free(client);
  pinecone_assistant_free(assistant);
  pinecone_cancel_free(cancel);
  puts("misuse: ok");
  return 0;
}
