#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::loadgen {

enum class run_mode {
  ws,   // chat over WebSocket: M messages per connection, K outstanding
  idle, // hold N sessions, measure the server's memory, one message each
  http, // POST /api/chat/send at a concurrency for a duration
};

const char* to_string(run_mode mode) noexcept;

/// What answers a message (ws mode).
enum class expect_mode {
  parley, // Parley's protocol: session, ack, typing/delta, message
  echo,   // the server sends every frame back (a plain echo server, for
          // comparison): no session frame; the echoed frame is the answer
};

const char* to_string(expect_mode expect) noexcept;

/// Where --url points.
struct target_url {
  std::string host;
  std::uint16_t port = 80;
  std::string path; // empty when the URL has none
};

/// Reads `ws://HOST[:PORT][/PATH]` or `http://...` (IPv6 hosts in
/// brackets); nullopt with `error` set otherwise (wss:// and https:// too:
/// the load generator speaks plain TCP only).
std::optional<target_url> parse_url(std::string_view url, std::string& error);

/// Everything the command line sets (tools/loadgen/README.md describes each
/// flag).
struct options {
  run_mode mode = run_mode::ws;
  expect_mode expect = expect_mode::parley; // ws only
  std::string host = "127.0.0.1";
  std::uint16_t port = 3001;
  std::string path = "/ws"; // ws, idle: the chat socket
  std::uint64_t connections = 10; // ws, idle
  std::uint64_t messages = 100;   // ws: per connection, after the warm-up
  std::uint64_t warmup_messages = 0; // ws, http: per connection, not counted
  std::uint32_t outstanding = 1;     // ws: messages in flight per connection
  std::uint32_t think_ms = 0;        // ws: pause after an answer
  double ramp_per_sec = 0;           // connections opened a second; 0: all
  double duration_s = 0;             // http: how long; ws: 0 = no limit
  std::uint32_t concurrency = 10;    // http: connections
  std::uint32_t timeout_ms = 30000;
  bool json = false;
  unsigned threads = 1;
  std::optional<std::int64_t> server_pid;
  std::string text = "hello";
  // Loopback source addresses 127.0.0.1, .2, ... the connections take
  // turns on; 0 before parse_options fills in the default.
  std::uint32_t source_addresses = 0;

  /// How many connections the mode opens.
  std::uint64_t total_connections() const noexcept {
    return mode == run_mode::http ? concurrency : connections;
  }

  /// What a report shows as the target: ws://HOST:PORT/PATH or
  /// http://HOST:PORT/api/chat/send.
  std::string url() const;
};

/// One source address per this many connections by default: the server's
/// default PARLEY_MAX_CONNECTIONS_PER_ADDRESS (and far below the ~28000
/// ephemeral ports of one address).
inline constexpr std::uint64_t connections_per_source_address = 100;

/// The loopback source address (host byte order) of connection `index`:
/// 127.0.0.1, 127.0.0.2, ... taking turns over `count` addresses.
std::uint32_t source_address_v4(std::uint64_t index,
                                std::uint32_t count) noexcept;

/// The outcome of parse_options: either options to run with, or a text to
/// print and an exit code (help: 0, bad usage: 2).
struct parse_result {
  std::optional<options> opts;
  std::string message;
  int exit_code = 0;
};

parse_result parse_options(int argc, const char* const* argv);

} // namespace parley::loadgen
