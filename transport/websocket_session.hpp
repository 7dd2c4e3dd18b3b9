#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/container/deque.hpp>

#include "actors/client_connection.hpp"
#include "transport/server_context.hpp"

namespace parley::transport {

/// One chat socket. Reads frames only once a session actor is bound, parses
/// them (transport/protocol.hpp) and sends them to it with anon_send; frames
/// from the session are queued on this connection's strand, one async_write
/// in flight, the queue bounded. Implements client_connection, whose calls
/// may come from any thread. A template over the stream under the WebSocket
/// (plain TCP or TLS), defined and instantiated in websocket_session.cpp.
template <class NextLayer>
class basic_websocket_session
  : public client_connection,
    public std::enable_shared_from_this<basic_websocket_session<NextLayer>> {
public:
  using request = boost::beast::http::request<boost::beast::http::string_body>;

  /// `next` is the connected stream (a plain socket, or a TLS stream past
  /// its handshake); `slot` its place among the connections. A refused slot
  /// completes the handshake only to close with 1013 and the reason.
  template <class Next>
  basic_websocket_session(Next&& next, server_context& ctx,
                          connection_slot slot);

  ~basic_websocket_session() override;

  void run(request req, std::map<std::string, std::string> query);

  // -- client_connection ------------------------------------------------------

  std::uint64_t id() const noexcept override {
    return id_;
  }

  void bind(session_actor session) override;

  void send(std::string frame) override;

  void close(std::uint16_t code, std::string reason) override;

  void frame_handled() override;

private:
  void on_accept(std::map<std::string, std::string> query,
                 boost::system::error_code ec);
  void reject_and_close(const std::string& code, const std::string& message,
                        std::uint16_t close_code);
  void do_read();
  void clear_buffer();
  void forwarded();
  void on_read(boost::system::error_code ec, std::size_t bytes);
  void enqueue(std::string frame);
  void do_write();
  void on_write(boost::system::error_code ec, std::size_t bytes);
  void drop(const char* why);
  void do_close();
  void finish(const char* why);

  boost::beast::websocket::stream<NextLayer> ws_;
  boost::beast::flat_buffer buffer_;
  boost::asio::steady_timer bind_timer_;
  /// Runs while a write is in flight: a client that reads nothing for
  /// send_timeout is dropped (TCP alone would wait for hours).
  boost::asio::steady_timer send_timer_;
  server_context& ctx_;
  connection_slot slot_;
  std::uint64_t id_;
  session_actor session_;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;     // close requested: no more frames accepted
  bool close_sent_ = false;
  bool finished_ = false;
  std::uint16_t close_code_ = 1000;
  std::string close_reason_;
  // Nothing allocated while empty, unlike std::deque: an idle connection
  // costs 512 bytes less.
  boost::container::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  /// When a write last finished (or started on an idle socket): a queue
  /// over its limits is forgiven while the client keeps reading.
  std::chrono::steady_clock::time_point last_progress_{};
  /// Frames sent to the session that it has not yet handled; reading
  /// pauses at max_unhandled and resumes below half of it.
  std::size_t unhandled_ = 0;
  bool read_paused_ = false;
};

/// A plain WebSocket sits on the bare socket: the WebSocket stream keeps its
/// own timeouts, and beast::tcp_stream's would cost an idle connection
/// about 1 KiB (its state and the wrapper around every pending read).
using websocket_session = basic_websocket_session<boost::asio::ip::tcp::socket>;
using tls_websocket_session = basic_websocket_session<
  boost::beast::ssl_stream<boost::beast::tcp_stream>>;

extern template class basic_websocket_session<boost::asio::ip::tcp::socket>;
extern template class basic_websocket_session<
  boost::beast::ssl_stream<boost::beast::tcp_stream>>;


} // namespace parley::transport
