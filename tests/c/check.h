/* What the C test programs share: assertions (each failure prints where, what
 * the call returned and the library's last error, then exits with status 1),
 * the test client, walks read to their end, and cancels from another thread.
 * Include it before anything else. */
#ifndef PINECONE_TEST_CHECK_H
#define PINECONE_TEST_CHECK_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pinecone_assistant.h"

#define CHECK_CODE(expr, want)                                                   \
  do {                                                                           \
    pinecone_result got_ = (expr);                                               \
    if ((int)got_ != (int)(want)) {                                              \
      fprintf(stderr, "%s:%d: %s\n  returned %s, wanted %s\n  last error: %s\n", \
              __FILE__, __LINE__, #expr, pinecone_result_name((int)got_),        \
              pinecone_result_name((int)(want)), pinecone_last_error_message()); \
      exit(1);                                                                   \
    }                                                                            \
  } while (0)

#define CHECK_OK(expr) CHECK_CODE(expr, PINECONE_RESULT_OK)

#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
              #cond);                                                \
      exit(1);                                                       \
    }                                                                \
  } while (0)

#define CHECK_CONTAINS(text, needle)                                              \
  do {                                                                            \
    const char *t_ = (text);                                                      \
    if (t_ == NULL || strstr(t_, (needle)) == NULL) {                             \
      fprintf(stderr, "%s:%d: %s does not contain \"%s\":\n  %s\n", __FILE__,    \
              __LINE__, #text, (needle), t_ ? t_ : "(NULL)");                     \
      exit(1);                                                                    \
    }                                                                             \
  } while (0)

/* The last error names this text (a parameter, a field, a server message). */
#define CHECK_ERROR_MENTIONS(needle) \
  CHECK_CONTAINS(pinecone_last_error_message(), needle)

/* The call fails with `want`, and its last error names `needle`. */
#define CHECK_FAILS(expr, want, needle) \
  do {                                  \
    CHECK_CODE(expr, want);             \
    CHECK_ERROR_MENTIONS(needle);       \
  } while (0)

/* The value of a variable the test needs, from the environment. */
static inline const char *test_env(const char *var) {
  const char *value = getenv(var);
  if (value == NULL || value[0] == '\0') {
    fprintf(stderr, "%s is not set\n", var);
    exit(2);
  }
  return value;
}

/* A client for the test server at `url` with `key`, which also serves the
 * evaluation host: no retries, polling every `poll_ms`, plus the settings in
 * `extra` (JSON members, or ""). */
static inline pinecone_client *test_client_with(const char *key, const char *url, int poll_ms,
                                                const char *extra) {
  char options[1024];
  pinecone_client *client = NULL;
  snprintf(options, sizeof options,
           "{\"host\":\"%s\",\"evaluation_host\":\"%s\",\"max_retries\":0,"
           "\"create_poll_interval_ms\":%d,\"operation_poll_interval_ms\":%d%s%s}",
           url, url, poll_ms, poll_ms, extra[0] ? "," : "", extra);
  CHECK_OK(pinecone_client_new(key, options, &client));
  CHECK(client != NULL);
  return client;
}

/* A client for the mock server at `url`: key "test-key", millisecond polling. */
static inline pinecone_client *test_client(const char *url, const char *extra) {
  return test_client_with("test-key", url, 1, extra);
}

/* Checks the `i`-th of `n` documents of a walk against `want[i]`: contains it,
 * or equals it when `exact`. */
static inline void check_document(const char *doc, int i, const char *const *want, int n,
                                  int exact) {
  if (i >= n) {
    fprintf(stderr, "more than the %d documents expected; extra: %s\n", n, doc);
    exit(1);
  }
  if (exact) {
    if (strcmp(doc, want[i]) != 0) {
      fprintf(stderr, "document %d is \"%s\", wanted \"%s\"\n", i, doc, want[i]);
      exit(1);
    }
  } else {
    CHECK_CONTAINS(doc, want[i]);
  }
}

/* Reads `pages` to its end: exactly `n` items, the i-th containing `want[i]`.
 * A finished walk stays finished. */
static inline void check_items(pinecone_paginator *pages, const char *const *want, int n) {
  char *item = NULL;
  int i = 0;
  for (;; i++) {
    CHECK_OK(pinecone_paginator_next(pages, &item));
    if (item == NULL) break;
    check_document(item, i, want, n, 0);
    pinecone_string_free(item);
  }
  CHECK(i == n);
  CHECK_OK(pinecone_paginator_next(pages, &item));
  CHECK(item == NULL);
}

/* Reads `stream` to its end with `next` (pinecone_stream_next or
 * pinecone_stream_next_text): exactly `n` documents, the i-th containing
 * `want[i]`, or equal to it when `exact`. A finished stream stays finished. */
static inline void check_stream(pinecone_stream *stream,
                                pinecone_result (*next)(pinecone_stream *, char **),
                                const char *const *want, int n, int exact) {
  char *doc = NULL;
  int i = 0;
  for (;; i++) {
    CHECK_OK(next(stream, &doc));
    if (doc == NULL) break;
    check_document(doc, i, want, n, exact);
    pinecone_string_free(doc);
  }
  CHECK(i == n);
  CHECK_OK(next(stream, &doc));
  CHECK(doc == NULL);
}

/* A pinecone_json_cb's record: it counts the documents it is given, checks
 * each contains `needle` (if not NULL), and stops the walk (returns non-zero)
 * at document number `stop_at` (0: never). Pass it as the userdata of on_json. */
struct seen {
  int count;
  int stop_at;
  const char *needle;
};

static inline int on_json(void *userdata, const char *json) {
  struct seen *seen = userdata;
  seen->count++;
  if (seen->needle != NULL) CHECK_CONTAINS(json, seen->needle);
  return seen->stop_at != 0 && seen->count == seen->stop_at;
}

/* The next item of `pages` contains `needle`. */
static inline void check_next_item(pinecone_paginator *pages, const char *needle) {
  char *item = NULL;
  CHECK_OK(pinecone_paginator_next(pages, &item));
  CHECK_CONTAINS(item, needle);
  pinecone_string_free(item);
}

/* Milliseconds on a monotonic clock. */
static inline double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* A cancel made from another thread `ms` milliseconds after start_later(): of
 * `cancel` when it is set, else of `stream`. finish_later() joins the thread. */
struct later {
  long ms;
  pinecone_cancel *cancel;
  pinecone_stream *stream;
  pthread_t thread;
};

static inline void *run_later(void *arg) {
  struct later *later = arg;
  struct timespec pause;
  pause.tv_sec = later->ms / 1000;
  pause.tv_nsec = (later->ms % 1000) * 1000L * 1000L;
  nanosleep(&pause, NULL);
  if (later->cancel != NULL) {
    pinecone_cancel_cancel(later->cancel);
  } else {
    pinecone_stream_cancel(later->stream);
  }
  return NULL;
}

static inline void start_later(struct later *later) {
  CHECK(pthread_create(&later->thread, NULL, run_later, later) == 0);
}

static inline void finish_later(struct later *later) {
  CHECK(pthread_join(later->thread, NULL) == 0);
}

#endif
