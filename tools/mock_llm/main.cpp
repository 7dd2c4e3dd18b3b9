// parley-mock-llm: a scriptable LLM server for Parley's tests, speaking the
// custom LLM WebSocket protocol or the OpenAI-compatible API (README.md).

#include <csignal>
#include <iostream>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "tools/mock_llm/http_connection.hpp"
#include "tools/mock_llm/mock_state.hpp"
#include "tools/mock_llm/options.hpp"
#include "tools/mock_llm/tls_connection.hpp"

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace parley::mock_llm {

namespace {

/// Accepts connections until the io_context stops; with a TLS context,
/// every connection starts with a TLS handshake.
class listener : public std::enable_shared_from_this<listener> {
public:
  listener(net::io_context& ioc, mock_state& state,
           std::shared_ptr<net::ssl::context> tls)
    : acceptor_(ioc), retry_timer_(ioc), state_(state), tls_(std::move(tls)) {
    // nop
  }

  boost::system::error_code open(const tcp::endpoint& ep) {
    boost::system::error_code ec;
    acceptor_.open(ep.protocol(), ec);
    // A mock restarted on the same port (recovery tests) must bind at once,
    // despite the old connections in TIME_WAIT.
    if (!ec)
      acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec)
      acceptor_.bind(ep, ec);
    if (!ec)
      acceptor_.listen(net::socket_base::max_listen_connections, ec);
    return ec;
  }

  tcp::endpoint local_endpoint() const {
    boost::system::error_code ec;
    return acceptor_.local_endpoint(ec);
  }

  void do_accept() {
    acceptor_.async_accept([self = shared_from_this()](auto ec, auto socket) {
      self->on_accept(ec, std::move(socket));
    });
  }

private:
  void on_accept(boost::system::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted)
      return;
    if (ec) {
      // Typically EMFILE: pause instead of spinning, then accept again.
      state_.log("accept failed: " + ec.message());
      retry_timer_.expires_after(std::chrono::milliseconds{50});
      retry_timer_.async_wait([self = shared_from_this()](auto) {
        self->do_accept();
      });
      return;
    }
    state_.accepted();
    // Streamed chunks must leave at once, like a real server's.
    boost::system::error_code opt_ec;
    socket.set_option(tcp::no_delay(true), opt_ec);
    if (tls_)
      start_tls_connection(std::move(socket), *tls_, state_);
    else
      start_http_connection(boost::beast::tcp_stream{std::move(socket)},
                            state_);
    do_accept();
  }

  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  mock_state& state_;
  std::shared_ptr<net::ssl::context> tls_; // null: plain TCP
};

int run(const options& opts) {
  // Declared before the io_context: connections still queued in it when it
  // is destroyed release their slots in the state.
  mock_state state{opts};
  std::shared_ptr<net::ssl::context> tls;
  if (opts.tls()) {
    std::string error;
    tls = load_tls_context(opts, error);
    if (!tls) {
      std::cerr << "parley-mock-llm: " << error << std::endl;
      return 1;
    }
  }
  net::io_context ioc{1};
  boost::system::error_code ec;
  tcp::resolver resolver{ioc};
  auto results = resolver.resolve(opts.host, std::to_string(opts.port),
                                  tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    std::cerr << "parley-mock-llm: cannot resolve " << opts.host << ": "
              << ec.message() << std::endl;
    return 1;
  }
  auto acceptor = std::make_shared<listener>(ioc, state, std::move(tls));
  auto ep = results.begin()->endpoint();
  if (auto err = acceptor->open(ep)) {
    std::cerr << "parley-mock-llm: cannot listen on " << opts.host << ":"
              << opts.port << ": " << err.message() << std::endl;
    return 1;
  }
  net::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&ioc](auto, int) { ioc.stop(); });
  auto bound = acceptor->local_endpoint();
  auto address = bound.address().to_string();
  if (bound.address().is_v6())
    address = "[" + address + "]";
  acceptor->do_accept();
  // The one line tests wait for; std::endl flushes it through the pipe.
  std::cout << "mock llm listening on " << address << ":" << bound.port()
            << std::endl;
  ioc.run();
  return 0;
}

} // namespace

} // namespace parley::mock_llm

int main(int argc, char** argv) {
  // Writes to a peer that left must fail with EPIPE, not kill the mock.
  std::signal(SIGPIPE, SIG_IGN);
  auto parsed = parley::mock_llm::parse_options(argc, argv);
  if (!parsed.opts) {
    (parsed.exit_code == 0 ? std::cout : std::cerr)
      << parsed.message << std::endl;
    return parsed.exit_code;
  }
  try {
    return parley::mock_llm::run(*parsed.opts);
  } catch (const std::exception& ex) {
    std::cerr << "parley-mock-llm: " << ex.what() << std::endl;
    return 1;
  }
}
