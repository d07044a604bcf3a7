// Every operation of the C++ wrapper against the emulator (PINECONE_TEST_URL,
// PINECONE_TEST_API_KEY): assistants, the four kinds of upload, files and
// operations one page at a time and walked with range-for, context, chat whole
// and streamed (range-for, texts, next, callbacks), evaluation, observers and
// derived clients, folder sync, clean-up.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

#include "check.hpp"

namespace {

const char *const refunds = "# Refunds\n\nAnnual plans can be refunded within 30 days of purchase.\n";
const char *const shipping = "# Shipping\n\nOrders ship within two business days.\n";
const char *const question = R"({"messages":[{"role":"user","content":"How long is the refund window?"}]})";

void library_facts() {
  CHECK(std::strcmp(pinecone::version(), pinecone_version()) == 0);
  CHECK(std::string(pinecone::result_name(PINECONE_RESULT_NOT_FOUND)) ==
        "PINECONE_RESULT_NOT_FOUND");
  CHECK(std::string(pinecone::result_name(-1)) == "PINECONE_RESULT_UNKNOWN");
}

void assistants(const pinecone::Client &client) {
  std::string created = client.create_assistant(
      R"({"name":"cpp-docs","instructions":"Answer from the documents."})",
      pinecone::Wait::at_most(std::chrono::seconds(30)));
  CHECK_CONTAINS(created, R"("status":"Ready")");
  // Not waited for: the create answer itself.
  CHECK_CONTAINS(client.create_assistant(R"({"name":"cpp-spare"})", pinecone::Wait::no()),
                 R"("name":"cpp-spare")");

  CHECK_CONTAINS(client.describe_assistant("cpp-docs"), R"("name":"cpp-docs")");
  CHECK_CONTAINS(client.describe_assistant(std::string("cpp-spare")), R"("name":"cpp-spare")");

  std::string page = client.list_assistants_page(R"({"limit":1})");
  CHECK_CONTAINS(page, R"("assistants":[)");
  CHECK_CONTAINS(page, R"("next":)");
  CHECK_CONTAINS(client.list_assistants_page(), "cpp-spare");

  // Range-for over one-item pages: both assistants, in order.
  std::vector<std::string> names;
  for (const std::string &item : client.list_assistants(R"({"limit":1})")) {
    names.push_back(string_field(item, "name"));
  }
  CHECK(names.size() == 2);
  CHECK(names[0] == "cpp-docs" && names[1] == "cpp-spare");

  // A walk stopped after one item resumes on a new paginator at the second.
  pinecone::Paginator walk = client.list_assistants(R"({"limit":1})");
  CHECK(walk.next().has_value());
  std::string resume = walk.resume_point();
  CHECK_CONTAINS(resume, R"("pagination_token":)");
  pinecone::Paginator rest = client.list_assistants(resume);
  std::optional<std::string> second = rest.next();
  CHECK(second && string_field(*second, "name") == "cpp-spare");
  CHECK(!rest.next());
  CHECK(!rest.next());  // a finished walk stays finished
  CHECK(rest.resume_point() == "null");

  // for_each: void callbacks see everything, a false return stops.
  int seen = 0;
  CHECK(client.list_assistants().for_each([&](std::string_view item) {
    CHECK_CONTAINS(item, R"("name":"cpp-)");
    seen++;
  }));
  CHECK(seen == 2);
  seen = 0;
  CHECK(!client.list_assistants().for_each([&](std::string_view) { return ++seen < 1; }));
  CHECK(seen == 1);

  CHECK_CONTAINS(client.update_assistant("cpp-spare", R"({"metadata":{"team":"cpp"}})"),
                 R"("team":"cpp")");
  client.delete_assistant("cpp-spare", pinecone::Wait::at_most(std::chrono::seconds(30)));
  CHECK_THROWS(PINECONE_RESULT_NOT_FOUND, "cpp-spare", client.describe_assistant("cpp-spare"));
}

std::vector<std::string> uploads(const pinecone::Assistant &docs) {
  std::vector<std::string> file_ids;
  const std::string options = R"({"metadata":{"team":"support"}})";
  const auto wait = pinecone::Wait::at_most(std::chrono::seconds(30));

  // From a path, reporting progress up to the whole file.
  const std::string path = test_env("PINECONE_TEST_DIR") + "/cpp-session-refunds.md";
  FILE *f = std::fopen(path.c_str(), "wb");
  CHECK(f != nullptr && std::fputs(refunds, f) >= 0 && std::fclose(f) == 0);
  std::uint64_t reported = 0;
  std::string from_path = docs.upload_file(path, options, wait, [&](std::uint64_t sent, std::uint64_t) {
    reported = sent;
  });
  std::remove(path.c_str());
  CHECK(reported == std::strlen(refunds));
  CHECK_CONTAINS(from_path, R"("status":"Available")");
  file_ids.push_back(string_field(from_path, "file_id"));

  // From a reader function, in small pieces, length unknown (chunked).
  std::size_t pos = 0;
  std::string from_reader = docs.upload_reader(
      "shipping.md", -1,
      [&](std::uint8_t *buf, std::size_t len) {
        std::size_t n = std::min<std::size_t>({len, 7, std::strlen(shipping) - pos});
        std::memcpy(buf, shipping + pos, n);
        pos += n;
        return n;
      },
      options, wait);
  CHECK_CONTAINS(from_reader, R"("status":"Available")");
  file_ids.push_back(string_field(from_reader, "file_id"));

  // From a std::istream with its exact length.
  std::istringstream in("# Returns\n\nReturned items are inspected within a week.\n");
  std::string from_stream =
      docs.upload_reader("returns.md", static_cast<std::int64_t>(in.str().size()), in, options, wait);
  CHECK_CONTAINS(from_stream, R"("status":"Available")");
  file_ids.push_back(string_field(from_stream, "file_id"));

  // From memory, not waited for: the operation is then followed by id.
  const std::string warranty = "# Warranty\n\nThe warranty lasts two years.\n";
  std::string accepted = docs.upload_bytes("warranty.md", warranty.data(), warranty.size(),
                                           R"({"metadata":{"team":"legal"}})", pinecone::Wait::no());
  std::string operation_id = string_field(accepted, "id");
  CHECK(!operation_id.empty());
  CHECK_CONTAINS(docs.describe_operation(operation_id), operation_id);
  CHECK_CONTAINS(docs.wait_for_operation(operation_id, wait), R"("status":"Completed")");
  file_ids.push_back(string_field(accepted, "file_id"));

  // An upsert from a std::string_view over an existing file id.
  std::string upserted = docs.upload_bytes(
      "warranty.md", std::string_view("# Warranty\n\nThe warranty lasts three years.\n"),
      R"({"file_id":")" + file_ids.back() + R"("})", wait);
  CHECK(string_field(upserted, "file_id") == file_ids.back());
  return file_ids;
}

void files_and_operations(const pinecone::Assistant &docs, const std::vector<std::string> &ids) {
  CHECK_CONTAINS(docs.describe_file(ids[0]), R"("name":"cpp-session-refunds.md")");
  CHECK_CONTAINS(docs.describe_file(ids[0], R"({"include_url":true})"), R"("signed_url":")");

  CHECK_CONTAINS(docs.list_files_page(R"({"limit":2})"), R"("files":[)");
  CHECK_CONTAINS(docs.list_files_page(), "warranty.md");

  // The filter is sent with every page: three support files, one per page.
  int support = 0;
  for (const std::string &file : docs.list_files(R"({"limit":1,"filter":{"team":{"$eq":"support"}}})")) {
    CHECK_CONTAINS(file, R"("team":"support")");
    support++;
  }
  CHECK(support == 3);

  CHECK_CONTAINS(docs.list_operations_page(R"({"status":"Completed"})"), R"("operations":[)");
  int operations = 0;
  for (const std::string &operation : docs.list_operations(R"({"limit":2})")) {
    CHECK_CONTAINS(operation, R"("status":)");
    operations++;
  }
  CHECK(operations == 5);  // four uploads and one upsert
}

void answers(const pinecone::Client &client, const pinecone::Assistant &docs) {
  CHECK_CONTAINS(docs.context(R"({"query":"refund window","top_k":1})"), "cpp-session-refunds.md");
  CHECK_CONTAINS(docs.chat(question), "30 days");
  CHECK_CONTAINS(docs.chat_completions(question), "30 days");

  // Range-for over chunks: the server's JSON, first to last.
  std::vector<std::string> types;
  for (const std::string &chunk : docs.chat_stream(question)) types.push_back(string_field(chunk, "type"));
  CHECK(types.size() >= 3);
  CHECK(types.front() == "message_start" && types.back() == "message_end");

  // Only the text, joined into the answer.
  pinecone::Stream stream = docs.chat_stream(question);
  std::string text;
  for (const std::string &piece : stream.texts()) text += piece;
  CHECK_CONTAINS(text, "30 days");
  CHECK(!stream.next());  // finished, and stays so

  // The text of a temporary stream: the range keeps it alive.
  text.clear();
  for (const std::string &piece : docs.chat_stream(question).texts()) text += piece;
  CHECK_CONTAINS(text, "30 days");

  // A chat completion read with next(), OpenAI-style chunks.
  pinecone::Stream completion = docs.chat_completions_stream(question);
  int chunks = 0;
  while (std::optional<std::string> chunk = completion.next()) {
    CHECK_CONTAINS(*chunk, R"("choices":)");
    chunks++;
  }
  CHECK(chunks >= 2);

  // Lent with next_borrowed(): the same chunks as next(), with no copy made.
  pinecone::Stream lent = docs.chat_stream(question);
  std::vector<std::string> lent_types;
  while (std::optional<std::string_view> chunk = lent.next_borrowed()) {
    CHECK(chunk->front() == '{' && chunk->back() == '}');
    lent_types.push_back(string_field(std::string(*chunk), "type"));
  }
  CHECK(lent_types == types);
  CHECK(!lent.next_borrowed());  // finished, and stays so

  // Pulled with next_text(): the completion's text.
  pinecone::Stream completion_text = docs.chat_completions_stream(question);
  text.clear();
  while (std::optional<std::string> piece = completion_text.next_text()) text += *piece;
  CHECK_CONTAINS(text, "30 days");

  // Pushed to callbacks: to the end, and stopped after the first chunk.
  int pushed = 0;
  CHECK(docs.chat_stream_cb(question, [&](std::string_view chunk) {
    CHECK_CONTAINS(chunk, R"("type":)");
    pushed++;
  }));
  CHECK(pushed >= 3);
  pushed = 0;
  CHECK(!docs.chat_completions_stream_cb(question, [&](std::string_view) {
    pushed++;
    return false;
  }));
  CHECK(pushed == 1);
  pinecone::Stream partly = docs.chat_stream(question);
  pushed = 0;
  CHECK(!partly.for_each([&](std::string_view) { return ++pushed < 2; }));
  CHECK(pushed == 2);
  CHECK(partly.for_each([&](std::string_view) { pushed++; }));  // the rest
  CHECK(pushed > 2);

  CHECK_CONTAINS(client.evaluate_alignment(
                     R"({"question":"q","answer":"30 days","ground_truth_answer":"30 days"})"),
                 R"("metrics")");
}

// What an observer received, from any thread.
class Events {
 public:
  void add(std::string_view event) {
    std::lock_guard<std::mutex> lock(mutex_);
    text_.append(event).append("\n");
    count_++;
  }
  std::string text() {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }
  int count() {
    std::lock_guard<std::mutex> lock(mutex_);
    return count_;
  }

