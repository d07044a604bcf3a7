/*
 * pinecone_assistant.hpp -- C++17 wrapper of pinecone_assistant.h, header-only,
 * standard library only.
 *
 *   pinecone::Client client = pinecone::Client::from_env();
 *   pinecone::Assistant docs = client.assistant("docs");
 *   for (const std::string &text : docs.chat_stream(R"({"messages":[...]})").texts())
 *     std::cout << text << std::flush;
 *
 * What it adds to the C API, and nothing more:
 *
 * Ownership. Client, Assistant, Cancel, Paginator and Stream own one C handle
 *   each and free it in their destructor. They can be moved, not copied. A
 *   moved-from (or default-constructed) object holds no handle: calling a method
 *   on it throws pinecone::Error with PINECONE_RESULT_NULL_ARGUMENT, and `if
 *   (object)` tells the two apart. As in C, a handle made from another keeps what
 *   it needs alive, so objects may be destroyed in any order.
 *
 * Errors. Every failure throws pinecone::Error, the one exception type: the
 *   result code, the HTTP status, the message and the last-error JSON of the
 *   failed call. An exception thrown by a callback you pass is caught before it
 *   reaches the C library (it must not unwind through it), the operation is
 *   stopped where the C API allows it, and the exception is rethrown to you
 *   unchanged once the C call has returned.
 *
 * Strings. JSON goes in and out as text, exactly as in C (the request and answer
 *   shapes are documented beside each C function in pinecone_assistant.h).
 *   String parameters take a `const char *` or a `std::string`; those the C
 *   function allows to be NULL default to `nullptr`. Results are std::string.
 *
 * Iteration. Streams and paginators are input ranges: range-for yields each
 *   chunk's or item's JSON text (a `const std::string &`), fetching the next one
 *   only when the loop asks for it; Stream::texts() yields the answer text only.
 *
 * Observers. Client::set_observer registers a callable that receives every
 *   event as JSON. The wrapper keeps it alive as long as any object made from
 *   that Client (or from clients derived from it) exists, since the C library
 *   may call it until the last of their handles is freed.
 *
 * Threads. As in C: Client, Assistant and Cancel may be used from many threads at
 *   once; a Stream or Paginator by one thread at a time, except Stream::cancel(),
 *   which any thread may call while another reads the stream. A Cancel bound to
 *   a client (Client::with_cancel) stops that client's calls from any thread.
 *
 * Each method's comment names the C function it calls: that function's
 * documentation in pinecone_assistant.h gives every detail (JSON keys, result
 * codes, limits). get() returns the C handle, for mixing in C calls.
 */

#ifndef PINECONE_ASSISTANT_HPP
#define PINECONE_ASSISTANT_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <istream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pinecone_assistant.h"

namespace pinecone {

/// The exception every failed call throws: a C function returned a result
/// other than `PINECONE_RESULT_OK`. Read from the calling thread's last error
/// right after the failure (`pinecone_last_error_message`,
/// `pinecone_last_error_status`, `pinecone_last_error_json`).
class Error : public std::runtime_error {
 public:
  /// An error with these details; `what()` is `"<code name>: <message>"`.
  Error(pinecone_result code, int status, const std::string &message, std::string json)
      : std::runtime_error(std::string(pinecone_result_name(static_cast<int>(code))) + ": " +
                           message),
        code_(code),
        status_(status),
        message_(message),
        json_(std::move(json)) {}

  /// The error of the call that just returned `code` on this thread, from
  /// `pinecone_last_error_message`, `pinecone_last_error_status` and
  /// `pinecone_last_error_json`.
  static Error last(pinecone_result code) {
    return Error(code, pinecone_last_error_status(), pinecone_last_error_message(),
                 pinecone_last_error_json());
  }

  /// The result code, e.g. `PINECONE_RESULT_NOT_FOUND`.
  pinecone_result code() const noexcept { return code_; }

  /// The code's name, e.g. `"PINECONE_RESULT_NOT_FOUND"` (`pinecone_result_name`).
  const char *code_name() const noexcept { return pinecone_result_name(static_cast<int>(code_)); }

  /// The HTTP status when the server answered with an error, else 0.
  int status() const noexcept { return status_; }

  /// The library's message, naming the argument, field or resource at fault.
  const std::string &message() const noexcept { return message_; }

  /// Every detail as a JSON object (`result`, `code`, `message`, `status`, and
  /// when known `request_id`, `retry_after_ms`, `argument`, `field`, ...); see
  /// `pinecone_last_error_json`.
  const std::string &json() const noexcept { return json_; }

 private:
  pinecone_result code_;
  int status_;
  std::string message_;
  std::string json_;
};

/// The library version, e.g. `"0.1.0"` (`pinecone_version`).
inline const char *version() noexcept { return pinecone_version(); }

/// The name of a result code, e.g. `"PINECONE_RESULT_NOT_FOUND"`
/// (`pinecone_result_name`).
inline const char *result_name(int code) noexcept { return pinecone_result_name(code); }

/// A string argument: a NUL-terminated `const char *`, a `std::string`, or
/// `nullptr` (NULL for the C function: its default where it allows one, else
/// an Error naming the parameter). Borrowed for the call only.
class CStr {
 public:
  /// From a C string or NULL.
  CStr(const char *text) noexcept : text_(text) {}
  /// From a std::string, which must outlive the call.
  CStr(const std::string &text) noexcept : text_(text.c_str()) {}
  /// NULL.
  CStr(std::nullptr_t) noexcept : text_(nullptr) {}
  /// The pointer handed to C.
  const char *get() const noexcept { return text_; }

