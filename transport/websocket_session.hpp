#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "actors/client_connection.hpp"
#include "transport/server_context.hpp"

namespace parley::transport {

/// One chat socket. Reads frames only once a session actor is bound, parses
/// them (transport/protocol.hpp) and sends them to it with anon_send; frames
/// from the session are queued on this connection's strand, one async_write
/// in flight, the queue bounded. Implements client_connection, whose calls
/// may come from any thread.
class websocket_session : public client_connection,
                          public std::enable_shared_from_this<websocket_session> {
public:
  using request = boost::beast::http::request<boost::beast::http::string_body>;

  websocket_session(boost::asio::ip::tcp::socket&& socket,
                    server_context& ctx);

  ~websocket_session() override;

  void run(request req, std::map<std::string, std::string> query);

  // -- client_connection ------------------------------------------------------

  std::uint64_t id() const noexcept override {
    return id_;
  }

  void bind(session_actor session) override;

  void send(std::string frame) override;

  void close(std::uint16_t code, std::string reason) override;

private:
  void on_accept(std::map<std::string, std::string> query,
                 boost::system::error_code ec);
  void reject_and_close(const std::string& code, const std::string& message,
                        std::uint16_t close_code);
  void do_read();
  void on_read(boost::system::error_code ec, std::size_t bytes);
  void enqueue(std::string frame);
  void do_write();
  void on_write(boost::system::error_code ec, std::size_t bytes);
  void do_close();
  void finish(const char* why);

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  boost::asio::steady_timer bind_timer_;
  server_context& ctx_;
  std::uint64_t id_;
  session_actor session_;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;     // close requested: no more frames accepted
  bool close_sent_ = false;
  bool finished_ = false;
  std::uint16_t close_code_ = 1000;
  std::string close_reason_;
  std::deque<std::string> queue_;
};

} // namespace parley::transport
