/* Assertions shared by the C test programs: each failure prints where, what the
 * call returned and the library's last error, then exits with status 1. */
#ifndef PINECONE_TEST_CHECK_H
#define PINECONE_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The URL of the test server, from the environment. */
static inline const char *test_url(const char *var) {
  const char *url = getenv(var);
  if (url == NULL || url[0] == '\0') {
    fprintf(stderr, "%s is not set\n", var);
    exit(2);
  }
  return url;
}

/* A client for the test server at `url`: no retries, millisecond polling. */
static inline pinecone_client *test_client(const char *url, const char *extra) {
  char options[1024];
  pinecone_client *client = NULL;
  snprintf(options, sizeof options,
           "{\"host\":\"%s\",\"max_retries\":0,\"create_poll_interval_ms\":1,"
           "\"operation_poll_interval_ms\":1%s%s}",
           url, extra[0] ? "," : "", extra);
  CHECK_OK(pinecone_client_new("test-key", options, &client));
  CHECK(client != NULL);
  return client;
}

#endif
