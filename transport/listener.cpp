#include "transport/listener.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/detect_ssl.hpp>

#include <optional>

#include "config/logging.hpp"
#include "transport/http_session.hpp"

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace parley::transport {

namespace {

/// Only with --tls-cert: looks at a new connection's first bytes (as Beast's
/// flex server does). A TLS ClientHello gets the handshake and then an
/// http_session over TLS; anything else is plain HTTP, with the bytes read so
/// far. Both steps share one bounded timeout, so a client that connects and
/// stalls costs a socket for that long only.
class detect_session : public std::enable_shared_from_this<detect_session> {
public:
  detect_session(tcp::socket&& socket, server_context& ctx,
                 connection_slot slot)
    : stream_(std::move(socket)),
      ctx_(ctx),
      slot_(std::move(slot)),
      id_(ctx.next_connection_id++) {
    // nop
  }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&detect_session::on_run,
                                            shared_from_this()));
  }

private:
  void on_run() {
    stream_.expires_after(ctx_.limits.tls_handshake_timeout);
    beast::async_detect_ssl(stream_, buffer_,
                            beast::bind_front_handler(&detect_session::on_detect,
                                                      shared_from_this()));
  }

  void on_detect(boost::system::error_code ec, bool tls) {
    if (ec) {
      logger("transport")->debug("conn={} closed before its first request: "
                                 "{}",
                                 id_, ec.message());
      return;
    }
    if (!tls) {
      stream_.expires_never(); // http_session sets its own
      std::make_shared<http_session>(std::move(stream_), std::move(buffer_),
                                     ctx_, std::move(slot_))
        ->run();
      return;
    }
    tls_.emplace(std::move(stream_), *ctx_.tls);
    // The ClientHello bytes already read go to the handshake first.
    tls_->async_handshake(ssl::stream_base::server, buffer_.data(),
                          beast::bind_front_handler(
                            &detect_session::on_handshake,
                            shared_from_this()));
  }

  void on_handshake(boost::system::error_code ec, std::size_t used) {
    if (ec) {
      // Scanners, wrong protocols, clients that distrust the certificate:
      // routine on an open port, so quietly.
      logger("transport")->debug("conn={} TLS handshake failed: {}", id_,
                                 ec.message());
      return;
    }
    buffer_.consume(used);
    beast::get_lowest_layer(*tls_).expires_never();
    std::make_shared<tls_http_session>(std::move(*tls_), std::move(buffer_),
                                       ctx_, std::move(slot_))
      ->run();
  }

  beast::tcp_stream stream_;
  std::optional<tls_stream> tls_;
  beast::flat_buffer buffer_;
  server_context& ctx_;
  connection_slot slot_;
  std::uint64_t id_;
};

} // namespace

listener::listener(net::io_context& ioc, server_context& ctx)
  : ioc_(ioc),
    acceptor_(net::make_strand(ioc)),
    retry_timer_(acceptor_.get_executor()),
    ctx_(ctx) {
  // nop
}

boost::system::error_code listener::open(const tcp::endpoint& ep) {
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (!ec)
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor_.bind(ep, ec);
  if (!ec)
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
  return ec;
}

tcp::endpoint listener::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void listener::run() {
  do_accept();
}

void listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ec;
    self->acceptor_.close(ec);
    self->retry_timer_.cancel();
  });
}

void listener::do_accept() {
  // Each connection gets its own strand: its handlers never run
  // concurrently, whichever io thread picks them up.
  acceptor_.async_accept(net::make_strand(ioc_),
                         [self = shared_from_this()](auto ec, auto socket) {
                           self->on_accept(ec, std::move(socket));
                         });
}

void listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open())
    return;
  if (ec) {
    // Typically EMFILE: pause instead of spinning, then accept again.
    logger("transport")->warn("accept failed: {}", ec.message());
    retry_timer_.expires_after(std::chrono::milliseconds{50});
    retry_timer_.async_wait([self = shared_from_this()](auto) {
      if (self->acceptor_.is_open())
        self->do_accept();
    });
    return;
  }
  boost::system::error_code peer_ec;
  auto peer = socket.remote_endpoint(peer_ec);
  auto address = peer_ec ? std::string{"?"} : peer.address().to_string();
  auto verdict = ctx_.connections.admit(address);
  if (verdict != connection_limiter::verdict::admitted)
    note_refusal(address, verdict);
  if (verdict == connection_limiter::verdict::drop) {
    // Over a limit while already telling many others: not even a word.
    boost::system::error_code ec;
    socket.close(ec);
    return do_accept();
  }
  connection_slot slot{ctx_.connections, std::move(address), verdict};
  // Chat frames come in bursts (ack, typing, deltas): without NODELAY,
  // Nagle holds each one after the first until the client's delayed ACK,
  // about 40 ms.
  boost::system::error_code opt_ec;
  socket.set_option(tcp::no_delay(true), opt_ec);
  if (ctx_.tls)
    std::make_shared<detect_session>(std::move(socket), ctx_, std::move(slot))
      ->run();
  else
    std::make_shared<http_session>(beast::tcp_stream{std::move(socket)},
                                   beast::flat_buffer{}, ctx_, std::move(slot))
      ->run();
  do_accept();
}

void listener::note_refusal(const std::string& address,
                            connection_limiter::verdict verdict) {
  // A flood would write a line per connection; one a few seconds is enough
  // to tell an operator what is going on.
  ++refused_since_log_;
  auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_log_ < std::chrono::seconds{5})
    return;
  logger("transport")->warn(
    "connection from {} refused: {} ({} refused since the last such line; "
    "{} open)",
    address,
    verdict == connection_limiter::verdict::address_full
      ? "too many from this address"
      : "too many connections",
    refused_since_log_, ctx_.connections.open());
  refused_since_log_ = 0;
  last_refusal_log_ = now;
}

} // namespace parley::transport