 private:
  const char *text_;
};

/// How an operation that starts server-side work waits for it (the C
/// `wait_mode` and `timeout_ms` arguments).
class Wait {
 public:
  /// Return once the server accepted the request (`PINECONE_WAIT_NO`).
  static Wait no() noexcept { return Wait(PINECONE_WAIT_NO, 0); }

  /// Poll until the work finishes or fails (`PINECONE_WAIT_FOREVER`).
  static Wait forever() noexcept { return Wait(PINECONE_WAIT_FOREVER, 0); }

  /// Poll at most `timeout`, rounded up to whole milliseconds; then the call
  /// throws an Error with `PINECONE_RESULT_WAIT_TIMEOUT` (`PINECONE_WAIT_FOR`).
  template <class Rep, class Period>
  static Wait at_most(std::chrono::duration<Rep, Period> timeout) noexcept {
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
    return Wait(PINECONE_WAIT_FOR, ms > 0 ? static_cast<std::uint64_t>(ms) : 0);
  }

  /// The C `wait_mode`.
  int mode() const noexcept { return mode_; }

  /// The C `timeout_ms`.
  std::uint64_t timeout_ms() const noexcept { return timeout_ms_; }

 private:
  Wait(int mode, std::uint64_t timeout_ms) noexcept : mode_(mode), timeout_ms_(timeout_ms) {}
  int mode_;
  std::uint64_t timeout_ms_;
};

/// Upload progress: the bytes sent so far and the total (0 while unknown).
using Progress = std::function<void(std::uint64_t sent, std::uint64_t total)>;

/// Upload bytes: fill at most `len` bytes of `buf`, return how many were
/// written, 0 at the end. Throw to fail the upload (the exception is rethrown
/// from the upload call).
using Reader = std::function<std::size_t(std::uint8_t *buf, std::size_t len)>;

namespace detail {

/// Throws the calling thread's last error unless `code` is OK.
inline void check(pinecone_result code) {
  if (code != PINECONE_RESULT_OK) throw Error::last(code);
}

/// Releases a string the library returned (`pinecone_string_free`).
struct StringFree {
  void operator()(char *text) const noexcept { pinecone_string_free(text); }
};
using OwnedString = std::unique_ptr<char, StringFree>;

/// Runs `call(char **out)` and returns the owned string it produced.
template <class Call>
std::string json_out(Call &&call) {
  char *out = nullptr;
  pinecone_result code = call(&out);
  OwnedString owned(out);
  check(code);
  return std::string(owned.get());
}

/// Runs `call(char **out)`, where a NULL output marks the end of a walk.
template <class Call>
std::optional<std::string> next_out(Call &&call) {
  char *out = nullptr;
  pinecone_result code = call(&out);
  OwnedString owned(out);
  check(code);
  if (!owned) return std::nullopt;
  return std::string(owned.get());
}

/// The observers registered through one Client and the clients derived from
/// it. The C library shares one observer among all of them and the handles
/// made from them, and may call a replaced observer until the calls under way
/// end, so every callable registered stays here until the last of those
/// objects is gone.
class Observers {
 public:
  /// Keeps `observer` alive as long as this object.
  void keep(std::shared_ptr<const void> observer) {
    std::lock_guard<std::mutex> lock(mutex_);
    kept_.push_back(std::move(observer));
  }

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<const void>> kept_;
};

/// What a handle shares with the Client it was made from.
using SharedObservers = std::shared_ptr<Observers>;

/// Makes wrapper objects around new C handles; each wrapper class lets it
/// call its private constructor from a handle and the client's observers.
struct Make {
  template <class Owner, class T>
  static Owner owner(T *handle, SharedObservers observers) noexcept {
    return Owner(handle, std::move(observers));
  }
};

/// Runs `call(T **out)` and wraps the handle it made in `Owner`, which keeps
/// `observers` (those of the client it came from) alive.
template <class Owner, class T, class Call>
Owner handle_out(Call &&call, SharedObservers observers) {
  T *out = nullptr;
  pinecone_result code = call(&out);
  Owner owner = Make::owner<Owner>(out, std::move(observers));
  check(code);
  return owner;
}

/// Owns one C handle and frees it with `Free`, then lets go of the observers
/// the C handle might have called.
template <class T, void (*Free)(T *)>
class Handle {
 public:
  Handle() noexcept = default;
  Handle(T *handle, SharedObservers observers) noexcept
      : observers_(std::move(observers)), handle_(handle) {}
  Handle(Handle &&other) noexcept
      : observers_(std::move(other.observers_)), handle_(std::exchange(other.handle_, nullptr)) {}
  Handle &operator=(Handle &&other) noexcept {
    if (this != &other) {
      Free(std::exchange(handle_, std::exchange(other.handle_, nullptr)));
      observers_ = std::move(other.observers_);
    }
    return *this;
  }
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  ~Handle() { Free(handle_); }  // before observers_ is released
  T *get() const noexcept { return handle_; }
  const SharedObservers &observers() const noexcept { return observers_; }

 private:
  SharedObservers observers_;
  T *handle_ = nullptr;
};

/// What every wrapper class has: one owned C handle, and the two ways to look
/// at it. Its constructors are for the wrapper classes only.
template <class T, void (*Free)(T *)>
class Wrapper {
 public:
  /// The C handle, still owned by this object.
  T *get() const noexcept { return handle_.get(); }

