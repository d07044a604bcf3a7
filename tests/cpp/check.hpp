// What the C++ test programs share: assertions (a failure prints where and
// what, then exits with status 1), the expected-exception check, the test
// client, and a way to read one string field out of a JSON answer.
#ifndef PINECONE_TEST_CHECK_HPP
#define PINECONE_TEST_CHECK_HPP

#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "pinecone_assistant.hpp"

#define CHECK(cond)                                                                     \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::cerr << __FILE__ << ":" << __LINE__ << ": check failed: " #cond << std::endl; \
      std::exit(1);                                                                     \
    }                                                                                   \
  } while (0)

#define CHECK_CONTAINS(text, needle) \
  check_contains((text), (needle), #text, __FILE__, __LINE__)

// Runs the statements after `needle` and checks they throw a pinecone::Error
// with `code` whose message names `needle`; evaluates to that Error.
#define CHECK_THROWS(code, needle, ...) \
  check_throws([&] { __VA_ARGS__; }, (code), (needle), #__VA_ARGS__, __FILE__, __LINE__)

inline void check_contains(std::string_view text, std::string_view needle, const char *expr,
                           const char *file, int line) {
  if (text.find(needle) == std::string_view::npos) {
    std::cerr << file << ":" << line << ": " << expr << " does not contain \"" << needle
              << "\":\n  " << text << std::endl;
    std::exit(1);
  }
}

template <class F>
pinecone::Error check_throws(F &&f, pinecone_result code, std::string_view needle,
                             const char *expr, const char *file, int line) {
  try {
    f();
  } catch (const pinecone::Error &e) {
    if (e.code() != code) {
      std::cerr << file << ":" << line << ": " << expr << "\n  threw " << e.code_name()
                << ", wanted " << pinecone::result_name(code) << ": " << e.what() << std::endl;
      std::exit(1);
    }
    check_contains(e.message(), needle, "the message", file, line);
    return e;
  }
  std::cerr << file << ":" << line << ": " << expr << "\n  threw nothing, wanted "
            << pinecone::result_name(code) << std::endl;
  std::exit(1);
}

// The value of a variable the test needs, from the environment.
inline std::string test_env(const char *name) {
  const char *value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    std::cerr << name << " is not set" << std::endl;
    std::exit(2);
  }
  return value;
}

// The options of a client for the test emulator: no retries, polling every
// 20 ms, plus `extra` JSON members (or "").
inline std::string test_options(const std::string &extra = "") {
  std::string url = test_env("PINECONE_TEST_URL");
  return R"({"host":")" + url + R"(","evaluation_host":")" + url +
         R"(","max_retries":0,"create_poll_interval_ms":20,"operation_poll_interval_ms":20)" +
         (extra.empty() ? "" : "," + extra) + "}";
}

// A client for the test emulator.
inline pinecone::Client test_client(const std::string &extra = "") {
  return pinecone::Client(test_env("PINECONE_TEST_API_KEY"), test_options(extra));
}

// The first string value of `key` in `json` ("" when there is none): enough to
// pick an id out of an answer without a JSON parser.
inline std::string string_field(std::string_view json, std::string_view key) {
  std::string pattern = "\"" + std::string(key) + "\":\"";
  std::size_t start = json.find(pattern);
  if (start == std::string_view::npos) return "";
  start += pattern.size();
  return std::string(json.substr(start, json.find('"', start) - start));
}

// Runs `test`, turning an escaped exception into a report and exit status 1.
template <class F>
int run_test(const char *name, F &&test) {
  try {
    test();
  } catch (const pinecone::Error &e) {
    std::cerr << name << ": uncaught pinecone::Error " << e.what() << "\n  " << e.json()
              << std::endl;
    return 1;
  } catch (const std::exception &e) {
    std::cerr << name << ": uncaught exception: " << e.what() << std::endl;
    return 1;
  }
  std::cout << name << ": ok" << std::endl;
  return 0;
}

#endif