 private:
  std::mutex mutex_;
  std::string text_;
  int count_ = 0;
};

// An observer set on a derived client reports the calls of the client it came
// from, and the assistants and streams made from them keep it alive after both
// Clients are gone (valgrind finds no read of freed memory); a new observer
// replaces it, and clear_observer() removes it.
void observers() {
  auto events = std::make_shared<Events>();
  auto record = [events](std::string_view event) noexcept {
    try {
      events->add(event);
    } catch (...) {
      // Out of memory: the event is lost, the call goes on.
    }
  };
  pinecone::Assistant docs;
  pinecone::Stream stream;
  {
    pinecone::Client client = test_client();
    pinecone::Client bounded = client.with_total_timeout(std::chrono::seconds(30));
    CHECK(bounded);
    bounded.set_observer(record);
    CHECK_CONTAINS(client.describe_assistant("cpp-docs"), R"("name":"cpp-docs")");
    CHECK_CONTAINS(events->text(),
                   R"({"attempt":1,"event":"request_start","method":"GET",)"
                   R"("operation":"describe_assistant","route":"/assistants/{assistant_name}"})");
    CHECK_CONTAINS(events->text(), R"("event":"response")");
    CHECK_CONTAINS(events->text(), R"("status":200)");
    CHECK(events->text().find("cpp-docs") == std::string::npos);  // no names
    docs = bounded.assistant("cpp-docs");
    stream = docs.chat_stream(question);
  }
  CHECK(stream.next().has_value());
  stream = pinecone::Stream();  // freed before its end
  CHECK_CONTAINS(events->text(), R"("complete":false)");
  CHECK_CONTAINS(events->text(), R"("event":"stream_end")");
  CHECK_CONTAINS(docs.chat(question), "30 days");
  CHECK_CONTAINS(events->text(), R"("operation":"chat")");

  pinecone::Client client = test_client();
  client.set_observer(record);
  client.list_assistants_page();
  int seen = events->count();
  CHECK(seen > 0);
  auto other = std::make_shared<Events>();
  client.set_observer([other](std::string_view event) noexcept {
    try {
      other->add(event);
    } catch (...) {
    }
  });
  client.list_assistants_page();
  CHECK(events->count() == seen);
  CHECK_CONTAINS(other->text(), R"("operation":"list_assistants")");
  client.clear_observer();
  int others = other->count();
  client.list_assistants_page();
  CHECK(other->count() == others);
}

// Folder sync into an assistant of its own: a dry run, the plan carried out
// with events, a resync that skips everything, one changed file, and a sync
// stopped by its callback.
void folder_sync(const pinecone::Client &client) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(test_env("PINECONE_TEST_DIR")) / "cpp-session-sync";
  fs::remove_all(root);
  fs::create_directories(root / "guides");
  auto put = [&](const char *rel, const char *text) {
    std::ofstream(root / rel, std::ios::binary) << text;
  };
  put("refunds.md", refunds);
  put("guides/shipping.md", shipping);
  client.create_assistant(R"({"name":"cpp-sync"})");
  pinecone::Assistant synced = client.assistant("cpp-sync");