  /// Whether this object holds a handle (false once moved from).
  explicit operator bool() const noexcept { return handle_.get() != nullptr; }

 protected:
  using Handle = detail::Handle<T, Free>;
  Wrapper() noexcept = default;
  Wrapper(T *handle, SharedObservers observers) noexcept
      : handle_(handle, std::move(observers)) {}
  Handle handle_;
};

/// Hands each event of a C `pinecone_observer_cb` to the callable at
/// `userdata`, an `F`.
template <class F>
struct ObserverCall {
  static void call(const char *event_json, void *userdata) noexcept {
    std::invoke(*static_cast<const F *>(userdata), std::string_view(event_json));
  }
};

/// Hands borrowed JSON to `f` from a C `pinecone_json_cb`: a `void` or `true`
/// return goes on, `false` stops; an exception stops and is kept for rethrow.
template <class F>
struct JsonVisit {
  using Result = std::invoke_result_t<F &, std::string_view>;
  static_assert(std::is_void_v<Result> || std::is_convertible_v<Result, bool>,
                "the callback takes a std::string_view and returns void or bool");

  F &f;
  std::exception_ptr error;

  static int call(void *self, const char *json) noexcept {
    auto *visit = static_cast<JsonVisit *>(self);
    try {
      if constexpr (std::is_void_v<Result>) {
        std::invoke(visit->f, std::string_view(json));
        return 0;
      } else {
        return static_cast<bool>(std::invoke(visit->f, std::string_view(json))) ? 0 : 1;
      }
    } catch (...) {
      visit->error = std::current_exception();
      return 1;
    }
  }

  /// Runs `call(cb, userdata)`: true at the end of the walk, false when `f`
  /// stopped it; rethrows what `f` threw, throws Error on failure.
  template <class Call>
  static bool run(F &f, Call &&call) {
    JsonVisit visit{f, nullptr};
    pinecone_result code = call(&JsonVisit::call, static_cast<void *>(&visit));
    if (visit.error) std::rethrow_exception(visit.error);
    if (code == PINECONE_RESULT_ABORTED) return false;
    check(code);
    return true;
  }

  /// Runs `call(cb, userdata, char **out)`: the owned string it produced, or
  /// nothing when `f` stopped it; rethrows what `f` threw, throws Error on
  /// failure.
  template <class Call>
  static std::optional<std::string> run_json_out(F &f, Call &&call) {
    JsonVisit visit{f, nullptr};
    char *out = nullptr;
    pinecone_result code = call(&JsonVisit::call, static_cast<void *>(&visit), &out);
    OwnedString owned(out);
    if (visit.error) std::rethrow_exception(visit.error);
    if (code == PINECONE_RESULT_ABORTED) return std::nullopt;
    check(code);
    return std::string(owned.get());
  }
};

/// The upload callbacks' userdata: C passes one pointer to both.
struct UploadCallbacks {
  const Progress *progress;
  const Reader *reader;
  std::exception_ptr error;

  // Progress has no way to stop an upload: after a throw the upload goes on
  // and the exception waits for the call to return.
  static void on_progress(void *self, std::uint64_t sent, std::uint64_t total) noexcept {
    auto *callbacks = static_cast<UploadCallbacks *>(self);
    if (callbacks->error) return;
    try {
      (*callbacks->progress)(sent, total);
    } catch (...) {
      callbacks->error = std::current_exception();
    }
  }

  static std::int64_t on_read(void *self, std::uint8_t *buf, std::size_t len) noexcept {
    auto *callbacks = static_cast<UploadCallbacks *>(self);
    if (callbacks->error) return -1;
    try {
      std::size_t n = (*callbacks->reader)(buf, len);
      // More than INT64_MAX cannot be more than `len`: C reports both as a
      // reader that wrote too much.
      return n > static_cast<std::size_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(n);
    } catch (...) {
      callbacks->error = std::current_exception();
      return -1;
    }
  }

  pinecone_progress_cb progress_cb() const noexcept {
    return progress != nullptr && *progress ? &UploadCallbacks::on_progress : nullptr;
  }

  /// Runs `call(userdata)`; rethrows what a callback threw, else checks.
  template <class Call>
  std::string run(Call &&call) {
    char *out = nullptr;
    pinecone_result code = call(static_cast<void *>(this), &out);
    OwnedString owned(out);
    if (error) std::rethrow_exception(error);
    check(code);
    return std::string(owned.get());
  }
};

/// An input iterator that pulls documents from `Source` with `Next` until it
/// returns nothing; a default-constructed one is the end.
template <class Source, std::optional<std::string> (Source::*Next)()>
class PullIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = std::string;
  using difference_type = std::ptrdiff_t;
  using pointer = const std::string *;
  using reference = const std::string &;

  PullIterator() noexcept = default;
  explicit PullIterator(Source *source) : source_(source) { advance(); }

  reference operator*() const noexcept { return current_; }
  pointer operator->() const noexcept { return &current_; }
  PullIterator &operator++() {
    advance();
    return *this;
  }
  PullIterator operator++(int) {
    PullIterator before = *this;
    advance();
    return before;
  }
  friend bool operator==(const PullIterator &a, const PullIterator &b) noexcept {
    return a.source_ == b.source_;
  }
  friend bool operator!=(const PullIterator &a, const PullIterator &b) noexcept {
    return !(a == b);
  }

