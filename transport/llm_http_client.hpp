#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include "config/llm_config.hpp"

namespace parley::llm {

/// Errors of llm_http_client's own (Beast, Asio and SSL report the others:
/// e.g. connection_refused, http::error::partial_message for a stream cut
/// short, http::error::body_limit for a too large response).
enum class http_client_errc {
  cancelled = 1,          // cancel() or close()
  connect_timeout,        // TCP connect + TLS handshake too slow
  request_timeout,        // the whole-request deadline passed
  malformed_event_stream, // the SSE parser gave up (an event too large)
  not_http,               // the endpoint is not http:// or https://
};

const boost::system::error_category& http_client_category() noexcept;

boost::system::error_code make_error_code(http_client_errc e) noexcept;

struct http_client_options {
  /// TCP connect and TLS handshake of a new connection (name resolution is
  /// bounded by the request timeout only).
  std::chrono::milliseconds connect_timeout{10000};

  /// Whole request, from post_stream()/get() to the end of the response,
  /// including time spent waiting for a free connection.
  std::chrono::milliseconds request_timeout{60000};

  /// A kept-alive connection idle for this long is closed instead of reused:
  /// servers drop idle connections, and a request on a dropped one is lost.
  std::chrono::milliseconds idle_timeout{30000};

  /// Connections open at once (busy plus idle); more requests wait in a
  /// queue for a free one.
  std::size_t max_connections = 4;

  /// Largest response body; a larger one fails the request with
  /// http::error::body_limit.
  std::size_t max_response_bytes = 16 * 1024 * 1024;
};

/// Called on the client's strand, one at a time, in this order: on_status
/// once, then on_event or on_body, then on_done. They must not throw (an
/// exception would leave io_context::run); cancel(), post_stream() and get()
/// from inside them are fine (they post).
struct http_request_callbacks {
  /// The status line and headers arrived. `retry_after` is the Retry-After
  /// header verbatim (seconds or an HTTP date), empty when absent.
  std::function<void(int status, std::string retry_after)> on_status;

  /// The data of one Server-Sent Event, as it arrives, when the response is
  /// text/event-stream (whatever its status). OpenAI's final "[DONE]" is
  /// passed on like every other event.
  std::function<void(std::string data)> on_event;

  /// The whole body of a response that is not an event stream (a
  /// non-streamed completion, a JSON error, the model list), once, at the
  /// end; possibly empty.
  std::function<void(std::string body)> on_body;

  /// Exactly once per request, whatever ended it; nothing is called after
  /// it. Success (empty code) when the whole response arrived, whatever its
  /// status; http_client_errc::cancelled after cancel() or close(); else
  /// the failure (timeouts, connect errors, malformed HTTP, a connection
  /// closed mid-response). The callbacks are released afterwards, so they
  /// may hold whatever owns the request.
  std::function<void(boost::system::error_code ec, std::string reason)>
    on_done;
};

/// One request in flight; the handle may be dropped without cancelling. It
/// keeps its client alive (cancel() needs the client's strand).
class http_request_handle
  : public std::enable_shared_from_this<http_request_handle> {
public:
  virtual ~http_request_handle();

  /// Abandons the request: closes its connection, if it has one (the server
  /// sees the client go away, which is how OpenAI clients cancel), and calls
  /// on_done with http_client_errc::cancelled, unless on_done already came.
  /// Any thread, never blocks.
  virtual void cancel() = 0;
};

/// An HTTP/1.1 client for OpenAI-compatible chat-completions servers
/// (http:// or https://), with a callback API and no actor in it: the LLM
/// actor wraps it. Bodies are opaque here; transport/openai_protocol.hpp
/// builds the requests and parses the events.
///
/// Parley's Beast style (see llm_ws_client): one strand for the client and
/// all of its connections, bounded connect and request timeouts, errors as
/// error_codes in on_done, never exceptions. All methods may be called from
/// any thread and never block.
///
/// Connections are kept alive and reused, the most recently used first, up
/// to max_connections; concurrent requests get separate connections, and
/// requests beyond the limit wait. A pooled connection the server closed
/// while it was idle is noticed before reuse (a non-blocking peek); if the
/// server closes it in the moment the request goes out, the request is sent
/// again, once, on a new connection, provided no byte of a response came
/// back. Response bodies are read incrementally, so events reach on_event
/// as the server sends them.
///
/// https:// verifies the server's certificate against the system CA store
/// and its host name (or IP address), and sends SNI. The Authorization
/// header (`Bearer KEY`) is sent only when the key is not empty.
///
/// The Beast templates live in llm_http_client.cpp; make() picks the plain
/// or TLS implementation.
class llm_http_client : public std::enable_shared_from_this<llm_http_client> {
public:
  /// Throws std::invalid_argument when `endpoint` is not http:// or https://
  /// (a configuration bug, which config/llm_config.hpp already prevents).
  static std::shared_ptr<llm_http_client>
  make(boost::asio::any_io_executor executor, llm_endpoint endpoint,
       std::string api_key, http_client_options options = {});

  virtual ~llm_http_client();

  llm_http_client(const llm_http_client&) = delete;
  llm_http_client& operator=(const llm_http_client&) = delete;

  /// POSTs `body_json` (Content-Type: application/json) to `target`, a path
  /// and query on the endpoint's host, e.g.
  /// endpoint.target_with("/chat/completions").
  virtual std::shared_ptr<http_request_handle>
  post_stream(std::string target, std::string body_json,
              http_request_callbacks callbacks)
    = 0;

  /// GETs `target`, e.g. endpoint.target_with("/models") as a health check.
  virtual std::shared_ptr<http_request_handle>
  get(std::string target, http_request_callbacks callbacks) = 0;

  /// Ends every request (on_done with cancelled) and closes every
  /// connection; later requests end the same way at once. For shutdown.
  virtual void close() = 0;

protected:
  llm_http_client() = default;
};

} // namespace parley::llm

namespace boost::system {

template <>
struct is_error_code_enum<parley::llm::http_client_errc> : std::true_type {};

} // namespace boost::system
