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
#include <boost/beast/ssl/ssl_stream.hpp>

#include "actors/messages.hpp"
#include "transport/server_context.hpp"

namespace parley::transport {

/// The two streams a connection can run on: plain TCP, or TLS over it (after
/// the detection step of a server with --tls-cert, see listener.cpp).
using plain_stream = boost::beast::tcp_stream;
using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

using http_request
  = boost::beast::http::request<boost::beast::http::string_body>;
using http_response
  = boost::beast::http::response<boost::beast::http::string_body>;

/// One HTTP connection: reads requests one at a time (bounded header, body
/// and time), answers them, and hands a WebSocket upgrade on /ws over to a
/// websocket_session. Requests that need an actor ask it through a one-shot
/// actor whose answer is posted back to this connection's strand; no io
/// thread ever waits for an actor. A template over the stream (as in Beast's
/// flex server); its members are defined and instantiated for plain_stream
/// and tls_stream in http_session.cpp only, because Beast compiles slowly.
template <class Stream>
class basic_http_session
  : public std::enable_shared_from_this<basic_http_session<Stream>> {
public:
  using request = http_request;
  using response = http_response;

  /// `stream` is connected (and for TLS, past its handshake); `buffer`
  /// holds bytes already read from it (by the detection step). A refused
  /// `slot` (over a connection limit) gets one request read, quickly, to
  /// answer it with 503, or a WebSocket close frame saying why.
  basic_http_session(Stream&& stream, boost::beast::flat_buffer&& buffer,
                     server_context& ctx, connection_slot slot);

  void run();

private:
  void do_read();
  void on_read(boost::system::error_code ec, std::size_t bytes);
  void handle(request req);
  void refuse_busy(request& req, bool websocket);
  void start_websocket(request req, std::map<std::string, std::string> query);
  void answer_health(const request& req);
  void answer_rest(request& req, const std::string& path,
                   std::map<std::string, std::string> query);
  void answer_static(const request& req, const std::string& path);
  void send_health(unsigned version, bool keep_alive, bool head,
                   const health_report* report, const std::string& error);
  template <class Body>
  void write(boost::beast::http::response<Body> res);
  void on_write(bool close, boost::system::error_code ec, std::size_t bytes);
  void do_close();

  Stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<
    boost::beast::http::string_body>>
    parser_;
  server_context& ctx_;
  connection_slot slot_;
};

using http_session = basic_http_session<plain_stream>;
using tls_http_session = basic_http_session<tls_stream>;

extern template class basic_http_session<plain_stream>;
extern template class basic_http_session<tls_stream>;

/// A JSON response with the headers every Parley response carries.
http_response json_response(unsigned status, unsigned version, bool keep_alive,
                            std::string body);

} // namespace parley::transport
