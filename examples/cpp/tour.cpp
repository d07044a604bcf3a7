// A tour of the C++ wrapper: creates an assistant, uploads documents, lists
// them, streams an answer to a question, then deletes the assistant (unless
// --keep is given).
//
// Build it against an installed library with CMake (see CMakeLists.txt), then:
//   PINECONE_API_KEY=... ./tour [--keep] ASSISTANT QUESTION FILE...
// PINECONE_CONTROLLER_HOST points it at another host, such as the emulator:
//   eval "$(target/debug/examples/emulator ...)" prints the two variables.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include <pinecone_assistant.hpp>

namespace {

// `text` as a JSON string literal.
std::string json_string(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The string value of `key` in a flat JSON object, enough for names and
// statuses (a real program would use its JSON library).
std::string field(const std::string &json, const std::string &key) {
  std::string pattern = "\"" + key + "\":\"";
  std::size_t start = json.find(pattern);
  if (start == std::string::npos) return "?";
  start += pattern.size();
  return json.substr(start, json.find('"', start) - start);
}

int tour(int argc, char **argv) {
  bool keep = argc > 1 && std::strcmp(argv[1], "--keep") == 0;
  if (keep) {
    argc--;
    argv++;
  }
  if (argc < 4) {
    std::cerr << "usage: tour [--keep] ASSISTANT QUESTION FILE...\n";
    return 2;
  }
  const std::string name = argv[1];
  const std::string question = argv[2];

  pinecone::Client client = pinecone::Client::from_env();
  client.create_assistant(R"({"name":)" + json_string(name) + "}",
                          pinecone::Wait::at_most(std::chrono::minutes(2)));
  std::cout << "created " << name << " (library " << pinecone::version() << ")\n";

  pinecone::Assistant assistant = client.assistant(name);
  for (int i = 3; i < argc; i++) {
    std::string uploaded = assistant.upload_file(argv[i], R"({"metadata":{"source":"tour"}})",
                                                 pinecone::Wait::at_most(std::chrono::minutes(5)));
    // The operation comes first in the answer, then the file.
    std::cout << "uploaded " << argv[i] << ": " << field(uploaded, "status") << "\n";
  }

  // Range-for over a paginator: pages are fetched as the loop goes.
  for (const std::string &file : assistant.list_files(R"({"filter":{"source":"tour"}})")) {
    std::cout << "- " << field(file, "name") << "\n";
  }

  // Range-for over the answer's text, printed as it arrives.
  pinecone::Stream answer = assistant.chat_stream(
      R"({"messages":[{"role":"user","content":)" + json_string(question) + "}]}");
  std::cout << "answer: ";
  for (const std::string &text : answer.texts()) std::cout << text << std::flush;
  std::cout << "\n";

  if (!keep) {
    client.delete_assistant(name, pinecone::Wait::at_most(std::chrono::minutes(2)));
    std::cout << "deleted " << name << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  try {
    return tour(argc, argv);
  } catch (const pinecone::Error &e) {
    // code_name(), status() and json() say more; the message names the fix.
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
