#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/ws_client.hpp" // http_response

// Clients that do exactly what a test tells them and nothing else, on plain
// POSIX sockets: they may come from another loopback address (127.0.0.2,
// ...: bound before the connect, so per-address limits can be tested from
// one machine), shrink their receive buffer, stop reading, trickle a request
// byte by byte, never answer a WebSocket ping, or send frames no library
// would. For well-behaved clients use ws_client and http_request.
namespace parley::test {

/// Where a raw connection comes from and how it receives.
struct raw_options {
  /// A local address to bind before connecting (any of 127.0.0.0/8 reaches
  /// a server on 127.0.0.1); empty: the system picks.
  std::string source_address;
  /// SO_RCVBUF, set before the connect so that the window is small from the
  /// start; 0: the system's default.
  int receive_buffer = 0;
};

/// How a wait on a raw_socket ended.
enum class raw_status {
  data,    // bytes arrived
  timeout, // nothing in time; still open
  eof,     // the peer closed its side (FIN)
  error,   // reset or another error
};

const char* to_string(raw_status status) noexcept;

/// One non-blocking TCP connection; every operation has a timeout. Move-only;
/// the destructor closes it.
class raw_socket {
public:
  static constexpr std::chrono::milliseconds default_timeout{5000};

  raw_socket() = default;

  /// Connects to `host` (an IPv4 address) within `timeout`. Throws
  /// std::runtime_error naming the step that failed.
  raw_socket(const std::string& host, std::uint16_t port,
             const raw_options& options = {},
             std::chrono::milliseconds timeout = default_timeout);

  ~raw_socket();

  raw_socket(raw_socket&& other) noexcept;
  raw_socket& operator=(raw_socket&& other) noexcept;
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  bool is_open() const noexcept {
    return fd_ >= 0;
  }

  int fd() const noexcept {
    return fd_;
  }

  /// Writes all of `bytes` within `timeout`; false when the connection
  /// failed or the time ran out (part of it may have been written).
  bool send_all(std::string_view bytes,
                std::chrono::milliseconds timeout = default_timeout);

  /// Waits up to `timeout` for bytes and appends what is there to `into`.
  raw_status receive(std::string& into, std::chrono::milliseconds timeout);

  /// Reads (keeping the bytes in `received`, when given) until the peer ends
  /// the connection: eof or error; timeout when it is still open.
  raw_status wait_closed(std::chrono::milliseconds timeout,
                         std::string* received = nullptr);

  /// Closes with a FIN. Never throws.
  void close() noexcept;

  /// Closes with a reset (SO_LINGER 0), as a crashed client would.
  void abort() noexcept;

private:
  int fd_ = -1;
};

/// Raises this process's soft limit of open files to the hard one and
/// returns the new soft limit (for tests that hold thousands of sockets).
std::size_t raise_open_file_limit();

/// An HTTP/1.1 request as text: Host `host_header`, Content-Length when
/// `body` is not empty (or the method is POST), then `headers`.
std::string http_request_text(const std::string& method,
                              const std::string& target,
                              const std::string& host_header,
                              const std::string& body = {},
                              const http_headers& headers = {});

/// Parses one response from the start of `buffer` once it is complete (its
/// header, and as many body bytes as Content-Length says, none when absent);
/// nullopt while more is needed. Throws std::runtime_error on garbage.
std::optional<http_response> parse_http_response(const std::string& buffer);

/// Reads one response from `socket` within `timeout`; nullopt when the
/// connection ended or the time ran out first (`how` says which, and
/// `received` keeps what did arrive).
std::optional<http_response> read_http_response(
  raw_socket& socket, std::chrono::milliseconds timeout,
  raw_status* how = nullptr, std::string* received = nullptr);

/// One request on a new connection from `options.source_address`. Throws
/// std::runtime_error when no complete response arrives in time.
http_response raw_http_request(const std::string& host, std::uint16_t port,
                               const raw_options& options,
                               const std::string& method,
                               const std::string& target,
                               const std::string& body = {},
                               const http_headers& headers = {},
                               std::chrono::milliseconds timeout
                               = raw_socket::default_timeout);

/// A WebSocket frame as it came from the server.
struct raw_frame {
  std::uint8_t opcode = 0; // 1 text, 2 binary, 8 close, 9 ping, 10 pong
  bool fin = true;
  std::string payload;

