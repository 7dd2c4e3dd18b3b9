#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include "transport/server_context.hpp"

namespace parley::transport {

/// Accepts TCP connections and hands each, on its own strand, to an
/// http_session, or with TLS configured to the detection step that tells
/// TLS from plain HTTP (listener.cpp).
class listener : public std::enable_shared_from_this<listener> {
public:
  listener(boost::asio::io_context& ioc, server_context& ctx);

  /// Binds and listens; returns the error instead of throwing.
  boost::system::error_code open(const boost::asio::ip::tcp::endpoint& ep);

  /// The bound endpoint (with the real port after binding port 0).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  void run();

  /// Stops accepting; safe from any thread.
  void stop();

private:
  void do_accept();
  void on_accept(boost::system::error_code ec,
                 boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  server_context& ctx_;
};

} // namespace parley::transport
