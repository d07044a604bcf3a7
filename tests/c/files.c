/* Files and operations from C: uploads from a path and from a read callback
 * (sized and chunked) with progress, waiting, a failed processing, describe,
 * list pages and paginators, delete (204 and 202 + polling), operations. */
#include "check.h"

struct upload_state {
  const char *data;
  size_t len;
  size_t pos;
  int fail;
  uint64_t last_sent;
  uint64_t last_total;
  int progress_calls;
};

static int64_t read_chunk(void *userdata, uint8_t *buf, size_t len) {
  struct upload_state *s = userdata;
  size_t n = s->len - s->pos;
  if (s->fail) return -5;
  if (n > len) n = len;
  if (n > 3) n = 3; /* small reads: the body is assembled from many calls */
  memcpy(buf, s->data + s->pos, n);
  s->pos += n;
  return (int64_t)n;
}

static void on_progress(void *userdata, uint64_t sent, uint64_t total) {
  struct upload_state *s = userdata;
  CHECK(sent >= s->last_sent);
  s->last_sent = sent;
  s->last_total = total;
  s->progress_calls++;
}

int main(int argc, char **argv) {
  const char *url = test_env("PINECONE_TEST_URL");
  const char *pdf = argc > 1 ? argv[1] : NULL;
  pinecone_client *client = test_client(url, "");
  pinecone_assistant *docs = NULL;
  pinecone_paginator *pages = NULL;
  char *json = NULL;
  CHECK(pdf != NULL);
  CHECK_OK(pinecone_client_assistant(client, "support-bot", &docs));

  /* upload from a path with metadata, multimodal, progress; wait until done. */
  {
    struct upload_state s = {0};
    CHECK_OK(pinecone_assistant_upload_file(
        docs, pdf, "{\"metadata\":{\"team\":\"finance\"},\"multimodal\":true}",
        PINECONE_WAIT_FOREVER, 0, on_progress, &s, &json));
    CHECK_CONTAINS(json, "\"status\":\"Completed\"");
    CHECK_CONTAINS(json, "\"file\":{\"name\":\"report.pdf\"");
    CHECK_CONTAINS(json, "\"location\":\"/operations/support-bot/op-1\"");
    pinecone_string_free(json);
    CHECK(s.progress_calls >= 1);
    CHECK(s.last_sent == 14 && s.last_total == 14);
  }

  /* upsert from a read callback of unknown length: processing fails. */
  {
    struct upload_state s = {"hello", 5, 0, 0, 0, 0, 0};
    CHECK_CODE(pinecone_assistant_upload_reader(
                   docs, "notes.md", -1, "{\"file_id\":\"notes_v2\"}",
                   PINECONE_WAIT_FOREVER, 0, read_chunk, on_progress, &s, &json),
               PINECONE_RESULT_OPERATION_FAILED);
    CHECK(json == NULL);
    CHECK_ERROR_MENTIONS("File processing failed: unsupported file format.");
    CHECK_ERROR_MENTIONS("op-2");
    CHECK_CONTAINS(pinecone_last_error_json(), "\"operation_id\":\"op-2\"");
    /* which work on which file failed */
    CHECK_ERROR_MENTIONS("upsert of file \"notes_v2\" failed");
    CHECK_CONTAINS(pinecone_last_error_json(), "\"operation_type\":\"upsert_file\"");
    CHECK_CONTAINS(pinecone_last_error_json(), "\"file_id\":\"notes_v2\"");
    CHECK(s.pos == 5);
    CHECK(s.last_sent == 5 && s.last_total == 5);
  }

  /* a sized reader, without waiting: the file is described once. */
  {
    struct upload_state s = {"# FAQ\n", 6, 0, 0, 0, 0, 0};
    CHECK_OK(pinecone_assistant_upload_reader(docs, "faq.md", 6, NULL, PINECONE_WAIT_NO, 0,
                                              read_chunk, NULL, &s, &json));
    CHECK_CONTAINS(json, "\"status\":\"Processing\"");
    CHECK_CONTAINS(json, "\"id\":\"faq-3\"");
    pinecone_string_free(json);
  }

  /* bytes from memory, upserted, with progress */
  {
    static const uint8_t faq[] = "# Refund FAQ\n";
    struct upload_state s = {0};
    CHECK_OK(pinecone_assistant_upload_bytes(docs, "refund-faq.md", faq, sizeof faq - 1,
                                             "{\"file_id\":\"refund-faq\"}", PINECONE_WAIT_NO,
                                             0, on_progress, &s, &json));
    CHECK_CONTAINS(json, "\"id\":\"refund-faq\"");
    pinecone_string_free(json);
    CHECK(s.last_sent == sizeof faq - 1 && s.last_total == sizeof faq - 1);
    CHECK_FAILS(pinecone_assistant_upload_bytes(docs, "x.md", NULL, 3, NULL, PINECONE_WAIT_NO, 0,
                                                NULL, NULL, &json),
                PINECONE_RESULT_NULL_ARGUMENT, "data");
  }

  /* read callback failures and bad arguments: PINECONE_RESULT_IO / _INVALID_*. */
  {
    struct upload_state s = {"abc", 3, 0, 1, 0, 0, 0};
    CHECK_FAILS(pinecone_assistant_upload_reader(docs, "bad.md", -1, "{\"file_id\":\"bad\"}",
                                                 PINECONE_WAIT_NO, 0, read_chunk, NULL, &s, &json),
                PINECONE_RESULT_IO, "-5");
    s.fail = 0;
    /* declares 10 bytes, supplies 3 */
    CHECK_CODE(pinecone_assistant_upload_reader(docs, "short.md", 10, "{\"file_id\":\"bad\"}",
                                                PINECONE_WAIT_NO, 0, read_chunk, NULL, &s,
                                                &json),
               PINECONE_RESULT_IO);
    CHECK_FAILS(pinecone_assistant_upload_reader(docs, "notes", -1, NULL, PINECONE_WAIT_NO, 0,
                                                 read_chunk, NULL, &s, &json),
                PINECONE_RESULT_INVALID_ARGUMENT, "extension");
    CHECK_FAILS(pinecone_assistant_upload_reader(docs, "a.md", -2, NULL, PINECONE_WAIT_NO, 0,
                                                 read_chunk, NULL, &s, &json),
                PINECONE_RESULT_INVALID_ARGUMENT, "length");
    CHECK_CODE(pinecone_assistant_upload_file(docs, "/no/such/file.pdf", NULL,
                                              PINECONE_WAIT_NO, 0, NULL, NULL, &json),
               PINECONE_RESULT_INVALID_ARGUMENT);
    CHECK_FAILS(pinecone_assistant_upload_file(docs, pdf, "{\"file_id\":\"\"}", PINECONE_WAIT_NO, 0,
                                               NULL, NULL, &json),
                PINECONE_RESULT_INVALID_ARGUMENT, "file_id");
    CHECK_FAILS(pinecone_assistant_upload_file(docs, pdf, "{\"fileid\":\"x\"}", PINECONE_WAIT_NO, 0,
                                               NULL, NULL, &json),
                PINECONE_RESULT_INVALID_JSON, "fileid");
  }

  /* describe */
  CHECK_OK(pinecone_assistant_describe_file(docs, "file-1", "{\"include_url\":true}", &json));
  CHECK_CONTAINS(json, "\"signed_url\":\"https://storage.example/file-1\"");
  pinecone_string_free(json);
  CHECK_CODE(pinecone_assistant_describe_file(docs, "ghost", NULL, &json),
             PINECONE_RESULT_NOT_FOUND);
  CHECK(pinecone_last_error_status() == 404);

  /* one page of files, filtered */
  CHECK_OK(pinecone_assistant_list_files_page(
      docs, "{\"limit\":2,\"filter\":{\"team\":{\"$eq\":\"finance\"}}}", &json));
  CHECK_CONTAINS(json, "\"next\":\"eyJvZmZzZXQiOjJ9\"");
  pinecone_string_free(json);

  /* every file, two pages, filter repeated */
  {
    const char *ids[] = {"file-1", "notes_v2", "billing-faq"};
    CHECK_OK(pinecone_assistant_list_files(
        docs, "{\"filter\":{\"team\":{\"$eq\":\"finance\"}}}", &pages));
    check_items(pages, ids, 3);
    pinecone_paginator_free(pages);
  }

  /* delete: at once (204), then through an operation (202, polled) */
  CHECK_OK(pinecone_assistant_delete_file(docs, "notes_v2", PINECONE_WAIT_FOREVER, 0, &json));
  CHECK(strcmp(json, "null") == 0);
  pinecone_string_free(json);
  CHECK_OK(pinecone_assistant_delete_file(docs, "file-1", PINECONE_WAIT_FOR, 60000, &json));
  CHECK_CONTAINS(json, "\"status\":\"Completed\"");
  CHECK_CONTAINS(json, "\"operation_type\":\"delete_file\"");
  pinecone_string_free(json);

  /* operations */
  CHECK_OK(pinecone_assistant_describe_operation(docs, "op-1", &json));
  CHECK_CONTAINS(json, "\"ingestion_units\":12.5");
  pinecone_string_free(json);
  CHECK_OK(pinecone_assistant_wait_for_operation(docs, "op-1", PINECONE_WAIT_FOR, 1000, &json));
  CHECK_CONTAINS(json, "\"status\":\"Completed\"");
  pinecone_string_free(json);
  CHECK_CODE(pinecone_assistant_describe_operation(docs, "op-gone", &json),
             PINECONE_RESULT_NOT_FOUND);

  CHECK_OK(pinecone_assistant_list_operations_page(
      docs, "{\"operation_type\":\"upload_file\",\"status\":\"Completed\",\"limit\":3}", &json));
  CHECK_CONTAINS(json, "\"next\":\"b3BzOjM=\"");
  pinecone_string_free(json);
  CHECK_FAILS(pinecone_assistant_list_operations_page(docs, "{\"status\":\"processing\"}", &json),
              PINECONE_RESULT_INVALID_ARGUMENT, "status");

  {
    struct seen seen = {0, 0, "\"id\":"};
    CHECK_OK(pinecone_assistant_list_operations(docs, "{\"max_items\":2}", &pages));
    CHECK_OK(pinecone_paginator_for_each(pages, on_json, &seen));
    CHECK(seen.count == 2);
    pinecone_paginator_free(pages);
    /* a bad filter or page size is refused where it is given; nothing is sent */
    pages = (pinecone_paginator *)&seen;
    CHECK_FAILS(pinecone_assistant_list_operations(docs, "{\"operation_type\":\"upload\"}", &pages),
                PINECONE_RESULT_INVALID_ARGUMENT, "operation_type");
    CHECK(pages == NULL);
    CHECK_FAILS(pinecone_assistant_list_files(docs, "{\"limit\":0}", &pages),
                PINECONE_RESULT_INVALID_ARGUMENT, "page_size");
    CHECK(pages == NULL);
  }

  pinecone_assistant_free(docs);
  pinecone_client_free(client);
  puts("files: ok");
  return 0;
}