  /// Close frames: the code (0 when the payload has none) and the reason.
  std::uint16_t close_code() const;
  std::string close_reason() const;
};

namespace ws_opcode {
constexpr std::uint8_t text = 1;
constexpr std::uint8_t binary = 2;
constexpr std::uint8_t close = 8;
constexpr std::uint8_t ping = 9;
constexpr std::uint8_t pong = 10;
} // namespace ws_opcode

/// A masked client frame with any opcode and payload, valid or not.
std::string ws_client_frame(std::uint8_t opcode, std::string_view payload,
                            bool fin = true);

/// The client side of RFC 6455 on a raw_socket, doing only what it is told:
/// pings are not answered and close frames not echoed unless the test does
/// it (or sets answer_pings).
class raw_ws {
public:
  /// What next() found.
  struct event {
    enum kind_type { frame, timeout, ended } kind = timeout;
    raw_frame data;                       // frame
    raw_status how = raw_status::timeout; // ended: eof or error

    std::string describe() const;
  };

  /// Connects, sends the upgrade request for `target` and reads the 101.
  /// Throws std::runtime_error (with the response) otherwise.
  raw_ws(const std::string& host, std::uint16_t port,
         const std::string& target = "/ws", const raw_options& options = {},
         std::chrono::milliseconds timeout = raw_socket::default_timeout);

  raw_socket& socket() noexcept {
    return socket_;
  }

  /// Answer each ping with a pong while reading (off by default).
  bool answer_pings = false;

  bool send_frame(std::uint8_t opcode, std::string_view payload,
                  std::chrono::milliseconds timeout
                  = raw_socket::default_timeout);

  bool send_text(std::string_view text,
                 std::chrono::milliseconds timeout
                 = raw_socket::default_timeout) {
    return send_frame(ws_opcode::text, text, timeout);
  }

  bool send_json(const nlohmann::json& frame,
                 std::chrono::milliseconds timeout
                 = raw_socket::default_timeout) {
    return send_frame(ws_opcode::text, frame.dump(), timeout);
  }

  /// The next frame of any kind (pings too), or why there is none.
  event next(std::chrono::milliseconds timeout);

  /// The next text frame as JSON, skipping pings and pongs. Throws
  /// std::runtime_error on a timeout, a close frame, the end, or non-JSON.
  nlohmann::json read_json(std::chrono::milliseconds timeout
                           = raw_socket::default_timeout);

  /// JSON frames until one of `type` (returned last). Throws as read_json.
  std::vector<nlohmann::json>
  read_until_type(std::string_view type,
                  std::chrono::milliseconds timeout
                  = raw_socket::default_timeout);

  /// Reads until a close frame (returned, kind frame) or the end of the
  /// connection or the time; text frames on the way go to `frames` (as JSON,
  /// or as a JSON string when they are not JSON).
  event until_close(std::chrono::milliseconds timeout,
                    std::vector<nlohmann::json>* frames = nullptr);

private:
  std::optional<raw_frame> take_frame();

  raw_socket socket_;
  std::string buffer_; // received, not yet parsed
};

/// VmRSS of process `pid` in bytes (from /proc/PID/status); 0 if unknown.
std::size_t resident_bytes(int pid);

/// How much more memory a process of this build may use than a Release one
/// for the same work: AddressSanitizer keeps freed memory in quarantine and
/// adds shadow memory, so bounds on a server's memory are scaled by this.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr std::size_t memory_scale = 8;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr std::size_t memory_scale = 8;
#else
inline constexpr std::size_t memory_scale = 1;
#endif
#else
inline constexpr std::size_t memory_scale = 1;
#endif

} // namespace parley::test
