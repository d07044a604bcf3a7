/* The control plane from C: create (waiting), describe, list pages, paginate
 * (pull and callback, with an abort), update, delete (waiting), and the error
 * codes each can produce. The server is a mock whose URL is PINECONE_TEST_URL;
 * PINECONE_TEST_SILENT_URL accepts connections and never answers. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <time.h>

#include "check.h"

static int count_items(void *userdata, const char *json) {
  int *count = userdata;
  CHECK_CONTAINS(json, "\"name\":");
  *count += 1;
  return 0;
}

static int stop_at_first(void *userdata, const char *json) {
  int *count = userdata;
  (void)json;
  *count += 1;
  return 1;
}

/* Calls back into the paginator that is calling it: refused, not a deadlock. */
static int reenter(void *userdata, const char *json) {
  char *item = NULL;
  (void)json;
  CHECK_CODE(pinecone_paginator_next(userdata, &item), PINECONE_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("in use");
  CHECK(item == NULL);
  return 1;
}

/* Frees the paginator it is walking from its own callback. */
static int free_self(void *pages, const char *json) {
  (void)json;
  pinecone_paginator_free((pinecone_paginator *)pages);
  return 0;
}

static void *cancel_soon(void *arg) {
  struct timespec pause = {0, 100 * 1000 * 1000};
  nanosleep(&pause, NULL);
  pinecone_cancel_cancel(arg);
  return NULL;
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
  const char *url = test_url("PINECONE_TEST_URL");
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
  CHECK_CODE(pinecone_client_create_assistant(client, "{\"name\":\"broken-bot\"}",
                                              PINECONE_WAIT_FOREVER, 0, &json),
             PINECONE_RESULT_ASSISTANT_FAILED);
  CHECK_ERROR_MENTIONS("InitializationFailed");
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
  CHECK_CODE(pinecone_client_list_assistants_page(client, "{\"limit\":0}", &json),
             PINECONE_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("page_size");
  CHECK_CODE(pinecone_client_list_assistants_page(client, "{\"limt\":2}", &json),
             PINECONE_RESULT_INVALID_JSON);
  CHECK_ERROR_MENTIONS("limt");

  /* the paginator walks both pages: pull form. */
  {
    pinecone_paginator *pages = NULL;
    const char *names[] = {"support-bot", "eu-docs", "third-bot"};
    int i = 0;
    CHECK_OK(pinecone_client_list_assistants(client, NULL, &pages));
    for (;;) {
      char *item = NULL;
      CHECK_OK(pinecone_paginator_next(pages, &item));
      if (item == NULL) break;
      CHECK(i < 3);
      CHECK_CONTAINS(item, names[i]);
      pinecone_string_free(item);
      i++;
    }
    CHECK(i == 3);
    /* finished stays finished */
    CHECK_OK(pinecone_paginator_next(pages, &json));
    CHECK(json == NULL);
    pinecone_paginator_free(pages);
  }

  /* callback form, once to the end and once stopped after the first item. */
  {
    pinecone_paginator *pages = NULL;
    int count = 0;
    CHECK_OK(pinecone_client_list_assistants(client, "{}", &pages));
    CHECK_OK(pinecone_paginator_for_each(pages, count_items, &count));
    CHECK(count == 3);
    pinecone_paginator_free(pages);

    CHECK_OK(pinecone_client_list_assistants(client, "{\"max_items\":1}", &pages));
    CHECK_CODE(pinecone_paginator_for_each(pages, reenter, pages), PINECONE_RESULT_ABORTED);
    pinecone_paginator_free(pages);

    count = 0;
    CHECK_OK(pinecone_client_list_assistants(client, "{\"max_items\":2}", &pages));
    CHECK_CODE(pinecone_paginator_for_each(pages, stop_at_first, &count),
               PINECONE_RESULT_ABORTED);
    CHECK(count == 1);
    /* the walk goes on after the aborted item, and stops at max_items */
    CHECK_OK(pinecone_paginator_next(pages, &json));
    CHECK_CONTAINS(json, "eu-docs");
    pinecone_string_free(json);
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
    char *item = NULL;
    char *point = NULL;
    CHECK_OK(pinecone_client_list_assistants(client, NULL, &pages));
    CHECK_OK(pinecone_paginator_next(pages, &item));
    CHECK_CONTAINS(item, "support-bot");
    pinecone_string_free(item);
    CHECK_OK(pinecone_paginator_resume_point(pages, &point));
    CHECK(strcmp(point, "{\"pagination_token\":null,\"skip\":1}") == 0);
    pinecone_string_free(point);
    pinecone_paginator_free(pages);

    CHECK_OK(pinecone_client_list_assistants(client, "{\"skip\":1}", &pages));
    CHECK_OK(pinecone_paginator_next(pages, &item));
    CHECK_CONTAINS(item, "eu-docs");
    pinecone_string_free(item);
    CHECK_OK(pinecone_paginator_next(pages, &item));
    CHECK_CONTAINS(item, "third-bot");
    pinecone_string_free(item);
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
  CHECK_CODE(pinecone_client_update_assistant(client, "support-bot", "{}", &json),
             PINECONE_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("instructions");

  /* delete, without and with waiting */
  CHECK_OK(pinecone_client_delete_assistant(client, "quick-bot", PINECONE_WAIT_NO, 0));
  CHECK_OK(pinecone_client_delete_assistant(client, "old-bot", PINECONE_WAIT_FOR,
                                            60000));
  CHECK_CODE(pinecone_client_delete_assistant(client, "support-bot", 7, 0),
             PINECONE_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("wait_mode");

  /* cancellation: before a call, and from another thread during a wait. */
  {
    pinecone_cancel *cancel = NULL;
    pinecone_client *cancellable = NULL;
    pthread_t thread;
    CHECK_OK(pinecone_cancel_new(&cancel));
    CHECK(pinecone_cancel_is_cancelled(cancel) == 0);
    CHECK_OK(pinecone_client_with_cancel(client, cancel, &cancellable));
    CHECK(pthread_create(&thread, NULL, cancel_soon, cancel) == 0);
    /* stuck-bot stays Terminating: only the cancel ends this wait */
    CHECK_CODE(pinecone_client_delete_assistant(cancellable, "stuck-bot",
                                                PINECONE_WAIT_FOREVER, 0),
               PINECONE_RESULT_CANCELLED);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK(pinecone_cancel_is_cancelled(cancel) == 1);
    CHECK_CODE(pinecone_client_describe_assistant(cancellable, "support-bot", &json),
               PINECONE_RESULT_CANCELLED);
    pinecone_cancel_free(cancel);
    pinecone_client_free(cancellable);
  }

  /* a server that accepts the connection and never answers: a timeout. */
  {
    pinecone_client *silent =
        test_client(test_url("PINECONE_TEST_SILENT_URL"), "\"timeout_ms\":200");
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