  std::string plan = synced.sync_plan(root.string());
  CHECK_CONTAINS(plan, R"("action":"create")");
  CHECK_CONTAINS(plan, R"("path":"guides/shipping.md")");
  CHECK(synced.list_files_page().find("refunds.md") == std::string::npos);  // a dry run

  int done = 0;
  std::optional<std::string> report =
      synced.sync_execute(plan, R"({"workers":2})", [&](std::string_view event) {
        CHECK_CONTAINS(event, R"("file_id":")");
        done += event.find(R"("event":"done")") != std::string_view::npos;
      });
  CHECK(report.has_value() && done == 2);
  CHECK_CONTAINS(*report, R"("created":2)");
  CHECK_CONTAINS(*report, R"("complete":true)");

  CHECK_CONTAINS(synced.sync(root.string()), R"("skipped":2)");
  put("refunds.md", "# Refunds\n\nAnnual plans can be refunded within 45 days.\n");
  CHECK_CONTAINS(synced.sync_execute(synced.sync_plan(root.string())), R"("updated":1)");

  // A false return stops the workers: no report; the next sync converges.
  put("guides/returns.md", "# Returns\n\nInspected within a week.\n");
  put("guides/warranty.md", "# Warranty\n\nTwo years.\n");
  CHECK(!synced.sync(root.string(), R"({"workers":1})", [](std::string_view) { return false; }));
  std::optional<std::string> rest = synced.sync(root.string(), nullptr, [](std::string_view) {});
  CHECK(rest.has_value());
  CHECK_CONTAINS(*rest, R"("complete":true)");
  CHECK_CONTAINS(synced.sync(root.string()), R"("skipped":4)");

