#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::test {

/// A blocking HTTP/1.1 client over a plain socket, for what http_request
/// cannot show: several requests on one kept-alive connection, and a chunked
/// body read piece by piece as it arrives (Server-Sent Events), including a
/// connection that ends in the middle of one. Every read has a deadline.
class raw_http {
public:
  /// Connects; throws std::runtime_error when that fails.
  raw_http(const std::string& host, std::uint16_t port);

  ~raw_http();

  raw_http(const raw_http&) = delete;
  raw_http& operator=(const raw_http&) = delete;

  /// Sends one request (keep-alive); a non-empty body goes as JSON.
  void send(const std::string& method, const std::string& target,
            const std::string& body = {},
            const std::vector<std::pair<std::string, std::string>>& headers
            = {});

  struct head {
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> headers;

    /// The first header named `name` (case-insensitive), empty if absent.
    std::string header(std::string_view name) const;
  };

  /// The status line and headers of the next response; throws
  /// std::runtime_error on timeout or when the connection ends first.
  head read_head(std::chrono::milliseconds timeout);

  /// The whole body of the response whose head was just read (by
  /// Content-Length or chunked); throws like read_head.
  std::string read_body(const head& h, std::chrono::milliseconds timeout);

  enum class sse_status {
    event,   // `data` holds the data of the next event
    end,     // the chunked body ended properly (last chunk)
    closed,  // the connection ended inside the body
    timeout, // nothing complete arrived in time
  };

  struct sse_result {
    sse_status status = sse_status::timeout;
    std::string data;
  };

  /// The next Server-Sent Event of a chunked body whose head was just read.
  sse_result next_event(std::chrono::milliseconds timeout);

  /// True when the server ends the connection within `timeout` (bytes that
  /// arrive meanwhile are discarded).
  bool wait_closed(std::chrono::milliseconds timeout);

  /// Closes the socket at once.
  void close() noexcept;

private:
  enum class fill_result { data, eof, timeout };

  fill_result fill(std::chrono::steady_clock::time_point deadline);

  // Moves whole chunks of the chunked body from in_ to body_; true once the
  // last chunk was seen.
  bool decode_chunks();

  int fd_ = -1;
  std::string in_;   // received bytes not consumed yet
  std::string body_; // decoded body bytes not consumed as events yet
  bool body_done_ = false;
};

} // namespace parley::test
