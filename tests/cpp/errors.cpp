// How the C++ wrapper reports failure, against the emulator (PINECONE_TEST_URL,
// PINECONE_TEST_API_KEY) that the harness started with a 1 s ready delay and
// three faults: a 503 with Retry-After for the assistant "cpp-unavailable", a
// stream of the assistant "cpp-cut" that ends after two events, before its last,
// and three requests for the assistant "cpp-held" answered after 1.5 s.
//
// Each result code becomes a pinecone::Error with the code, HTTP status, message
// and last-error JSON; exceptions thrown by callbacks come back unchanged;
// moved-from objects throw instead of crashing.
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "check.hpp"

namespace {

const char *const question = R"({"messages":[{"role":"user","content":"What is covered?"}]})";

// A callback's own exception type, to tell it from a pinecone::Error.
struct Stop {
  int at;
};

void local_failures(const pinecone::Client &client) {
  pinecone::Error bad_json =
      CHECK_THROWS(PINECONE_RESULT_INVALID_JSON, "request_json", client.create_assistant("{oops"));
  CHECK(bad_json.status() == 0);
  CHECK(std::string(bad_json.code_name()) == "PINECONE_RESULT_INVALID_JSON");
  CHECK(std::string(bad_json.what()).rfind("PINECONE_RESULT_INVALID_JSON: ", 0) == 0);
  CHECK_CONTAINS(bad_json.json(), R"("argument":"request_json")");

  CHECK_THROWS(PINECONE_RESULT_NULL_ARGUMENT, "name", client.describe_assistant(nullptr));
  CHECK_THROWS(PINECONE_RESULT_INVALID_ARGUMENT, "name", client.assistant(""));
  CHECK_THROWS(PINECONE_RESULT_INVALID_JSON, "bogus", pinecone::Client("key", R"({"bogus":true})"));
  CHECK_THROWS(PINECONE_RESULT_INVALID_ARGUMENT, "timeout", pinecone::Client("key", R"({"timeout_ms":0})"));
  CHECK_THROWS(PINECONE_RESULT_INVALID_JSON, "limit",
               client.list_assistants_page(R"({"limit":"ten"})"));
  // A folder sync refuses a root that is no folder before sending anything.
  CHECK_THROWS(PINECONE_RESULT_INVALID_ARGUMENT, "root",
               client.assistant("cpp-errors").sync_plan("/no/such/folder"));
  CHECK_THROWS(PINECONE_RESULT_INVALID_JSON, "plan_json",
               client.assistant("cpp-errors").sync_execute("{oops"));

  // A paginator's bad filters are refused where it is made.
  CHECK_THROWS(PINECONE_RESULT_INVALID_ARGUMENT, "status",
               client.assistant("cpp-errors").list_operations(R"({"status":"Sleeping"})"));
}

// Total bounds: the client's own, a derived client's, and none at all; and
// an answer over the body limit.
void bounds() {
  using std::chrono::milliseconds;
  auto elapsed = [](std::chrono::steady_clock::time_point start) {
    return std::chrono::steady_clock::now() - start;
  };
  pinecone::Client tight = test_client(R"("total_timeout_ms":250)");
  auto start = std::chrono::steady_clock::now();
  pinecone::Error late = CHECK_THROWS(PINECONE_RESULT_TIMEOUT, "total_timeout of 250ms passed",
                                      tight.describe_assistant("cpp-held"));
  CHECK(elapsed(start) < milliseconds(1200));
  CHECK_CONTAINS(late.json(), R"("operation":"describe_assistant")");

  // Zero: no bound, so this one waits for the held answer (a 404).
  pinecone::Client patient = tight.with_total_timeout(milliseconds(0));
  CHECK_THROWS(PINECONE_RESULT_NOT_FOUND, "cpp-held", patient.describe_assistant("cpp-held"));

  // A bound in microseconds is rounded up to whole milliseconds.
  pinecone::Client quick = test_client().with_total_timeout(std::chrono::microseconds(249500));
  start = std::chrono::steady_clock::now();
  CHECK_THROWS(PINECONE_RESULT_TIMEOUT, "total_timeout of 250ms passed",
               quick.describe_assistant("cpp-held"));
  CHECK(elapsed(start) < milliseconds(1200));
  CHECK_CONTAINS(quick.describe_assistant("cpp-errors"), R"("name":"cpp-errors")");

  pinecone::Client small = test_client(R"("body_limit":50)");
  pinecone::Error big = CHECK_THROWS(PINECONE_RESULT_BODY_TOO_LARGE, "50-byte limit",
                                     small.describe_assistant("cpp-errors"));
  CHECK(std::string(big.code_name()) == "PINECONE_RESULT_BODY_TOO_LARGE");
  CHECK(big.status() == 0);
  CHECK_CONTAINS(big.json(), R"("limit":50)");
  CHECK_CONTAINS(big.json(), R"("setting":"body_limit")");
}

void server_failures(const pinecone::Client &client, const pinecone::Assistant &errors) {
  pinecone::Error missing =
      CHECK_THROWS(PINECONE_RESULT_NOT_FOUND, "cpp-missing", client.describe_assistant("cpp-missing"));
  CHECK(missing.status() == 404);
  CHECK_CONTAINS(missing.json(), R"("status":404)");

  pinecone::Error taken =
      CHECK_THROWS(PINECONE_RESULT_API_ERROR, "", client.create_assistant(R"({"name":"cpp-errors"})"));
  CHECK(taken.status() == 409);

  pinecone::Error unavailable = CHECK_THROWS(PINECONE_RESULT_API_ERROR, "",
                                             client.describe_assistant("cpp-unavailable"));
  CHECK(unavailable.status() == 503);
  CHECK_CONTAINS(unavailable.json(), R"("retry_after_ms":7000)");

  // Ready only after a second: a 50 ms wait gives up, naming what it waited for.
  pinecone::Error slow = CHECK_THROWS(
      PINECONE_RESULT_WAIT_TIMEOUT, "",
      client.create_assistant(R"({"name":"cpp-slow"})", pinecone::Wait::at_most(std::chrono::milliseconds(50))));
  CHECK_CONTAINS(slow.json(), R"("waited_ms":)");

  pinecone::Error broken =
      CHECK_THROWS(PINECONE_RESULT_OPERATION_FAILED, "",
                   errors.upload_bytes("broken.pdf", std::string_view("this is not a PDF")));
  CHECK_CONTAINS(broken.json(), R"("operation_id":)");

  pinecone::Client nowhere("key", R"({"host":"http://127.0.0.1:1","max_retries":0})");
  CHECK_THROWS(PINECONE_RESULT_TRANSPORT, "", nowhere.describe_assistant("any"));

  // A stream that ends early: range-for yields two chunks and throws where the
  // third should be, and the stream is then finished.
  pinecone::Stream cut = client.assistant("cpp-cut").chat_stream(question);
  int chunks = 0;
  CHECK_THROWS(PINECONE_RESULT_STREAM, "", for (const std::string &chunk : cut) {
    (void)chunk;
    chunks++;
  });
  CHECK(chunks == 2);
  CHECK(!cut.next());
}

void callback_exceptions(const pinecone::Client &client, const pinecone::Assistant &errors) {
  // A reader that throws fails the upload with its own exception; nothing is stored.
  try {
    errors.upload_reader("reader.md", 100, [](std::uint8_t *, std::size_t) -> std::size_t {
      throw Stop{1};
    });
    CHECK(!"the upload went on");
  } catch (const Stop &stop) {
    CHECK(stop.at == 1);
  }

  // Progress cannot stop an upload: it finishes, then the exception comes back.
  try {
    errors.upload_bytes("progress.md", std::string_view("# Progress\n\nReported.\n"), nullptr,
                        pinecone::Wait::forever(),
                        [](std::uint64_t, std::uint64_t) { throw Stop{2}; });
    CHECK(!"the progress exception was lost");
  } catch (const Stop &stop) {
    CHECK(stop.at == 2);
  }
  std::string files = errors.list_files_page();
  CHECK_CONTAINS(files, "progress.md");
  CHECK(files.find("reader.md") == std::string::npos);

  // The same for every walk: the exception stops it and comes back as it was.
  auto stop_at_first = [](std::string_view) -> bool { throw Stop{3}; };
  try {
    client.list_assistants().for_each(stop_at_first);
    CHECK(!"for_each swallowed the exception");
  } catch (const Stop &stop) {
    CHECK(stop.at == 3);
  }
  try {
    errors.chat_stream(question).for_each(stop_at_first);
    CHECK(!"for_each swallowed the exception");
  } catch (const Stop &stop) {
    CHECK(stop.at == 3);
  }
  try {
    errors.chat_stream_cb(question, stop_at_first);
    CHECK(!"chat_stream_cb swallowed the exception");
  } catch (const Stop &stop) {
    CHECK(stop.at == 3);
  }
  // A sync's callback too: its first event throws, and the workers stop.
  const std::string folder = test_env("PINECONE_TEST_DIR") + "/cpp-errors-sync";
  std::filesystem::create_directories(folder);
  std::ofstream(folder + "/notes.md") << "# Notes\n\nNothing yet.\n";
  try {
    errors.sync(folder, nullptr, stop_at_first);
    CHECK(!"sync swallowed the exception");
  } catch (const Stop &stop) {
    CHECK(stop.at == 3);
  }
  std::filesystem::remove_all(folder);
  try {
    errors.chat_completions_stream_cb(question, stop_at_first);
    CHECK(!"chat_completions_stream_cb swallowed the exception");
  } catch (const Stop &stop) {
    CHECK(stop.at == 3);
  }
}

// A moved-from object holds no handle: its calls throw NULL_ARGUMENT naming
// the handle, cancel() does nothing, and the new owner works.
void moved_from(pinecone::Client &client) {
  pinecone::Client moved = std::move(client);
  CHECK(!client && moved);
  CHECK_THROWS(PINECONE_RESULT_NULL_ARGUMENT, "client", client.describe_assistant("cpp-errors"));
  CHECK_THROWS(PINECONE_RESULT_NULL_ARGUMENT, "client", client.assistant("cpp-errors"));
  CHECK_THROWS(PINECONE_RESULT_NULL_ARGUMENT, "client",
               client.with_total_timeout(std::chrono::seconds(1)));
  CHECK_THROWS(PINECONE_RESULT_NULL_ARGUMENT, "client",
               client.set_observer([](std::string_view) noexcept {}));
  CHECK_THROWS(PINECONE_RESULT_NULL_ARGUMENT, "client", client.clear_observer());
  CHECK_CONTAINS(moved.describe_assistant("cpp-errors"), "cpp-errors");

  pinecone::Assistant errors = moved.assistant("cpp-errors");
  pinecone::Assistant other = std::move(errors);
  CHECK(!errors && other);
  CHECK_THROWS(PINECONE_RESULT_NULL_ARGUMENT, "assistant", errors.list_files_page());
  CHECK_THROWS(PINECONE_RESULT_NULL_ARGUMENT, "assistant", errors.chat_stream(question));
  CHECK_CONTAINS(other.list_files_page(), R"("files":)");

  pinecone::Stream stream = other.chat_stream(question);
  pinecone::Stream taken = std::move(stream);
  CHECK(!stream && taken);
  stream.cancel();  // nothing to cancel
  CHECK_THROWS(PINECONE_RESULT_NULL_ARGUMENT, "stream", stream.next());
  CHECK_THROWS(PINECONE_RESULT_NULL_ARGUMENT, "stream",
               for (const std::string &chunk : stream) { (void)chunk; });
  int chunks = 0;
  for (const std::string &chunk : taken) chunks += !chunk.empty();
  CHECK(chunks >= 3);

  pinecone::Paginator pages = moved.list_assistants();
  pinecone::Paginator walk = std::move(pages);
  CHECK(!pages && walk);
  CHECK_THROWS(PINECONE_RESULT_NULL_ARGUMENT, "paginator", pages.next());
  CHECK_THROWS(PINECONE_RESULT_NULL_ARGUMENT, "paginator", pages.resume_point());
  CHECK(walk.next().has_value());

  pinecone::Cancel cancel;
  pinecone::Cancel kept = std::move(cancel);
  CHECK(!cancel && kept);
  cancel.cancel();
  CHECK(!cancel.is_cancelled() && !kept.is_cancelled());
  CHECK_THROWS(PINECONE_RESULT_NULL_ARGUMENT, "cancel", moved.with_cancel(cancel));

  // Move-assignment frees what the target held (valgrind finds no leak).
  pinecone::Stream first = other.chat_stream(question);
  first = other.chat_completions_stream(question);
  CHECK(first.next().has_value());
  walk = moved.list_assistants();
  kept = pinecone::Cancel();
  other = moved.assistant("cpp-errors");

  // Default-constructed objects are empty too.
  pinecone::Client none;
  CHECK(!none);
  CHECK_THROWS(PINECONE_RESULT_NULL_ARGUMENT, "client", none.list_assistants_page());
  client = std::move(moved);  // hand it back
  CHECK(client && !moved);
}

}  // namespace

int main() {
  return run_test("errors", [] {
    pinecone::Client client = test_client();
    client.create_assistant(R"({"name":"cpp-errors"})");
    client.create_assistant(R"({"name":"cpp-cut"})");
    pinecone::Assistant errors = client.assistant("cpp-errors");
    local_failures(client);
    server_failures(client, errors);
    bounds();
    callback_exceptions(client, errors);
    moved_from(client);
    client.delete_assistant("cpp-errors");
  });
}
