#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "actors/messages.hpp"
#include "transport/server_context.hpp"

namespace parley::transport {

/// One HTTP connection: reads requests one at a time (bounded header, body
/// and time), answers them, and hands a WebSocket upgrade on /ws over to a
/// websocket_session. Requests that need an actor ask it through a one-shot
/// actor whose answer is posted back to this connection's strand; no io
/// thread ever waits for an actor.
class http_session : public std::enable_shared_from_this<http_session> {
public:
  using request = boost::beast::http::request<boost::beast::http::string_body>;
  using response
    = boost::beast::http::response<boost::beast::http::string_body>;

  http_session(boost::asio::ip::tcp::socket&& socket, server_context& ctx);

  void run();

private:
  void do_read();
  void on_read(boost::system::error_code ec, std::size_t bytes);
  void handle(request req);
  void answer_health(const request& req);
  void answer_rest(request& req, const std::string& path,
                   std::map<std::string, std::string> query);
  void send_health(unsigned version, bool keep_alive, bool head,
                   const health_report* report, const std::string& error);
  void write(response res);
  void on_write(bool close, boost::system::error_code ec, std::size_t bytes);
  void do_close();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<
    boost::beast::http::string_body>>
    parser_;
  server_context& ctx_;
};

/// A JSON response with the headers every Parley response carries.
http_session::response json_response(unsigned status, unsigned version,
                                     bool keep_alive, std::string body);

} // namespace parley::transport
