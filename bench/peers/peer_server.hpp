#pragma once

// What the two Beast peers share: the command line, the listener and the
// io_context. One thread, plain TCP, as small as Beast's own
// websocket_server_async example, so that they cost the machine as little
// as a WebSocket server can: the ceiling Parley is measured against.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace parley::bench {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

/// Accepts connections and starts a `Session` (constructed from the
/// socket, with a `run()`) for each.
template <class Session>
class listener : public std::enable_shared_from_this<listener<Session>> {
public:
  listener(net::io_context& ioc, const tcp::endpoint& endpoint)
    : ioc_(ioc), acceptor_(ioc) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  tcp::endpoint local_endpoint() const {
    return acceptor_.local_endpoint();
  }

  void run() {
    do_accept();
  }

private:
  void do_accept() {
    acceptor_.async_accept(
      ioc_, [self = this->shared_from_this()](beast::error_code ec,
                                              tcp::socket socket) {
        self->on_accept(ec, std::move(socket));
      });
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket))->run();
    }
    // EMFILE and the like: keep accepting, as a server would.
    do_accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
};

/// `NAME [--host H] [--port P]`: listens (port 0 picks one), prints
/// `listening on HOST:PORT` once accepting and runs until SIGINT or
/// SIGTERM. Returns the exit code.
template <class Session>
int serve(const char* name, int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned long port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--host" || arg == "--port") && i + 1 < argc) {
      if (arg == "--host")
        host = argv[++i];
      else
        port = std::strtoul(argv[++i], nullptr, 10);
    } else {
      std::cerr << "usage: " << name << " [--host H] [--port P]\n";
      return 2;
    }
  }
  try {
    // One thread: hint to Asio that no locking is needed.
    net::io_context ioc{1};
    tcp::endpoint endpoint{net::ip::make_address(host),
                           static_cast<std::uint16_t>(port)};
    auto server = std::make_shared<listener<Session>>(ioc, endpoint);
    server->run();
    net::signal_set signals{ioc, SIGINT, SIGTERM};
    signals.async_wait([&ioc](beast::error_code, int) { ioc.stop(); });
    auto bound = server->local_endpoint();
    std::cout << "listening on " << bound.address().to_string() << ":"
              << bound.port() << std::endl;
    ioc.run();
  } catch (const std::exception& ex) {
    std::cerr << name << ": " << ex.what() << "\n";
    return 1;
  }
  return 0;
}

} // namespace parley::bench
