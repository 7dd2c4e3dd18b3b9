#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Server-Sent Events (WHATWG HTML, "Parsing an event stream") as a pure,
// incremental parser: bytes in, complete events out. OpenAI streams its
// chat completions this way. No sockets here; the HTTP client feeds the body
// as it arrives.
namespace parley::llm {

/// One dispatched event.
struct sse_event {
  std::string type = "message"; // the `event:` field, "message" if none
  std::string data;             // `data:` lines joined with '\n'
  std::string id;               // last event id in effect (ids persist)
  std::optional<std::uint64_t> retry; // a valid `retry:` in this event's block
};

/// Parses one event stream. feed() may be given the body in pieces split
/// anywhere (mid-line, between CR and LF, inside a UTF-8 sequence).
///
/// Memory is bounded: the unfinished line plus the data of the unfinished
/// event may not exceed `max_event_bytes`. Beyond that the parser fails for
/// good (failed(), error()) and drops what it buffered; the caller should
/// close the stream. A peer must not be able to make us buffer without end.
class sse_parser {
public:
  static constexpr std::size_t default_max_event_bytes = 1024 * 1024;

  explicit sse_parser(std::size_t max_event_bytes = default_max_event_bytes);

  /// Consumes `bytes` and returns the events they complete, in order. Events
  /// completed before a failure in the same call are still returned; after a
  /// failure, returns nothing.
  std::vector<sse_event> feed(std::string_view bytes);

  bool failed() const noexcept {
    return failed_;
  }

  /// Why the parser failed; empty while it has not.
  const std::string& error() const noexcept {
    return error_;
  }

  /// The event source's last event id (sent as Last-Event-ID on reconnect).
  const std::string& last_event_id() const noexcept {
    return last_event_id_;
  }

  /// The latest reconnection time the server asked for, in milliseconds.
  std::optional<std::uint64_t> retry() const noexcept {
    return retry_;
  }

  /// True when bytes of an event that was not dispatched yet are buffered:
  /// a stream ending now ended mid-event (and the spec drops that event).
  bool has_pending() const noexcept;

private:
  void consume(std::string_view bytes, std::vector<sse_event>& out);
  void process_line(std::vector<sse_event>& out);
  void dispatch(std::vector<sse_event>& out);
  void fail(std::string reason);

  std::size_t max_event_bytes_;
  std::size_t bom_matched_ = 0; // bytes of a leading BOM seen so far
  bool bom_done_ = false;       // the stream's start has been checked
  bool skip_lf_ = false;        // the last line ended with CR: skip an LF
  bool failed_ = false;
  std::string line_;            // the unfinished line (raw bytes)
  std::string data_;            // data buffer, each line followed by '\n'
  std::string event_type_;      // event type buffer
  std::string id_buffer_;       // last event ID buffer
  std::string last_event_id_;
  std::optional<std::uint64_t> event_retry_;
  std::optional<std::uint64_t> retry_;
  std::string error_;
};

/// Returns `bytes` with every invalid UTF-8 sequence replaced by U+FFFD, as
/// the WHATWG UTF-8 decoder does (one U+FFFD per maximal invalid subpart).
std::string to_valid_utf8(std::string_view bytes);

} // namespace parley::llm
