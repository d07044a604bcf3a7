/* Folder sync from C against the offline emulator (PINECONE_TEST_URL,
 * PINECONE_TEST_API_KEY), in the folder given as the first argument: a dry run
 * and a first sync (through an injected 429), a no-op resync, one changed file,
 * a deletion only when asked, a rename, a sync stopped from its callback and one
 * cancelled through a pinecone_cancel, each rerun to completion, two syncs at
 * once, and refused arguments. */
#include "check.h"

#include <sys/stat.h>

static char root[512];

/* Writes `text` to `rel` under the folder, making its directories. */
static void put(const char *rel, const char *text) {
  char path[1024];
  char *slash;
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", root, rel);
  for (slash = strchr(path + strlen(root) + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    mkdir(path, 0755);
    *slash = '/';
  }
  f = fopen(path, "wb");
  CHECK(f != NULL);
  CHECK(fputs(text, f) >= 0);
  CHECK(fclose(f) == 0);
}

static void path_of(char *out, size_t len, const char *rel) {
  snprintf(out, len, "%s/%s", root, rel);
}

/* Counts the occurrences of `needle` in `text`. */
static int occurrences(const char *text, const char *needle) {
  int n = 0;
  const char *at = text;
  while ((at = strstr(at, needle)) != NULL) {
    n++;
    at += strlen(needle);
  }
  return n;
}

/* Progress: counts events and "done" events; stops (non-zero) at the
 * `stop_at_done`-th done event, or cancels `cancel` there when it is set. */
struct progress {
  int events;
  int done;
  int stop_at_done;
  pinecone_cancel *cancel;
};

static int on_event(void *userdata, const char *json) {
  struct progress *p = userdata;
  p->events++;
  CHECK_CONTAINS(json, "\"event\":\"");
  CHECK_CONTAINS(json, "\"file_id\":\"");
  if (strstr(json, "\"event\":\"done\"") == NULL) return 0;
  p->done++;
  if (p->stop_at_done == 0 || p->done != p->stop_at_done) return 0;
  if (p->cancel != NULL) {
    pinecone_cancel_cancel(p->cancel);
    return 0;
  }
  return 1;
}

/* Syncs the folder with `options` and checks the report contains each of
 * `want` (NULL-terminated). */
static void sync_expect(pinecone_assistant *docs, const char *options, const char *const *want) {
  char *report = NULL;
  struct progress p = {0, 0, 0, NULL};
  CHECK_OK(pinecone_assistant_sync(docs, root, options, on_event, &p, &report));
  for (; *want != NULL; want++) CHECK_CONTAINS(report, *want);
  pinecone_string_free(report);
}

struct concurrent {
  pinecone_assistant *docs;
  char *report;
  pinecone_result result;
};

static void *sync_in_thread(void *arg) {
  struct concurrent *c = arg;
  c->result = pinecone_assistant_sync(c->docs, root, "{\"workers\":4}", NULL, NULL, &c->report);
  return NULL;
}

int main(int argc, char **argv) {
  const char *url = test_env("PINECONE_TEST_URL");
  const char *key = test_env("PINECONE_TEST_API_KEY");
  char options[1024];
  char from[1024], to[1024];
  pinecone_client *client = NULL, *cancellable = NULL;
  pinecone_cancel *cancel = NULL;
  pinecone_assistant *docs = NULL, *stoppable = NULL;
  char *json = NULL, *report = NULL;
  struct progress p = {0, 0, 0, NULL};
  struct concurrent twins[2];
  pthread_t threads[2];
  int i;
  char name[64];

  CHECK(argc == 2);
  snprintf(root, sizeof root, "%s", argv[1]);
  /* Retries on, with short waits: the emulator throttles the first upload. */
  snprintf(options, sizeof options,
           "{\"host\":\"%s\",\"max_retries\":3,\"retry_base_delay_ms\":10,"
           "\"create_poll_interval_ms\":5,\"operation_poll_interval_ms\":5}",
           url);
  CHECK_OK(pinecone_client_new(key, options, &client));
  CHECK_OK(pinecone_client_create_assistant(client, "{\"name\":\"c-sync\"}", PINECONE_WAIT_FOR,
                                            30000, &json));
  pinecone_string_free(json);
  CHECK_OK(pinecone_client_assistant(client, "c-sync", &docs));

  put("guide.md", "# Guide\n\nTurn it on.\n");
  put("sub/faq.txt", "Q: Loud? A: No.\n");
  put("with space #1?.md", "# Odd name\n");
  put("\xc3\xbcn\xc3\xaf/\xe6\x97\xa5\xe6\x9c\xac.md", "# Unicode\n");
  put("a very long directory name/a very long directory name/a very long directory name/"
      "a very long directory name/a very long directory name/deep.md",
      "# Deep\n");
  put("logo.png", "not selected");

  /* The dry run: five files to create; nothing sent yet. */
  CHECK_OK(pinecone_assistant_sync_plan(docs, root, NULL, &json));
  CHECK(occurrences(json, "\"action\":\"create\"") == 5);
  CHECK(occurrences(json, "\"reason\":\"new\"") == 5);
  CHECK(strstr(json, "logo.png") == NULL);
  /* Carried out as planned, through the 429 the test injected. */
  CHECK_OK(pinecone_assistant_sync_execute(docs, json, "{\"workers\":3}", on_event, &p, &report));
  CHECK_CONTAINS(report, "\"created\":5");
  CHECK_CONTAINS(report, "\"failed\":0");
  CHECK_CONTAINS(report, "\"complete\":true");
  CHECK(p.done == 5);
  pinecone_string_free(report);
  pinecone_string_free(json);

  {
    const char *want[] = {"\"created\":0", "\"updated\":0", "\"skipped\":5", "\"bytes_sent\":0",
                          NULL};
    sync_expect(docs, NULL, want);
  }
  put("guide.md", "# Guide\n\nTurn it on, then wait.\n");
  {
    const char *want[] = {"\"updated\":1", "\"skipped\":4", NULL};
    sync_expect(docs, NULL, want);
  }
  path_of(from, sizeof from, "sub/faq.txt");
  CHECK(remove(from) == 0);
  {
    const char *want[] = {"\"deleted\":0", "\"skipped\":5", NULL};
    sync_expect(docs, NULL, want);
  }
  {
    const char *want[] = {"\"deleted\":1", "\"skipped\":4", NULL};
    sync_expect(docs, "{\"delete_missing\":true}", want);
  }
  path_of(from, sizeof from, "guide.md");
  path_of(to, sizeof to, "manual.md");
  CHECK(rename(from, to) == 0);
  {
    const char *want[] = {"\"created\":1", "\"deleted\":1", "\"complete\":true", NULL};
    sync_expect(docs, "{\"delete_missing\":true}", want);
  }

  /* Twenty more files. A callback that returns non-zero at the third done file
   * stops the run... */
  for (i = 0; i < 20; i++) {
    snprintf(name, sizeof name, "bulk/part-%02d.md", i);
    put(name, "# Part\n\nSome text.\n");
  }
  p.done = 0;
  p.stop_at_done = 3;
  CHECK_FAILS(pinecone_assistant_sync(docs, root, "{\"workers\":2}", on_event, &p, &report),
              PINECONE_RESULT_ABORTED, "cb");
  CHECK(report == NULL);
  /* ...and so does a pinecone_cancel, which reports what was done. */
  CHECK_OK(pinecone_cancel_new(&cancel));
  CHECK_OK(pinecone_client_with_cancel(client, cancel, &cancellable));
  CHECK_OK(pinecone_client_assistant(cancellable, "c-sync", &stoppable));
  p.done = 0;
  p.stop_at_done = 2;
  p.cancel = cancel;
  CHECK_OK(pinecone_assistant_sync(stoppable, root, "{\"workers\":2}", on_event, &p, &report));
  CHECK_CONTAINS(report, "\"stopped\":\"cancelled\"");
  CHECK_CONTAINS(report, "\"complete\":false");
  pinecone_string_free(report);
  /* The rerun finishes the rest. */
  {
    const char *want[] = {"\"failed\":0", "\"unfinished\":0", "\"complete\":true", NULL};
    sync_expect(docs, NULL, want);
  }
  {
    const char *want[] = {"\"created\":0", "\"updated\":0", "\"skipped\":24", NULL};
    sync_expect(docs, NULL, want);
  }

  /* Two syncs of one folder at once, after a change to every bulk file. */
  for (i = 0; i < 20; i++) {
    snprintf(name, sizeof name, "bulk/part-%02d.md", i);
    put(name, "# Part\n\nOther text.\n");
  }
  for (i = 0; i < 2; i++) {
    twins[i].docs = docs;
    twins[i].report = NULL;
    CHECK(pthread_create(&threads[i], NULL, sync_in_thread, &twins[i]) == 0);
  }
  for (i = 0; i < 2; i++) {
    CHECK(pthread_join(threads[i], NULL) == 0);
    CHECK_OK(twins[i].result);
    CHECK_CONTAINS(twins[i].report, "\"failed\":0");
    CHECK_CONTAINS(twins[i].report, "\"complete\":true");
    pinecone_string_free(twins[i].report);
  }
  {
    const char *want[] = {"\"created\":0", "\"updated\":0", "\"skipped\":24", NULL};
    sync_expect(docs, NULL, want);
  }

  /* Refused before anything is sent. */
  CHECK_FAILS(pinecone_assistant_sync_plan(docs, NULL, NULL, &json), PINECONE_RESULT_NULL_ARGUMENT,
              "root");
  CHECK_FAILS(pinecone_assistant_sync_plan(docs, root, "{\"wokers\":2}", &json),
              PINECONE_RESULT_INVALID_JSON, "wokers");
  CHECK_FAILS(pinecone_assistant_sync_plan(docs, root, "{\"workers\":0}", &json),
              PINECONE_RESULT_INVALID_ARGUMENT, "workers");
  CHECK_FAILS(pinecone_assistant_sync_plan(docs, "/nonexistent/folder", NULL, &json),
              PINECONE_RESULT_INVALID_ARGUMENT, "root");
  CHECK_FAILS(pinecone_assistant_sync_execute(
                  docs,
                  "{\"entries\":[{\"action\":\"delete\",\"reason\":\"removed_locally\","
                  "\"file_id\":\"no/slashes\",\"path\":\"x.md\"}]}",
                  NULL, NULL, NULL, &report),
              PINECONE_RESULT_INVALID_ARGUMENT, "plan");
  CHECK_FAILS(pinecone_assistant_sync_execute(docs, "{\"entries\":[{}]}", NULL, NULL, NULL, &report),
              PINECONE_RESULT_INVALID_JSON, "plan_json");
  CHECK(json == NULL && report == NULL);

  pinecone_assistant_free(stoppable);
  pinecone_client_free(cancellable);
  pinecone_cancel_free(cancel);
  pinecone_assistant_free(docs);
  pinecone_client_free(client);
  printf("sync: ok\n");
  return 0;
}
