#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tools/mock_llm/options.hpp"

namespace parley::mock_llm {

/// What the mock does with one chat request, decided when it arrives.
struct request_plan {
  std::uint64_t number = 0; // 1-based among authorized chat requests
  unsigned status = 0;      // non-zero: --status answers it
  bool fail = false;        // --fail-nth hits it
  bool drop = false;        // --close-mid-stream hits it
  bool garbage = false;     // --garbage: malformed frames instead of a reply
  std::uint64_t oversized = 0; // --oversized: a reply of this many bytes
  bool truncate = false;    // --truncate-frame: the first frame cut in half
};

/// The counters behind GET /stats and the request numbering that --fail-nth,
/// --status-count and --close-count refer to. Shared by all connections; the
/// mock runs one io thread, so it needs no locking.
class mock_state {
public:
  explicit mock_state(options opts);

  const options& opts() const noexcept {
    return opts_;
  }

  /// A TCP connection was accepted.
  void accepted() noexcept {
    ++accepted_;
  }

  /// Records the Authorization header of an LLM request (openai) or an
  /// upgrade (websocket), nullopt when absent, and tells whether
  /// --require-key lets it through (counting a refusal).
  bool authorize(const std::optional<std::string>& authorization);

  /// Numbers an authorized chat request and decides its fate.
  request_plan plan_request(const nlohmann::json& body);

  void health_check() noexcept {
    ++health_checks_;
  }

  void cancelled() noexcept {
    ++cancelled_;
  }

  /// A connection has `n` chat requests in flight (websocket): the most
  /// ever is in the stats, for tests of a client's concurrency limit.
  void in_flight(std::size_t n) noexcept {
    if (n > max_in_flight_)
      max_in_flight_ = n;
  }

  void dropped() noexcept {
    ++dropped_;
  }

  /// A reply carrying a call of tool `name` is sent (--tool-call, --agent).
  void tool_call_emitted(const std::string& name) {
    ++tool_calls_emitted_;
    if (name == "route")
      ++route_calls_;
  }

  /// A TLS handshake (with --tls-cert) succeeded or failed.
  void tls_handshake(bool ok) noexcept {
    ++(ok ? tls_handshakes_ : tls_failures_);
  }

  /// The body of GET /stats.
  std::string stats_json() const;

  /// Writes `line` to stderr with --verbose.
  void log(const std::string& line) const;

private:
  friend class connection_slot;

  options opts_;
  std::uint64_t accepted_ = 0;
  std::uint64_t connections_ = 0;
  std::uint64_t open_connections_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t health_checks_ = 0;
  std::uint64_t cancelled_ = 0;
  std::size_t max_in_flight_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t tool_calls_emitted_ = 0;
  std::uint64_t route_calls_ = 0;
  std::uint64_t tls_handshakes_ = 0;
  std::uint64_t tls_failures_ = 0;
  std::uint64_t unauthorized_ = 0;
  std::uint64_t with_key_ = 0;
  std::uint64_t without_key_ = 0;
  std::uint64_t status_sent_ = 0;
  std::uint64_t close_sent_ = 0;
  bool have_auth_ = false;              // any LLM request seen yet
  std::optional<std::string> last_auth_; // of the last one
  nlohmann::json last_request_;
};

/// Counts a connection in /stats's `connections` and `open_connections`
/// while alive. A connection takes one with its first request that is not
/// GET /stats, so that tests asking for the stats do not change them; a
/// WebSocket takes over the slot of the HTTP connection it upgraded.
class connection_slot {
public:
  connection_slot() = default;

  explicit connection_slot(mock_state& state) noexcept;

  connection_slot(connection_slot&& other) noexcept;

  connection_slot& operator=(connection_slot&& other) noexcept;

  ~connection_slot();

  bool taken() const noexcept {
    return state_ != nullptr;
  }

private:
  void release() noexcept;

  mock_state* state_ = nullptr;
};

} // namespace parley::mock_llm
