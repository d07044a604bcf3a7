/* Streams an assistant's answer to stdout as it is generated.
 *
 * Build against the installed library (`./install.sh --prefix PREFIX` from the
 * repository root; PKG_CONFIG_PATH=PREFIX/lib/pkgconfig unless PREFIX is a
 * directory pkg-config already searches):
 *   cc examples/c/chat_stream.c $(pkg-config --cflags --libs pinecone_assistant) -o chat_stream
 * or statically, from a prefix installed with `--library-type static`:
 *   cc examples/c/chat_stream.c $(pkg-config --static --cflags --libs pinecone_assistant) -o chat_stream
 *
 * Run:
 *   PINECONE_API_KEY=... ./chat_stream my-assistant "What is the refund window?"
 * (PINECONE_CONTROLLER_HOST points it at another host, e.g. the emulator.)
 */
#include <stdio.h>
#include <string.h>

#include "pinecone_assistant.h"

/* Writes `text` as a JSON string literal (quotes and escapes) into `out`. */
static int json_string(char *out, size_t size, const char *text) {
  size_t n = 0;
  if (size < 3) return -1;
  out[n++] = '"';
  for (; *text; text++) {
    unsigned char c = (unsigned char)*text;
    char esc[8] = {0};
    size_t len;
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
    } else if (c < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", c);
    } else {
      esc[0] = (char)c;
    }
    len = strlen(esc);
    if (n + len + 2 > size) return -1;
    memcpy(out + n, esc, len);
    n += len;
  }
  out[n++] = '"';
  out[n] = '\0';
  return 0;
}

static int fail(const char *what, pinecone_result code) {
  fprintf(stderr, "%s failed: %s: %s\n", what, pinecone_result_name((int)code),
          pinecone_last_error_message());
  return 1;
}

int main(int argc, char **argv) {
  pinecone_client *client = NULL;
  pinecone_assistant *assistant = NULL;
  pinecone_stream *stream = NULL;
  char question[4096], request[4200];
  pinecone_result rc;
  int status = 1;

  if (argc != 3) {
    fprintf(stderr, "usage: %s ASSISTANT QUESTION\n", argv[0]);
    return 2;
  }
  if (json_string(question, sizeof question, argv[2]) != 0) {
    fprintf(stderr, "question too long\n");
    return 2;
  }
  snprintf(request, sizeof request, "{\"messages\":[{\"role\":\"user\",\"content\":%s}]}",
           question);

  if ((rc = pinecone_client_from_env(&client)) != PINECONE_RESULT_OK) {
    status = fail("pinecone_client_from_env", rc);
    goto cleanup;
  }
  if ((rc = pinecone_client_assistant(client, argv[1], &assistant)) != PINECONE_RESULT_OK) {
    status = fail("pinecone_client_assistant", rc);
    goto cleanup;
  }
  if ((rc = pinecone_assistant_chat_stream(assistant, request, &stream)) != PINECONE_RESULT_OK) {
    status = fail("pinecone_assistant_chat_stream", rc);
    goto cleanup;
  }
  for (;;) {
    char *text = NULL;
    if ((rc = pinecone_stream_next_text(stream, &text)) != PINECONE_RESULT_OK) {
      status = fail("pinecone_stream_next_text", rc);
      goto cleanup;
    }
    if (text == NULL) break; /* end of the answer */
    fputs(text, stdout);
    fflush(stdout);
    pinecone_string_free(text);
  }
  putchar('\n');
  status = 0;

cleanup: /* every pointer is NULL or owned here, so freeing is unconditional */
  pinecone_stream_free(stream);
  pinecone_assistant_free(assistant);
  pinecone_client_free(client);
  return status;
}
