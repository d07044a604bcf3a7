/* The control plane from C: create (waiting), describe, list pages, paginate
 * (pull and callback, with an abort), update, delete (waiting), and the error
 * codes each can produce. The server is a mock whose URL is PINECONE_TEST_URL;
 * PINECONE_TEST_SILENT_URL accepts connections and never answers. */
#include "check.h"

/* Calls back into the paginator that is calling it: refused, not a deadlock. */
static int reenter(void *userdata, const char *json) {
  char *item = NULL;
  (void)json;
  CHECK_FAILS(pinecone_paginator_next(userdata, &item), PINECONE_RESULT_INVALID_ARGUMENT, "in use");
  CHECK(item == NULL);
  return 1;
}

/* Frees the paginator it is walking from its own callback. */
static int free_self(void *pages, const char *json) {
  (void)json;
  pinecone_paginator_free((pinecone_paginator *)pages);
  return 0;
}

/* Many threads share one client and one assistant handle. */
struct worker {
  pinecone_client *client;
  int ok;
};

static void *describe_many(void *arg) {
  struct worker *w = arg;
  int i;
  for (i = 0; i < 5; i++) {
    char *json = NULL;
    if (pinecone_client_describe_assistant(w->client, "support-bot", &json) ==
            PINECONE_RESULT_OK &&
        strstr(json, "support-bot") != NULL) {
      w->ok++;
    }
    pinecone_string_free(json);
    /* each thread has its own last error: a failure elsewhere never shows here */
    if (pinecone_client_describe_assistant(w->client, "ghost-bot", &json) !=
            PINECONE_RESULT_NOT_FOUND ||
        pinecone_last_error_status() != 404) {
      w->ok = -1000;
    }
  }
  return NULL;
}

