// Cancellation from another thread, against the emulator (PINECONE_TEST_URL,
// PINECONE_TEST_API_KEY) that the harness started with 2 s between the events
// of a streamed answer and a minute of processing per upload: only a cancel can
// end these calls within seconds.
#include <chrono>
#include <thread>

#include "check.hpp"

namespace {

using Clock = std::chrono::steady_clock;
const char *const question = R"({"messages":[{"role":"user","content":"Anything?"}]})";

// Runs `cancel` on another thread after 100 ms; joins it when destroyed.
class Later {
 public:
  template <class F>
  explicit Later(F cancel)
      : thread_([cancel] {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          cancel();
        }) {}
  ~Later() { thread_.join(); }

 private:
  std::thread thread_;
};

// Far less than the slow call would take (a streamed answer has at least four
// events, 2 s apart): the cancel ended it.
void check_prompt(Clock::time_point start) {
  CHECK(Clock::now() - start < std::chrono::seconds(4));
}

// Stream::cancel while this thread waits in range-for for the next chunk.
void stream_cancel(const pinecone::Assistant &slow) {
  pinecone::Stream stream = slow.chat_stream(question);
  Clock::time_point start = Clock::now();
  Later later([&stream] { stream.cancel(); });
  int chunks = 0;
  CHECK_THROWS(PINECONE_RESULT_CANCELLED, "", for (const std::string &chunk : stream) {
    (void)chunk;
    chunks++;
  });
  check_prompt(start);
  CHECK(chunks <= 2);
  CHECK(!stream.next());  // a cancelled stream is finished
}

// A Cancel bound to a client stops its waits, streams and callbacks; the
// client it came from is not affected.
void client_cancel(const pinecone::Client &client) {
  {
    pinecone::Cancel cancel;
    pinecone::Client bound = client.with_cancel(cancel);
    pinecone::Assistant slow = bound.assistant("cpp-slow");
    Clock::time_point start = Clock::now();
    {
      Later later([&cancel] { cancel.cancel(); });
      CHECK_THROWS(PINECONE_RESULT_CANCELLED, "",
                   slow.upload_bytes("slow.md", std::string_view("# Slow\n\nTakes a minute.\n")));
    }
    check_prompt(start);
    CHECK(cancel.is_cancelled());
    // Cancelled stays cancelled, for every call of the bound client.
    CHECK_THROWS(PINECONE_RESULT_CANCELLED, "", bound.describe_assistant("cpp-slow"));
    CHECK_THROWS(PINECONE_RESULT_CANCELLED, "", slow.chat(question));
  }
  CHECK_CONTAINS(client.describe_assistant("cpp-slow"), "cpp-slow");

  {
    pinecone::Cancel cancel;
    pinecone::Assistant slow = client.with_cancel(cancel).assistant("cpp-slow");
    int chunks = 0;
    Clock::time_point start = Clock::now();
    {
      Later later([&cancel] { cancel.cancel(); });
      CHECK_THROWS(PINECONE_RESULT_CANCELLED, "",
                   slow.chat_stream_cb(question, [&](std::string_view) { chunks++; }));
    }
    check_prompt(start);
    CHECK(chunks <= 2);
  }

  {
    // The wait for an operation, cancelled while it polls.
    pinecone::Cancel cancel;
    pinecone::Assistant slow = client.with_cancel(cancel).assistant("cpp-slow");
    std::string accepted = slow.upload_bytes("later.md", std::string_view("# Later\n\nSoon.\n"),
                                             nullptr, pinecone::Wait::no());
    Clock::time_point start = Clock::now();
    {
      Later later([&cancel] { cancel.cancel(); });
      CHECK_THROWS(PINECONE_RESULT_CANCELLED, "",
                   slow.wait_for_operation(string_field(accepted, "id")));
    }
    check_prompt(start);
  }
}

}  // namespace

int main() {
  return run_test("cancel", [] {
    pinecone::Client client = test_client();
    client.create_assistant(R"({"name":"cpp-slow"})");
    pinecone::Assistant slow = client.assistant("cpp-slow");
    stream_cancel(slow);
    client_cancel(client);
    client.delete_assistant("cpp-slow");
  });
}