 private:
  void advance() {
    std::optional<std::string> next = (source_->*Next)();
    if (next) {
      current_ = std::move(*next);
    } else {
      source_ = nullptr;
    }
  }

  Source *source_ = nullptr;
  std::string current_;
};

/// A range over `Source` read with `Next`, borrowing the source.
template <class Source, std::optional<std::string> (Source::*Next)()>
class PullRange {
 public:
  explicit PullRange(Source *source) noexcept : source_(source) {}
  PullIterator<Source, Next> begin() const { return PullIterator<Source, Next>(source_); }
  PullIterator<Source, Next> end() const noexcept { return {}; }

 private:
  Source *source_;
};

/// A range over `Source` read with `Next`, owning the source: what a range-for
/// over a temporary's range needs, since C++17 keeps only the range alive.
template <class Source, std::optional<std::string> (Source::*Next)()>
class OwningPullRange {
 public:
  explicit OwningPullRange(Source &&source) noexcept : source_(std::move(source)) {}
  PullIterator<Source, Next> begin() { return PullIterator<Source, Next>(&source_); }
  PullIterator<Source, Next> end() const noexcept { return {}; }

 private:
  Source source_;
};

}  // namespace detail

/// A cancel handle (`pinecone_cancel`): cancelling it stops every call of the
/// clients bound to it (Client::with_cancel), from any thread, at once.
/// Thread-safe; once cancelled it stays cancelled. The destructor calls
/// `pinecone_cancel_free`; bound clients keep obeying the cancel state.
class Cancel : public detail::Wrapper<pinecone_cancel, pinecone_cancel_free> {
 public:
  /// A new cancel handle, not cancelled (`pinecone_cancel_new`).
  Cancel() {
    pinecone_cancel *cancel = nullptr;
    detail::check(pinecone_cancel_new(&cancel));
    handle_ = Handle(cancel, nullptr);
  }

  /// Cancels (`pinecone_cancel_cancel`): every call running or started later
  /// through a bound client throws an Error with `PINECONE_RESULT_CANCELLED`.
  /// Safe from any thread while others call; does nothing on a moved-from
  /// Cancel.
  void cancel() const noexcept { pinecone_cancel_cancel(handle_.get()); }

  /// Whether it was cancelled (`pinecone_cancel_is_cancelled`); false on a
  /// moved-from Cancel.
  bool is_cancelled() const noexcept { return pinecone_cancel_is_cancelled(handle_.get()) != 0; }

};

/// A lazy walk over a list (`pinecone_paginator`): each item is the JSON of one
/// assistant, file or operation, and the next page is fetched only when the
/// current one is used up. One thread at a time. The destructor calls
/// `pinecone_paginator_free`.
class Paginator : public detail::Wrapper<pinecone_paginator, pinecone_paginator_free> {
 public:
  /// An empty paginator (no handle).
  Paginator() noexcept = default;

  /// Takes ownership of a C paginator (NULL gives an empty one).
  static Paginator adopt(pinecone_paginator *paginator) noexcept {
    return Paginator(paginator, nullptr);
  }

  /// The next item's JSON, or nothing at the end of the list
  /// (`pinecone_paginator_next`). An error ends the walk.
  std::optional<std::string> next() {
    return detail::next_out([&](char **out) { return pinecone_paginator_next(get(), out); });
  }

  /// The iterator of range-for, yielding each item's JSON.
  using iterator = detail::PullIterator<Paginator, &Paginator::next>;

  /// Calls `f(std::string_view item_json)` for every remaining item
  /// (`pinecone_paginator_for_each`); the view is valid during the call only.
  /// `f` returns void, or a bool: false stops the walk, which then continues
  /// after that item. Returns true at the end of the list, false when `f`
  /// stopped it.
  template <class F>
  bool for_each(F &&f) {
    return detail::JsonVisit<std::remove_reference_t<F>>::run(f, [&](auto cb, void *userdata) {
      return pinecone_paginator_for_each(get(), cb, userdata);
    });
  }

  /// Where the walk stands, `{"pagination_token": ..., "skip": n}`, or `null` once
  /// every item was returned (`pinecone_paginator_resume_point`). Both keys, as
  /// options of a new paginator, continue right after the last item returned.
  std::string resume_point() {
    return detail::json_out(
        [&](char **out) { return pinecone_paginator_resume_point(get(), out); });
  }

  /// Starts the range-for walk: fetches the first item (calls `next`).
  iterator begin() { return iterator(this); }

  /// The end of the walk.
  iterator end() noexcept { return {}; }

 private:
  friend struct detail::Make;
  Paginator(pinecone_paginator *paginator, detail::SharedObservers observers) noexcept
      : Wrapper(paginator, std::move(observers)) {}
};

/// A streamed answer (`pinecone_stream`), chat or chat completion, read chunk
/// by chunk as the server sends it. One thread at a time, except cancel().
/// The destructor calls `pinecone_stream_free`, which closes the connection of
/// an answer not read to its end.
class Stream : public detail::Wrapper<pinecone_stream, pinecone_stream_free> {
 public:
  /// An empty stream (no handle).
  Stream() noexcept = default;

  /// Takes ownership of a C stream (NULL gives an empty one).
  static Stream adopt(pinecone_stream *stream) noexcept { return Stream(stream, nullptr); }

  /// The next chunk's JSON, or nothing at the end of the answer
  /// (`pinecone_stream_next`). An error ends the stream.
  std::optional<std::string> next() {
    return detail::next_out([&](char **out) { return pinecone_stream_next(get(), out); });
  }