int main(void) {
  const char *url = test_env("PINECONE_TEST_URL");
  pinecone_client *client = test_client(url, "");
  char *json = NULL;

  /* create + wait: POST answers Initializing, the first describe Ready. */
  CHECK_OK(pinecone_client_create_assistant(
      client,
      "{\"name\":\"support-bot\",\"instructions\":\"Answer from the billing "
      "documents only.\",\"metadata\":{\"team\":\"billing\"}}",
      PINECONE_WAIT_FOREVER, 0, &json));
  CHECK_CONTAINS(json, "\"status\":\"Ready\"");
  CHECK_CONTAINS(json, "\"name\":\"support-bot\"");
  pinecone_string_free(json);

  /* create without waiting returns the POST answer. */
  CHECK_OK(pinecone_client_create_assistant(client, "{\"name\":\"quick-bot\"}",
                                            PINECONE_WAIT_NO, 0, &json));
  CHECK_CONTAINS(json, "\"status\":\"Initializing\"");
  pinecone_string_free(json);

  /* a deadline of 0 polls once, then gives up. */
  CHECK_CODE(pinecone_client_create_assistant(client, "{\"name\":\"slow-bot\"}",
                                              PINECONE_WAIT_FOR, 0, &json),
             PINECONE_RESULT_WAIT_TIMEOUT);
  CHECK(json == NULL);
  CHECK_ERROR_MENTIONS("slow-bot");
  CHECK_CONTAINS(pinecone_last_error_json(), "\"last_status\":\"Initializing\"");

  /* an assistant that fails while being created. */
  CHECK_FAILS(pinecone_client_create_assistant(client, "{\"name\":\"broken-bot\"}",
                                               PINECONE_WAIT_FOREVER, 0, &json),
              PINECONE_RESULT_ASSISTANT_FAILED, "InitializationFailed");
  CHECK_CONTAINS(pinecone_last_error_json(), "\"assistant_status\":\"InitializationFailed\"");

  /* a name in use: 409 from the server. */
  CHECK_CODE(pinecone_client_create_assistant(client, "{\"name\":\"taken-bot\"}",
                                              PINECONE_WAIT_NO, 0, &json),
             PINECONE_RESULT_API_ERROR);
  CHECK(pinecone_last_error_status() == 409);
  CHECK_ERROR_MENTIONS("already exists");
  CHECK_CONTAINS(pinecone_last_error_json(), "\"error_code\":\"ALREADY_EXISTS\"");

  /* a quota reached: 429 with Retry-After, never retried on create */
  CHECK_CODE(pinecone_client_create_assistant(client, "{\"name\":\"limited-bot\"}",
                                              PINECONE_WAIT_NO, 0, &json),
             PINECONE_RESULT_API_ERROR);
  CHECK(pinecone_last_error_status() == 429);
  CHECK_CONTAINS(pinecone_last_error_json(), "\"retry_after_ms\":120000");
  CHECK_CONTAINS(pinecone_last_error_json(), "\"result\":\"PINECONE_RESULT_API_ERROR\"");

  /* describe, found and not found. */
  CHECK_OK(pinecone_client_describe_assistant(client, "support-bot", &json));
  CHECK_CONTAINS(json, "\"host\":\"http://127.0.0.1");
  pinecone_string_free(json);
  CHECK_CODE(pinecone_client_describe_assistant(client, "ghost-bot", &json),
             PINECONE_RESULT_NOT_FOUND);
  CHECK(pinecone_last_error_status() == 404);
  CHECK_ERROR_MENTIONS("Assistant \"ghost-bot\" not found.");
  CHECK_ERROR_MENTIONS("7f3e2b1a9c");
  CHECK_CONTAINS(pinecone_last_error_json(), "\"request_id\":\"7f3e2b1a9c\"");
  CHECK_CONTAINS(pinecone_last_error_json(), "\"code\":10,");

  /* a 500 (not retried: max_retries is 0), and a body that is not JSON. */
  CHECK_CODE(pinecone_client_describe_assistant(client, "flaky-bot", &json),
             PINECONE_RESULT_API_ERROR);
  CHECK(pinecone_last_error_status() == 500);
  CHECK_CODE(pinecone_client_describe_assistant(client, "garbled-bot", &json),
             PINECONE_RESULT_DECODE);
  CHECK(pinecone_last_error_status() == 0);

  /* one page. */
  CHECK_OK(pinecone_client_list_assistants_page(client, "{\"limit\":2}", &json));
  CHECK_CONTAINS(json, "\"next\":\"YXNzdDoy\"");
  CHECK_CONTAINS(json, "\"eu-docs\"");
  pinecone_string_free(json);
  CHECK_FAILS(pinecone_client_list_assistants_page(client, "{\"limit\":0}", &json),
              PINECONE_RESULT_INVALID_ARGUMENT, "page_size");
  CHECK_FAILS(pinecone_client_list_assistants_page(client, "{\"limt\":2}", &json),
              PINECONE_RESULT_INVALID_JSON, "limt");

  /* the paginator walks both pages: pull form. */
  {
    pinecone_paginator *pages = NULL;
    const char *names[] = {"support-bot", "eu-docs", "third-bot"};
    CHECK_OK(pinecone_client_list_assistants(client, NULL, &pages));
    check_items(pages, names, 3); /* and finished stays finished */
    pinecone_paginator_free(pages);
  }

  /* callback form, once to the end and once stopped after the first item. */
  {
    pinecone_paginator *pages = NULL;
    struct seen seen = {0, 0, "\"name\":"};
    CHECK_OK(pinecone_client_list_assistants(client, "{}", &pages));
    CHECK_OK(pinecone_paginator_for_each(pages, on_json, &seen));
    CHECK(seen.count == 3);
    pinecone_paginator_free(pages);

    CHECK_OK(pinecone_client_list_assistants(client, "{\"max_items\":1}", &pages));
    CHECK_CODE(pinecone_paginator_for_each(pages, reenter, pages), PINECONE_RESULT_ABORTED);
    pinecone_paginator_free(pages);

    seen.count = 0;
    seen.stop_at = 1;
    CHECK_OK(pinecone_client_list_assistants(client, "{\"max_items\":2}", &pages));
    CHECK_CODE(pinecone_paginator_for_each(pages, on_json, &seen), PINECONE_RESULT_ABORTED);
    CHECK(seen.count == 1);
    /* the walk goes on after the aborted item, and stops at max_items */
    check_next_item(pages, "eu-docs");
    CHECK_OK(pinecone_paginator_next(pages, &json));
    CHECK(json == NULL);
    pinecone_paginator_free(pages);
  }

  /* freed from its own callback: the walk ends there, the paginator is freed
     when it returns (valgrind checks there is no use after free) */
  {
    pinecone_paginator *pages = NULL;
    CHECK_OK(pinecone_client_list_assistants(client, NULL, &pages));
    CHECK_OK(pinecone_paginator_for_each(pages, free_self, pages));
  }

  /* resume: stop after one item, then continue exactly after it. */
  {
    pinecone_paginator *pages = NULL;
    char *point = NULL;
    CHECK_OK(pinecone_client_list_assistants(client, NULL, &pages));
    check_next_item(pages, "support-bot");
    CHECK_OK(pinecone_paginator_resume_point(pages, &point));
    CHECK(strcmp(point, "{\"pagination_token\":null,\"skip\":1}") == 0);
    pinecone_string_free(point);
    pinecone_paginator_free(pages);

    CHECK_OK(pinecone_client_list_assistants(client, "{\"skip\":1}", &pages));
    check_next_item(pages, "eu-docs");
    check_next_item(pages, "third-bot");
    /* every item returned: nothing to resume */
    CHECK_OK(pinecone_paginator_resume_point(pages, &point));
    CHECK(strcmp(point, "null") == 0);
    pinecone_string_free(point);
    CHECK_CODE(pinecone_paginator_resume_point(NULL, &point), PINECONE_RESULT_NULL_ARGUMENT);
    CHECK_CODE(pinecone_paginator_resume_point(pages, NULL), PINECONE_RESULT_NULL_ARGUMENT);
    pinecone_paginator_free(pages);
  }

  /* update */
  CHECK_OK(pinecone_client_update_assistant(
      client, "support-bot", "{\"instructions\":\"Cite pages.\"}", &json));
  CHECK_CONTAINS(json, "\"instructions\":\"Cite pages.\"");
  pinecone_string_free(json);
  CHECK_FAILS(pinecone_client_update_assistant(client, "support-bot", "{}", &json),
              PINECONE_RESULT_INVALID_ARGUMENT, "instructions");

  /* delete, without and with waiting */
  CHECK_OK(pinecone_client_delete_assistant(client, "quick-bot", PINECONE_WAIT_NO, 0));
  CHECK_OK(pinecone_client_delete_assistant(client, "old-bot", PINECONE_WAIT_FOR,
                                            60000));
  CHECK_FAILS(pinecone_client_delete_assistant(client, "support-bot", 7, 0),
              PINECONE_RESULT_INVALID_ARGUMENT, "wait_mode");

  /* cancellation: before a call, and from another thread during a wait. */
  {
    struct later later = {100, NULL, NULL, 0};
    pinecone_client *cancellable = NULL;
    CHECK_OK(pinecone_cancel_new(&later.cancel));
    CHECK(pinecone_cancel_is_cancelled(later.cancel) == 0);
    CHECK_OK(pinecone_client_with_cancel(client, later.cancel, &cancellable));
    start_later(&later);
    /* stuck-bot stays Terminating: only the cancel ends this wait */
    CHECK_CODE(pinecone_client_delete_assistant(cancellable, "stuck-bot",
                                                PINECONE_WAIT_FOREVER, 0),
               PINECONE_RESULT_CANCELLED);
    finish_later(&later);
    CHECK(pinecone_cancel_is_cancelled(later.cancel) == 1);
    CHECK_CODE(pinecone_client_describe_assistant(cancellable, "support-bot", &json),
               PINECONE_RESULT_CANCELLED);
    pinecone_cancel_free(later.cancel);
    pinecone_client_free(cancellable);
  }

  /* a server that accepts the connection and never answers: a timeout. */
  {
    pinecone_client *silent =
        test_client(test_env("PINECONE_TEST_SILENT_URL"), "\"timeout_ms\":200");
    CHECK_CODE(pinecone_client_describe_assistant(silent, "support-bot", &json),
               PINECONE_RESULT_TIMEOUT);
    pinecone_client_free(silent);
  }

  /* nothing listens on port 1: a transport error. */
  {
    pinecone_client *nowhere = test_client("http://127.0.0.1:1", "");
    CHECK_CODE(pinecone_client_describe_assistant(nowhere, "support-bot", &json),
               PINECONE_RESULT_TRANSPORT);
    CHECK(pinecone_last_error_status() == 0);
    pinecone_client_free(nowhere);
  }

  /* one client from four threads at once */
  {
    pthread_t threads[4];
    struct worker workers[4];
    int i;
    for (i = 0; i < 4; i++) {
      workers[i].client = client;
      workers[i].ok = 0;
      CHECK(pthread_create(&threads[i], NULL, describe_many, &workers[i]) == 0);
    }
    for (i = 0; i < 4; i++) {
      CHECK(pthread_join(threads[i], NULL) == 0);
      CHECK(workers[i].ok == 5);
    }
  }

  /* a successful call clears the last error */
  CHECK_OK(pinecone_client_describe_assistant(client, "support-bot", &json));
  pinecone_string_free(json);
  CHECK(pinecone_last_error_message()[0] == '\0');
  CHECK(pinecone_last_error_status() == 0);
  CHECK(pinecone_last_error_json()[0] == '\0');

  pinecone_client_free(client);
  puts("control plane: ok");
  return 0;
}
