// parley-bench-frames: a WebSocket server that speaks Parley's chat
// protocol (docs/protocol.md) with nothing behind it (tools/bench): a
// `session` frame on connect, and for each `message` frame an `ack`, a
// `typing` and a `message` frame shaped as Parley's, with a canned answer.
// No database, no actors, no agent: what is left is the protocol's own
// cost (JSON in, three JSON frames out), the practical limit for Parley.

#include <deque>
#include <string_view>

#include <nlohmann/json.hpp>

#include "bench/peers/peer_server.hpp"

namespace parley::bench {
namespace {

using json = nlohmann::json;

// The rules agent's answer to "hello" (config/agent.json), so that the
// frames are as long as Parley's.
constexpr std::string_view greeting_reply =
  "Hello! I'm the Northwind Supply assistant. I can check an order's "
  "status, help with a refund, answer questions about returns, shipping, "
  "payments or your account, or put you in touch with our team. What can I "
  "do for you?";

// A resume token is 32 random bytes in hex (actors/resume_token.cpp).
constexpr std::string_view resume_token =
  "3f1c9a7e5b2d4086a1e9c7b5d3f10e2a4c6b8d0f1e3a5c7e9b1d3f5a7c9e0b2d";

constexpr std::string_view created_at = "2025-01-01T12:00:00.000Z";

class frames_session : public std::enable_shared_from_this<frames_session> {
public:
  explicit frames_session(tcp::socket&& socket) : ws_(std::move(socket)) {
    // nop
  }

  void run() {
    ws_.async_accept([self = shared_from_this()](beast::error_code ec) {
      if (!ec)
        self->on_accept();
    });
  }

private:
  void on_accept() {
    static std::int64_t next_session_id = 1; // one thread
    send(json{{"type", "session"},
              {"seq", ++seq_},
              {"session_id", next_session_id++},
              {"resume_token", resume_token},
              {"resumed", false},
              {"status", "active"}}
           .dump());
    do_read();
  }

  void do_read() {
    ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec,
                                                    std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec)
      return;
    auto data = in_.cdata();
    std::string_view text{static_cast<const char*>(data.data()), data.size()};
    // Parsed as Parley parses it (transport/protocol.cpp): a JSON object
    // with a type, an optional id and the text.
    auto frame = json::parse(text, nullptr, false);
    in_.consume(in_.size());
    if (frame.is_object() && frame.value("type", "") == "message") {
      json id = nullptr;
      if (auto it = frame.find("id"); it != frame.end())
        id = it->is_string() ? *it : json(it->dump());
      answer(std::move(id));
    }
    do_read();
  }

  void answer(json client_id) {
    auto message_id = ++last_row_id_;
    auto reply_id = ++last_row_id_;
    send(json{{"type", "ack"},
              {"seq", ++seq_},
              {"id", std::move(client_id)},
              {"message_id", message_id}}
           .dump());
    send(json{{"type", "typing"}, {"seq", ++seq_}, {"reply_to", message_id}}
           .dump());
    send(json{{"type", "message"},
              {"seq", ++seq_},
              {"id", reply_id},
              {"reply_to", message_id},
              {"role", "assistant"},
              {"text", greeting_reply},
              {"source", "fallback"},
              {"tokens_used", 0},
              {"response_time", 0.0},
              {"created_at", created_at},
              {"finish_reason", "completed"}}
           .dump());
  }

  // One write at a time on a WebSocket stream: the rest wait here.
  void send(std::string frame) {
    out_.push_back(std::move(frame));
    if (out_.size() == 1)
      do_write();
  }

  void do_write() {
    ws_.text(true);
    ws_.async_write(net::buffer(out_.front()),
                    [self = shared_from_this()](beast::error_code ec,
                                                std::size_t) {
                      self->on_write(ec);
                    });
  }

  void on_write(beast::error_code ec) {
    if (ec)
      return;
    out_.pop_front();
    if (!out_.empty())
      do_write();
  }

  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer in_;
  std::deque<std::string> out_;
  std::int64_t seq_ = 0;
  std::int64_t last_row_id_ = 0;
};

} // namespace
} // namespace parley::bench

int main(int argc, char** argv) {
  return parley::bench::serve<parley::bench::frames_session>(
    "parley-bench-frames", argc, argv);
}