  /// The next chunk's JSON lent by the stream, or nothing at the end
  /// (`pinecone_stream_next_borrowed`): no allocation, but the view is valid
  /// only until the next call on this Stream. An error ends the stream.
  std::optional<std::string_view> next_borrowed() {
    const char *json = nullptr;
    size_t len = 0;
    detail::check(pinecone_stream_next_borrowed(get(), &json, &len));
    if (json == nullptr) return std::nullopt;
    return std::string_view(json, len);
  }

  /// The next piece of answer text, or nothing at the end
  /// (`pinecone_stream_next_text`); chunks without text are passed over.
  std::optional<std::string> next_text() {
    return detail::next_out([&](char **out) { return pinecone_stream_next_text(get(), out); });
  }

  /// The iterator of range-for, yielding each chunk's JSON as the server sent it.
  using iterator = detail::PullIterator<Stream, &Stream::next>;

  /// The range of texts(), yielding the answer text piece by piece.
  using Texts = detail::PullRange<Stream, &Stream::next_text>;

  /// The range of texts() on a temporary Stream, which it keeps alive.
  using OwnedTexts = detail::OwningPullRange<Stream, &Stream::next_text>;

  /// Calls `f(std::string_view chunk_json)` for every remaining chunk as it
  /// arrives (`pinecone_stream_for_each`); the view is valid during the call
  /// only. `f` returns void, or a bool: false stops (the rest stays unread).
  /// Returns true at the end of the answer, false when `f` stopped it.
  template <class F>
  bool for_each(F &&f) {
    return detail::JsonVisit<std::remove_reference_t<F>>::run(
        f, [&](auto cb, void *userdata) { return pinecone_stream_for_each(get(), cb, userdata); });
  }

  /// Stops the stream from any thread, also while another thread waits for
  /// the next chunk, which then throws an Error with
  /// `PINECONE_RESULT_CANCELLED` (`pinecone_stream_cancel`). The Stream must
  /// outlive this call. Does nothing on a moved-from Stream.
  void cancel() const noexcept { pinecone_stream_cancel(handle_.get()); }

  /// Starts the range-for walk over chunks: reads the first one (calls `next`).
  iterator begin() { return iterator(this); }

  /// The end of the walk.
  iterator end() noexcept { return {}; }

  /// A range over the answer text (`next_text`): `for (auto &t : s.texts())`.
  Texts texts() & noexcept { return Texts(this); }

  /// The same over a temporary, which the range takes over, so that
  /// `for (auto &t : docs.chat_stream(request).texts())` is safe.
  OwnedTexts texts() && noexcept { return OwnedTexts(std::move(*this)); }

 private:
  friend struct detail::Make;
  Stream(pinecone_stream *stream, detail::SharedObservers observers) noexcept
      : Wrapper(stream, std::move(observers)) {}
};

/// One assistant's data plane (`pinecone_assistant`): files, operations,
/// context and chat. Thread-safe. The destructor calls `pinecone_assistant_free`.
class Assistant : public detail::Wrapper<pinecone_assistant, pinecone_assistant_free> {
 public:
  /// An empty assistant (no handle).
  Assistant() noexcept = default;

  /// Takes ownership of a C assistant handle (NULL gives an empty one).
  static Assistant adopt(pinecone_assistant *assistant) noexcept {
    return Assistant(assistant, nullptr);
  }

  /// Uploads the file at `path`, streamed from disk, and waits as `wait` says
  /// (`pinecone_assistant_upload_file`). `options_json`: `file_id` (upsert),
  /// `metadata`, `multimodal`. Returns `{"operation":...,"file":...,"location":...}`.
  std::string upload_file(CStr path, CStr options_json = nullptr, Wait wait = Wait::forever(),
                          const Progress &progress = {}) const {
    detail::UploadCallbacks callbacks{&progress, nullptr, nullptr};
    return callbacks.run([&](void *userdata, char **out) {
      return pinecone_assistant_upload_file(get(), path.get(), options_json.get(), wait.mode(),
                                            wait.timeout_ms(), callbacks.progress_cb(), userdata,
                                            out);
    });
  }

  /// Uploads what `reader` supplies under `file_name` (its extension gives the
  /// type) and waits as `wait` says (`pinecone_assistant_upload_reader`).
  /// `length` is the exact byte count, or -1 when unknown. A `reader` that
  /// throws fails the upload with its exception.
  std::string upload_reader(CStr file_name, std::int64_t length, const Reader &reader,
                            CStr options_json = nullptr, Wait wait = Wait::forever(),
                            const Progress &progress = {}) const {
    detail::UploadCallbacks callbacks{&progress, &reader, nullptr};
    return callbacks.run([&](void *userdata, char **out) {
      return pinecone_assistant_upload_reader(
          get(), file_name.get(), length, options_json.get(), wait.mode(), wait.timeout_ms(),
          reader ? &detail::UploadCallbacks::on_read : nullptr, callbacks.progress_cb(), userdata,
          out);
    });
  }

  /// upload_reader() from a std::istream, read until its end
  /// (`pinecone_assistant_upload_reader`); a stream that goes bad fails the
  /// upload with std::ios_base::failure.
  std::string upload_reader(CStr file_name, std::int64_t length, std::istream &in,
                            CStr options_json = nullptr, Wait wait = Wait::forever(),
                            const Progress &progress = {}) const {
    Reader reader = [&in](std::uint8_t *buf, std::size_t len) -> std::size_t {
      in.read(reinterpret_cast<char *>(buf), static_cast<std::streamsize>(len));
      if (in.bad()) throw std::ios_base::failure("reading the upload's std::istream failed");
      return static_cast<std::size_t>(in.gcount());
    };
    return upload_reader(file_name, length, reader, options_json, wait, progress);
  }