  client.delete_assistant("cpp-sync");
  fs::remove_all(root);
}

void clean_up(const pinecone::Client &client, const pinecone::Assistant &docs,
              const std::vector<std::string> &ids) {
  const auto wait = pinecone::Wait::at_most(std::chrono::seconds(30));
  docs.delete_file(ids[0], wait);
  CHECK_THROWS(PINECONE_RESULT_NOT_FOUND, "", docs.describe_file(ids[0]));
  client.delete_assistant("cpp-docs", wait);
  CHECK_THROWS(PINECONE_RESULT_NOT_FOUND, "cpp-docs", client.describe_assistant("cpp-docs"));
}

// The environment's client (PINECONE_API_KEY, PINECONE_CONTROLLER_HOST) reaches
// the same server.
void from_env() {
  pinecone::Client client = pinecone::Client::from_env();
  CHECK(client);
  CHECK_CONTAINS(client.list_assistants_page(), R"("assistants":[)");
}

}  // namespace

int main() {
  return run_test("session", [] {
    library_facts();
    pinecone::Client client = test_client();
    assistants(client);
    pinecone::Assistant docs = client.assistant("cpp-docs");
    std::vector<std::string> ids = uploads(docs);
    files_and_operations(docs, ids);
    answers(client, docs);
    observers();
    folder_sync(client);
    clean_up(client, docs, ids);
    from_env();
  });
}
