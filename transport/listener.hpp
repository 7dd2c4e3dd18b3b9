#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include "transport/server_context.hpp"

namespace parley::transport {

/// Accepts TCP connections and hands each, on its own strand, to an
/// http_session, or with TLS configured to the detection step that tells
/// TLS from plain HTTP (listener.cpp). Each gets its place among the
/// connection limits first; one over a limit is told so and closed.
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
  void note_refusal(const std::string& address,
                    connection_limiter::verdict verdict);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  server_context& ctx_;
  // Only touched on the acceptor's strand.
  std::size_t refused_since_log_ = 0;
  std::chrono::steady_clock::time_point last_refusal_log_{};
};

} // namespace parley::transport