  /// Uploads `size` bytes at `data` (copied first) under `file_name` and waits
  /// as `wait` says (`pinecone_assistant_upload_bytes`).
  std::string upload_bytes(CStr file_name, const void *data, std::size_t size,
                           CStr options_json = nullptr, Wait wait = Wait::forever(),
                           const Progress &progress = {}) const {
    detail::UploadCallbacks callbacks{&progress, nullptr, nullptr};
    return callbacks.run([&](void *userdata, char **out) {
      return pinecone_assistant_upload_bytes(get(), file_name.get(),
                                             static_cast<const std::uint8_t *>(data), size,
                                             options_json.get(), wait.mode(), wait.timeout_ms(),
                                             callbacks.progress_cb(), userdata, out);
    });
  }

  /// upload_bytes() of the bytes `data` views (`pinecone_assistant_upload_bytes`).
  std::string upload_bytes(CStr file_name, std::string_view data, CStr options_json = nullptr,
                           Wait wait = Wait::forever(), const Progress &progress = {}) const {
    return upload_bytes(file_name, data.data(), data.size(), options_json, wait, progress);
  }

  /// Describes one file (`pinecone_assistant_describe_file`); `options_json`
  /// may ask for `{"include_url": true}`.
  std::string describe_file(CStr file_id, CStr options_json = nullptr) const {
    return detail::json_out([&](char **out) {
      return pinecone_assistant_describe_file(get(), file_id.get(), options_json.get(), out);
    });
  }

  /// One page of files (`pinecone_assistant_list_files_page`).
  std::string list_files_page(CStr options_json = nullptr) const {
    return detail::json_out([&](char **out) {
      return pinecone_assistant_list_files_page(get(), options_json.get(), out);
    });
  }

  /// A paginator over every file (`pinecone_assistant_list_files`); nothing is
  /// sent before the first item is asked for.
  Paginator list_files(CStr options_json = nullptr) const {
    return detail::handle_out<Paginator, pinecone_paginator>([&](pinecone_paginator **out) {
      return pinecone_assistant_list_files(get(), options_json.get(), out);
    }, handle_.observers());
  }

  /// Deletes a file and waits as `wait` says (`pinecone_assistant_delete_file`).
  /// Returns the deletion's operation, or `null` when the file went at once.
  std::string delete_file(CStr file_id, Wait wait = Wait::forever()) const {
    return detail::json_out([&](char **out) {
      return pinecone_assistant_delete_file(get(), file_id.get(), wait.mode(), wait.timeout_ms(),
                                            out);
    });
  }

  /// Describes an operation (`pinecone_assistant_describe_operation`).
  std::string describe_operation(CStr operation_id) const {
    return detail::json_out([&](char **out) {
      return pinecone_assistant_describe_operation(get(), operation_id.get(), out);
    });
  }

  /// Polls an operation until it completes, as `wait` says
  /// (`pinecone_assistant_wait_for_operation`); returns its final state.
  std::string wait_for_operation(CStr operation_id, Wait wait = Wait::forever()) const {
    return detail::json_out([&](char **out) {
      return pinecone_assistant_wait_for_operation(get(), operation_id.get(), wait.mode(),
                                                   wait.timeout_ms(), out);
    });
  }

  /// One page of operations (`pinecone_assistant_list_operations_page`).
  std::string list_operations_page(CStr options_json = nullptr) const {
    return detail::json_out([&](char **out) {
      return pinecone_assistant_list_operations_page(get(), options_json.get(), out);
    });
  }

  /// A paginator over every operation (`pinecone_assistant_list_operations`).
  Paginator list_operations(CStr options_json = nullptr) const {
    return detail::handle_out<Paginator, pinecone_paginator>([&](pinecone_paginator **out) {
      return pinecone_assistant_list_operations(get(), options_json.get(), out);
    }, handle_.observers());
  }

  /// Retrieves context snippets (`pinecone_assistant_context`).
  std::string context(CStr request_json) const {
    return detail::json_out(
        [&](char **out) { return pinecone_assistant_context(get(), request_json.get(), out); });
  }

  /// Asks the assistant and returns the whole answer (`pinecone_assistant_chat`).
  std::string chat(CStr request_json) const {
    return detail::json_out(
        [&](char **out) { return pinecone_assistant_chat(get(), request_json.get(), out); });
  }

  /// OpenAI-compatible chat, whole answer (`pinecone_assistant_chat_completions`).
  std::string chat_completions(CStr request_json) const {
    return detail::json_out([&](char **out) {
      return pinecone_assistant_chat_completions(get(), request_json.get(), out);
    });
  }

  /// Starts a streamed chat answer (`pinecone_assistant_chat_stream`); a
  /// refused request throws here.
  Stream chat_stream(CStr request_json) const {
    return detail::handle_out<Stream, pinecone_stream>([&](pinecone_stream **out) {
      return pinecone_assistant_chat_stream(get(), request_json.get(), out);
    }, handle_.observers());
  }

  /// Starts a streamed chat completion
  /// (`pinecone_assistant_chat_completions_stream`).
  Stream chat_completions_stream(CStr request_json) const {
    return detail::handle_out<Stream, pinecone_stream>([&](pinecone_stream **out) {
      return pinecone_assistant_chat_completions_stream(get(), request_json.get(), out);
    }, handle_.observers());
  }

