// parley-bench-echo: a WebSocket server that sends every frame back and
// does nothing else (tools/bench). Driven with `parley-loadgen --expect
// echo`, it is the upper bound of one message exchange on this machine.

#include "bench/peers/peer_server.hpp"

namespace parley::bench {
namespace {

class echo_session : public std::enable_shared_from_this<echo_session> {
public:
  explicit echo_session(tcp::socket&& socket) : ws_(std::move(socket)) {
    // nop
  }

  void run() {
    ws_.async_accept([self = shared_from_this()](beast::error_code ec) {
      if (!ec)
        self->do_read();
    });
  }

private:
  void do_read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec,
                                                        std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec)
      return; // closed (or broken): the session ends with its last handler
    ws_.text(ws_.got_text());
    ws_.async_write(buffer_.data(),
                    [self = shared_from_this()](beast::error_code ec,
                                                std::size_t) {
                      self->on_write(ec);
                    });
  }

  void on_write(beast::error_code ec) {
    if (ec)
      return;
    buffer_.consume(buffer_.size());
    do_read();
  }

  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
};

} // namespace
} // namespace parley::bench

int main(int argc, char** argv) {
  return parley::bench::serve<parley::bench::echo_session>(
    "parley-bench-echo", argc, argv);
}
