#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace parley::test {

/// What a read from a WebSocket produced.
enum class read_status {
  frame,   // a data frame arrived
  timeout, // nothing arrived in time; the connection is still usable
  closed,  // the server closed the connection with a close frame
  error,   // the connection failed without a close handshake (EOF, reset)
};

const char* to_string(read_status status) noexcept;

struct ws_read_result {
  read_status status = read_status::timeout;
  std::string text;               // frame: the payload
  bool binary = false;            // frame: sent as a binary frame
  std::uint16_t close_code = 0;   // closed: the code the server sent
  std::string close_reason;       // closed: the reason the server sent
  std::string error;              // error: what failed

  /// One line for failure messages.
  std::string describe() const;
};

/// Thrown by the ws_client operations that have no result to report a
/// failure in: connect, send, read_json, read_until_type.
class ws_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A WebSocket client for tests, with a timeout on every operation. It owns
/// a private io_context that only runs inside its member functions, so each
/// client is driven by exactly one test thread and needs no locking. Reads
/// stay pending between calls: a read that timed out is not cancelled (which
/// would break the stream) but picked up by the next call. Beast is kept out
/// of this header: it is slow to compile and only ws_client.cpp needs it.
class ws_client {
public:
  static constexpr std::chrono::milliseconds default_timeout{5000};

  ws_client();
  ~ws_client();

  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  /// Connects and performs the upgrade on `target` (e.g.
  /// "/ws?session_id=7&resume_token=abc&last_seq=3"). Throws ws_error when
  /// the connection or the upgrade fails or takes longer than `timeout`.
  void connect(const std::string& host, std::uint16_t port,
               const std::string& target,
               std::chrono::milliseconds timeout = default_timeout);

  /// Later connects use TLS (wss://), trusting only the PEM certificate in
  /// `trusted_cert` (e.g. a self_signed_cert's cert_file): the server's
  /// certificate and host name are verified. Throws std::runtime_error when
  /// the file cannot be loaded.
  void use_tls(const std::string& trusted_cert);

  /// Extra headers for every later upgrade request (e.g. Authorization for
  /// an LLM server), set after the defaults so they can replace them.
  void set_upgrade_headers(
    std::vector<std::pair<std::string, std::string>> headers);

  /// True after connect until the connection closed or failed.
  bool is_open() const noexcept;

  /// Sends a text frame; `text` need not be valid UTF-8 (tests send broken
  /// frames on purpose). Throws ws_error on failure or timeout.
  void send_text(std::string_view text,
                 std::chrono::milliseconds timeout = default_timeout);

  void send_json(const nlohmann::json& frame,
                 std::chrono::milliseconds timeout = default_timeout);

  void send_binary(std::string_view bytes,
                   std::chrono::milliseconds timeout = default_timeout);

  /// The next frame, or why there is none. After a close or an error, every
  /// further call returns that same result at once.
  ws_read_result read_frame(std::chrono::milliseconds timeout);

  /// The next frame as a JSON value. Throws ws_error on timeout, close,
  /// error, a binary frame or text that is not JSON.
  nlohmann::json read_json(std::chrono::milliseconds timeout = default_timeout);

  /// Reads frames until one has `"type": type`; returns all of them, that
  /// one last. Throws ws_error (listing what did arrive) when it does not
  /// come within `timeout`.
  std::vector<nlohmann::json>
  read_until_type(std::string_view type,
                  std::chrono::milliseconds timeout = default_timeout);

  /// Reads until the server closes the connection (or it fails, or the time
  /// is up) and returns how it ended; JSON frames read on the way are added
  /// to `frames` when given.
  ws_read_result wait_closed(std::chrono::milliseconds timeout,
                             std::vector<nlohmann::json>* frames = nullptr);

  /// The close handshake with `code`, bounded by `timeout` (after which the
  /// connection is dropped). Frames that arrive meanwhile stay readable with
  /// read_frame. Never throws.
  void close(std::uint16_t code = 1000,
             std::chrono::milliseconds timeout = default_timeout);

  /// Drops the TCP connection without a close handshake, as a client that
  /// lost its network would. Never throws.
  void drop() noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The result of http_get and http_request.
struct http_response {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The first header named `name` (case-insensitive), empty when absent.
  std::string header(std::string_view name) const;
};

/// Request headers, in the order they are sent.
using http_headers = std::vector<std::pair<std::string, std::string>>;

/// One HTTP/1.1 request (Connection: close) with any method, e.g. "POST",
/// "DELETE" or a made-up one. A non-empty `body`, or any body with POST, PUT
/// or PATCH, is sent with its Content-Length; `headers` are set after the
/// defaults (Host, User-Agent, Connection), so they can replace them, and
/// carry the Content-Type, which is not set otherwise. The response is read
/// while the request is still being written, so a server that answers early
/// (413 after the headers) and closes is reported with its answer, not as a
/// failed write. Throws ws_error when no complete response arrives within
/// `timeout`. Implemented in ws_client.cpp to keep Beast in one file.
http_response http_request(const std::string& host, std::uint16_t port,
                           const std::string& method, const std::string& target,
                           const std::string& body = {},
                           const http_headers& headers = {},
                           std::chrono::milliseconds timeout
                           = ws_client::default_timeout);

/// http_request with GET and no body.
http_response http_get(const std::string& host, std::uint16_t port,
                       const std::string& target,
                       std::chrono::milliseconds timeout
                       = ws_client::default_timeout);

/// http_request and http_get over TLS (https://), trusting only the PEM
/// certificate in `trusted_cert`; a certificate that does not verify fails
/// the request (ws_error, step "TLS handshake").
http_response https_request(const std::string& trusted_cert,
                            const std::string& host, std::uint16_t port,
                            const std::string& method,
                            const std::string& target,
                            const std::string& body = {},
                            const http_headers& headers = {},
                            std::chrono::milliseconds timeout
                            = ws_client::default_timeout);

http_response https_get(const std::string& trusted_cert,
                        const std::string& host, std::uint16_t port,
                        const std::string& target,
                        std::chrono::milliseconds timeout
                        = ws_client::default_timeout);

} // namespace parley::test