  /// Streams a chat answer into `f(std::string_view chunk_json)`
  /// (`pinecone_assistant_chat_stream_cb`), as Stream::for_each does.
  template <class F>
  bool chat_stream_cb(CStr request_json, F &&f) const {
    return detail::JsonVisit<std::remove_reference_t<F>>::run(f, [&](auto cb, void *userdata) {
      return pinecone_assistant_chat_stream_cb(get(), request_json.get(), cb, userdata);
    });
  }

  /// Streams a chat completion into `f(std::string_view chunk_json)`
  /// (`pinecone_assistant_chat_completions_stream_cb`), as Stream::for_each does.
  template <class F>
  bool chat_completions_stream_cb(CStr request_json, F &&f) const {
    return detail::JsonVisit<std::remove_reference_t<F>>::run(f, [&](auto cb, void *userdata) {
      return pinecone_assistant_chat_completions_stream_cb(get(), request_json.get(), cb,
                                                           userdata);
    });
  }

  /// The dry run of a folder sync: what it takes to make the assistant's files
  /// equal the folder at `root`, changing nothing
  /// (`pinecone_assistant_sync_plan`). Returns the plan, `{"entries":[...]}`.
  std::string sync_plan(CStr root, CStr options_json = nullptr) const {
    return detail::json_out([&](char **out) {
      return pinecone_assistant_sync_plan(get(), root.get(), options_json.get(), out);
    });
  }

  /// Carries out a plan from sync_plan() (possibly edited) and returns the
  /// report (`pinecone_assistant_sync_execute`). A file that fails is listed in
  /// the report, not thrown.
  std::string sync_execute(CStr plan_json, CStr options_json = nullptr) const {
    return detail::json_out([&](char **out) {
      return pinecone_assistant_sync_execute(get(), plan_json.get(), options_json.get(), nullptr,
                                             nullptr, out);
    });
  }

  /// sync_execute() passing each event to `f(std::string_view event_json)` on
  /// the calling thread (`pinecone_assistant_sync_execute`). `f` returns void, or
  /// a bool: false stops the workers, and the result is then empty (running the
  /// sync again converges); an exception from `f` stops them too and is
  /// rethrown.
  template <class F>
  std::optional<std::string> sync_execute(CStr plan_json, CStr options_json, F &&f) const {
    return detail::JsonVisit<std::remove_reference_t<F>>::run_json_out(
        f, [&](auto cb, void *userdata, char **out) {
          return pinecone_assistant_sync_execute(get(), plan_json.get(), options_json.get(), cb,
                                                 userdata, out);
        });
  }

  /// Makes the assistant's files equal the folder at `root`, sync_plan() then
  /// sync_execute(), and returns the report (`pinecone_assistant_sync`).
  std::string sync(CStr root, CStr options_json = nullptr) const {
    return detail::json_out([&](char **out) {
      return pinecone_assistant_sync(get(), root.get(), options_json.get(), nullptr, nullptr, out);
    });
  }

  /// sync() with each event passed to `f`, as for sync_execute() with a
  /// callback (`pinecone_assistant_sync`).
  template <class F>
  std::optional<std::string> sync(CStr root, CStr options_json, F &&f) const {
    return detail::JsonVisit<std::remove_reference_t<F>>::run_json_out(
        f, [&](auto cb, void *userdata, char **out) {
          return pinecone_assistant_sync(get(), root.get(), options_json.get(), cb, userdata, out);
        });
  }

 private:
  friend struct detail::Make;
  Assistant(pinecone_assistant *assistant, detail::SharedObservers observers) noexcept
      : Wrapper(assistant, std::move(observers)) {}
};

/// A client (`pinecone_client`): connections, configuration and the cache of
/// data-plane hosts; the control plane and evaluation. Thread-safe. The
/// destructor calls `pinecone_client_free`; assistants, paginators and streams
/// made from the client keep working.
class Client : public detail::Wrapper<pinecone_client, pinecone_client_free> {
 public:
  /// An empty client (no handle); see from_env() and the constructor below.
  Client() noexcept = default;

  /// A client for `api_key` with the settings in `options_json`, or the
  /// defaults for `nullptr` (`pinecone_client_new`). Sends nothing.
  explicit Client(CStr api_key, CStr options_json = nullptr) {
    auto observers = std::make_shared<detail::Observers>();
    pinecone_client *client = nullptr;
    detail::check(pinecone_client_new(api_key.get(), options_json.get(), &client));
    handle_ = Handle(client, std::move(observers));
  }

  /// A client configured by `PINECONE_API_KEY`, `PINECONE_CONTROLLER_HOST` and
  /// `PINECONE_ADDITIONAL_HEADERS` (`pinecone_client_from_env`).
  static Client from_env() {
    return detail::handle_out<Client, pinecone_client>(
        [](pinecone_client **out) { return pinecone_client_from_env(out); },
        std::make_shared<detail::Observers>());
  }

  /// Takes ownership of a C client (NULL gives an empty one). Observers set
  /// through the new object are kept for the objects made from it only.
  static Client adopt(pinecone_client *client) {
    detail::SharedObservers observers;
    try {
      observers = std::make_shared<detail::Observers>();
    } catch (...) {
      pinecone_client_free(client);
      throw;
    }
    return Client(client, std::move(observers));
  }

