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

/// Errors of llm_ws_client's own (Beast, Asio and SSL report the others).
enum class ws_client_errc {
  queue_full = 1,   // send() found the outgoing queue full
  connect_timeout,  // resolve + connect + TLS + WebSocket handshake too slow
  not_websocket,    // the endpoint is not ws:// or wss://
};

const boost::system::error_category& ws_client_category() noexcept;

boost::system::error_code make_error_code(ws_client_errc e) noexcept;

struct ws_client_options {
  /// Resolve, TCP connect, TLS and WebSocket handshake together; also bounds
  /// the closing handshake.
  std::chrono::milliseconds handshake_timeout{10000};

  /// Nothing received for this long: Beast sends a ping (keep-alive) and
  /// gives up when nothing arrives within the next one.
  std::chrono::milliseconds idle_timeout{30000};

  /// Frames waiting to be written; one more closes the connection with
  /// ws_client_errc::queue_full (the server stopped reading).
  std::size_t max_queued_frames = 1024;

  /// Largest incoming message; a larger one fails the connection.
  std::size_t max_message_bytes = 16 * 1024 * 1024;
};

/// Called on the client's strand, one at a time, never after on_close. They
/// must not throw (an exception would leave io_context::run); send() and
/// close() from inside them are fine (they post).
struct ws_client_callbacks {
  /// The WebSocket handshake succeeded; frames queued by send() go out now.
  std::function<void()> on_open;

  /// One text (or binary) message from the server.
  std::function<void(std::string text)> on_frame;

  /// Exactly once per started client, whatever ended it: connect or
  /// handshake failure (HTTP 401 is websocket::error::upgrade_declined with
  /// the status in `reason`), read or write error, timeout, a close frame
  /// from the server (websocket::error::closed), a full queue. After close()
  /// the code is success (empty). The callbacks are released afterwards, so
  /// they may hold whatever owns the client.
  std::function<void(boost::system::error_code ec, std::string reason)>
    on_close;
};

/// One persistent connection to the custom LLM WebSocket server
/// (ws:// or wss://), with a callback API and no actor in it: the LLM actor
/// wraps it and reconnects by making a new client. Frames are opaque text
/// here; transport/custom_llm_protocol.hpp builds and parses them.
///
/// Parley's Beast style (see websocket_session): every operation runs on one
/// strand, the opening phase and the closing handshake are bounded, one
/// async_write is in flight with a bounded queue behind it, and errors
/// arrive as error_codes in on_close, never as exceptions. start(), send()
/// and close() may be called from any thread and never block.
///
/// wss:// verifies the server's certificate against the system CA store and
/// its host name (or IP address), and sends SNI. The Authorization header
/// (`Bearer KEY`) is sent only when the key is not empty.
///
/// The Beast templates live in llm_ws_client.cpp; make() picks the plain or
/// TLS implementation.
class llm_ws_client : public std::enable_shared_from_this<llm_ws_client> {
public:
  /// Throws std::invalid_argument when `endpoint` is not ws:// or wss://
  /// (a configuration bug, which config/llm_config.hpp already prevents).
  static std::shared_ptr<llm_ws_client>
  make(boost::asio::any_io_executor executor, llm_endpoint endpoint,
       std::string api_key, ws_client_options options,
       ws_client_callbacks callbacks);

  virtual ~llm_ws_client();

  llm_ws_client(const llm_ws_client&) = delete;
  llm_ws_client& operator=(const llm_ws_client&) = delete;

  /// Resolves, connects, handshakes, then reads until the end. Only the
  /// first call counts. A client neither started nor closed never calls
  /// on_close.
  virtual void start() = 0;

  /// Queues one text frame; frames sent before on_open go out after it.
  /// Dropped silently once closing or closed (on_close tells the owner).
  virtual void send(std::string frame) = 0;

  /// Sends a close frame after the queued frames: bounded by the handshake
  /// timeout, and a write stuck behind a peer that stopped reading by the
  /// idle timeout. Before the connection is open, abandons the attempt at
  /// once. Either way on_close follows with a success code (unless it
  /// already came), whatever the closing handshake itself runs into.
  virtual void close() = 0;

protected:
  llm_ws_client() = default;
};

} // namespace parley::llm

namespace boost::system {

template <>
struct is_error_code_enum<parley::llm::ws_client_errc> : std::true_type {};

} // namespace boost::system
