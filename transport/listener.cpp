#include "transport/listener.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "config/logging.hpp"
#include "transport/http_session.hpp"

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace parley::transport {

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
  // Chat frames come in bursts (ack, typing, deltas): without NODELAY,
  // Nagle holds each one after the first until the client's delayed ACK,
  // about 40 ms.
  boost::system::error_code opt_ec;
  socket.set_option(tcp::no_delay(true), opt_ec);
  std::make_shared<http_session>(std::move(socket), ctx_)->run();
  do_accept();
}

} // namespace parley::transport