  /// A client sharing this one's connections whose every call stops with
  /// `PINECONE_RESULT_CANCELLED` once `cancel` is cancelled
  /// (`pinecone_client_with_cancel`). Assistants made from it obey it too.
  Client with_cancel(const Cancel &cancel) const {
    return detail::handle_out<Client, pinecone_client>([&](pinecone_client **out) {
      return pinecone_client_with_cancel(get(), cancel.get(), out);
    }, handle_.observers());
  }

  /// A client sharing this one's connections, cancel handle and observer whose
  /// every call (connecting, all attempts, the pauses between them and reading
  /// the answer) is bounded by `bound`, rounded up to whole milliseconds,
  /// instead of the client's `total_timeout_ms`; a zero `bound` means no bound
  /// (`pinecone_client_with_total_timeout`). A call that passes it throws an
  /// Error with `PINECONE_RESULT_TIMEOUT`. Assistants made from it carry the
  /// bound too.
  template <class Rep, class Period>
  Client with_total_timeout(std::chrono::duration<Rep, Period> bound) const {
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(bound).count();
    std::uint64_t total_timeout_ms = ms > 0 ? static_cast<std::uint64_t>(ms) : 0;
    return detail::handle_out<Client, pinecone_client>([&](pinecone_client **out) {
      return pinecone_client_with_total_timeout(get(), total_timeout_ms, out);
    }, handle_.observers());
  }

  /// Makes `observer`, a callable `observer(std::string_view event_json)`
  /// declared `noexcept`, the observer of this client, of every client sharing
  /// its connections and of the assistants, paginators and streams made from
  /// them, replacing the one they had (`pinecone_client_set_observer`, which
  /// lists the events). It is called inside the calls it reports on, on their
  /// threads, possibly on several at once: make it thread-safe and quick. The
  /// view is valid during the call only. A copy of `observer` is kept until the
  /// last object made from this Client is gone, also after it was replaced.
  template <class F>
  void set_observer(F observer) const {
    static_assert(std::is_nothrow_invocable_v<const F &, std::string_view>,
                  "the observer takes a std::string_view, is declared noexcept (it runs "
                  "inside calls it cannot stop) and is callable as const");
    auto kept = std::make_shared<const F>(std::move(observer));
    if (handle_.observers()) handle_.observers()->keep(kept);
    detail::check(pinecone_client_set_observer(get(), &detail::ObserverCall<F>::call,
                                               const_cast<F *>(kept.get())));
  }

  /// Removes the observer of this client and of those sharing its connections
  /// (`pinecone_client_set_observer` with NULL); calls under way may still
  /// report to it.
  void clear_observer() const {
    detail::check(pinecone_client_set_observer(get(), nullptr, nullptr));
  }

  /// Creates an assistant and waits as `wait` says
  /// (`pinecone_client_create_assistant`); returns it as JSON.
  std::string create_assistant(CStr request_json, Wait wait = Wait::forever()) const {
    return detail::json_out([&](char **out) {
      return pinecone_client_create_assistant(get(), request_json.get(), wait.mode(),
                                              wait.timeout_ms(), out);
    });
  }

  /// Describes the assistant called `name` (`pinecone_client_describe_assistant`).
  std::string describe_assistant(CStr name) const {
    return detail::json_out(
        [&](char **out) { return pinecone_client_describe_assistant(get(), name.get(), out); });
  }

  /// One page of assistants (`pinecone_client_list_assistants_page`).
  std::string list_assistants_page(CStr options_json = nullptr) const {
    return detail::json_out([&](char **out) {
      return pinecone_client_list_assistants_page(get(), options_json.get(), out);
    });
  }

  /// A paginator over every assistant (`pinecone_client_list_assistants`).
  Paginator list_assistants(CStr options_json = nullptr) const {
    return detail::handle_out<Paginator, pinecone_paginator>([&](pinecone_paginator **out) {
      return pinecone_client_list_assistants(get(), options_json.get(), out);
    }, handle_.observers());
  }

  /// Replaces an assistant's instructions and/or metadata
  /// (`pinecone_client_update_assistant`); returns the updated assistant.
  std::string update_assistant(CStr name, CStr request_json) const {
    return detail::json_out([&](char **out) {
      return pinecone_client_update_assistant(get(), name.get(), request_json.get(), out);
    });
  }

  /// Deletes an assistant and waits as `wait` says
  /// (`pinecone_client_delete_assistant`).
  void delete_assistant(CStr name, Wait wait = Wait::forever()) const {
    detail::check(
        pinecone_client_delete_assistant(get(), name.get(), wait.mode(), wait.timeout_ms()));
  }

  /// A handle for the assistant called `name` (`pinecone_client_assistant`);
  /// sends nothing.
  Assistant assistant(CStr name) const {
    return detail::handle_out<Assistant, pinecone_assistant>([&](pinecone_assistant **out) {
      return pinecone_client_assistant(get(), name.get(), out);
    }, handle_.observers());
  }

  /// Scores an answer against a ground truth
  /// (`pinecone_client_evaluate_alignment`).
  std::string evaluate_alignment(CStr request_json) const {
    return detail::json_out([&](char **out) {
      return pinecone_client_evaluate_alignment(get(), request_json.get(), out);
    });
  }

 private:
  friend struct detail::Make;
  Client(pinecone_client *client, detail::SharedObservers observers) noexcept
      : Wrapper(client, std::move(observers)) {}
};

}  // namespace pinecone

#endif /* PINECONE_ASSISTANT_HPP */
