#include "tools/mock_llm/ws_connection.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "tools/mock_llm/agent_mode.hpp"
#include "tools/mock_llm/wire.hpp"

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using json = nlohmann::json;

namespace parley::mock_llm {

namespace {

// Enough for any sane test; beyond it the client is broken or hostile.
constexpr std::size_t max_in_flight = 1000;
constexpr std::size_t max_queued_frames = 10000;
constexpr std::size_t max_frame_bytes = 16 * 1024 * 1024;

/// One connection of the custom WebSocket protocol. Several chat requests
/// may be in flight at once, each with its own timer; all frames go through
/// one queue with one async_write in flight. The mock runs a single io
/// thread, which serializes the handlers without a strand. One class for
/// plain TCP (NextLayer = tcp_stream) and TLS (ssl_stream<tcp_stream>).
template <class NextLayer>
class ws_connection
  : public std::enable_shared_from_this<ws_connection<NextLayer>> {
public:
  using request = beast::http::request<beast::http::string_body>;

  ws_connection(NextLayer&& stream, mock_state& state, connection_slot slot)
    : ws_(std::move(stream)), state_(state), slot_(std::move(slot)) {
    // nop
  }

  void run(request req) {
    websocket::stream_base::timeout timeouts;
    timeouts.handshake_timeout = std::chrono::seconds{10};
    auto idle = state_.opts().idle_timeout_ms;
    timeouts.idle_timeout = idle == 0 ? websocket::stream_base::none()
                                      : std::chrono::milliseconds{idle};
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) {
        res.set(beast::http::field::server, "parley-mock-llm");
      }));
    ws_.read_message_max(max_frame_bytes);
    ws_.async_accept(req, beast::bind_front_handler(&ws_connection::on_accept,
                                                    self()));
  }

private:
  std::shared_ptr<ws_connection> self() {
    return this->shared_from_this();
  }

  /// A chat request in flight.
  struct reply {
    json id;
    std::string model;
    request_plan plan;
    bool stream = false;
    bool tool_call = false;
    std::string call_id;             // with tool_call
    std::string tool_name;
    std::string tool_args;
    std::string text;                // the whole reply
    std::vector<std::string> chunks; // its deltas
    std::size_t sent = 0;            // deltas sent so far
    std::uint64_t prompt_tokens = 0;
    std::unique_ptr<net::steady_timer> timer;
  };

  void on_accept(beast::error_code ec) {
    if (ec) {
      state_.log("websocket handshake failed: " + ec.message());
      return;
    }
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&ws_connection::on_read,
                                                      self()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      shut_down(ec == websocket::error::closed ? "closed by the client"
                                               : "read failed");
      return;
    }
    auto text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    handle(text);
    if (!finished_)
      do_read();
  }

  void handle(const std::string& text) {
    auto req = parse_ws_request(text);
    if (!req.error.empty()) {
      state_.log(req.error);
      enqueue(ws_error_frame(req.id, req.error));
      return;
    }
    if (req.cancel) {
      cancel(req.id);
      return;
    }
    if (req.health_check) {
      // Answered at once, latency or not: it probes the connection.
      state_.health_check();
      ws_final pong;
      pong.id = req.id;
      pong.text = "pong";
      pong.model = req.model;
      pong.metadata = {{"health_check", true}};
      enqueue(ws_final_frame(pong, state_.opts().legacy_fields));
      return;
    }
    if (in_flight_.size() >= max_in_flight) {
      enqueue(ws_error_frame(req.id, "too many requests in flight"));
      return;
    }
    start(std::move(req));
  }

  void start(ws_request req) {
    const auto& opts = state_.opts();
    reply r;
    r.plan = state_.plan_request(req.body);
    r.id = req.id;
    r.model = req.model;
    r.stream = req.stream;
    r.prompt_tokens = count_tokens(req.message);
    if (opts.agent) {
      auto answer = agent_answer(req.message, req.tools);
      if (answer.call) {
        r.tool_call = true;
        r.call_id = "call_" + std::to_string(r.plan.number);
        r.tool_name = std::move(answer.call->name);
        r.tool_args = std::move(answer.call->arguments);
      }
      r.text = std::move(answer.text);
      state_.log("agent: " + (r.tool_call ? "calls " + r.tool_name + " "
                                              + r.tool_args
                                          : "answers `" + r.text + "`"));
    } else if (!opts.tool_call.empty() && req.tool_results.is_null()) {
      r.tool_call = true;
      r.call_id = "call_mock_" + std::to_string(r.plan.number);
      r.tool_name = opts.tool_call;
      r.tool_args = opts.tool_args;
    } else {
      std::optional<std::string> tool_result;
      if (!req.tool_results.is_null())
        tool_result = tool_results_text(req.tool_results);
      r.text = reply_text(opts, req.message, tool_result);
    }
    if (r.plan.oversized != 0) {
      // One frame, the final one: the size is the point, not the stream.
      r.tool_call = false;
      r.text.assign(r.plan.oversized, 'x');
      r.stream = false;
    }
    if (!r.tool_call)
      r.chunks = split_chunks(r.text, opts.chunks);
    r.timer = std::make_unique<net::steady_timer>(ws_.get_executor());
    state_.log("websocket request #" + std::to_string(r.plan.number) + " id "
               + dump(r.id));
    auto key = next_key_++;
    in_flight_.emplace(key, std::move(r));
    state_.in_flight(in_flight_.size());
    schedule(key, opts.latency_ms);
  }

  void schedule(std::uint64_t key, std::uint32_t delay_ms) {
    // No delay: no timer either. Arming one per frame was a third of the
    // mock's time in Parley's benchmark, where it stands for an LLM on
    // another machine and must not slow the measurement.
    if (delay_ms == 0) {
      net::post(ws_.get_executor(), [self = self(), key] { self->step(key); });
      return;
    }
    auto& timer = *in_flight_.at(key).timer;
    timer.expires_after(std::chrono::milliseconds{delay_ms});
    timer.async_wait([self = self(), key](beast::error_code ec) {
      if (!ec)
        self->step(key);
    });
  }

  // The next thing a reply does: an error, a delta, the final frame, or the
  // drop that --close-mid-stream asked for.
  void step(std::uint64_t key) {
    auto it = in_flight_.find(key);
    // A drop or a cut cancels what is scheduled, timers and posts alike.
    if (finished_ || drop_after_flush_ || it == in_flight_.end())
      return;
    auto& r = it->second;
    const auto& opts = state_.opts();
    if (r.plan.status != 0) {
      enqueue(ws_error_frame(r.id,
                             "mock status " + std::to_string(r.plan.status),
                             r.plan.status));
      in_flight_.erase(it);
      return;
    }
    if (r.plan.fail) {
      enqueue(ws_error_frame(r.id, "mock failure"));
      in_flight_.erase(it);
      return;
    }
    if (r.plan.garbage) {
      for (auto& frame : ws_garbage_frames(r.id))
        enqueue(std::move(frame));
      in_flight_.erase(it);
      return;
    }
    auto limit = opts.close_mid_stream.value_or(0);
    auto streaming = r.stream && !r.tool_call && !r.chunks.empty();
    if (r.plan.truncate) {
      if (streaming)
        return truncate(ws_delta_frame(r.id, r.chunks.front()));
      return truncate(ws_final_frame(final_of(r, "completed"),
                                     opts.legacy_fields));
    }
    if (r.plan.drop && (!streaming || r.sent >= limit))
      return drop();
    if (streaming && r.sent < r.chunks.size()) {
      enqueue(ws_delta_frame(r.id, r.chunks[r.sent++]));
      if (r.sent < r.chunks.size()) {
        if (r.plan.drop && r.sent >= limit)
          return drop();
        schedule(key, opts.chunk_delay_ms);
        return;
      }
      if (r.plan.drop)
        return drop();
    }
    finish(it, "completed");
  }

  /// The final frame of `r` (text replies only).
  static ws_final final_of(const reply& r, const std::string& finish_reason) {
    ws_final out;
    out.id = r.id;
    out.model = r.model;
    out.finish_reason = finish_reason;
    out.text = r.text;
    out.tokens_used = r.prompt_tokens + count_tokens(out.text);
    return out;
  }

  void finish(typename std::map<std::uint64_t, reply>::iterator it,
              const std::string& finish_reason) {
    auto& r = it->second;
    ws_final out;
    out.id = r.id;
    out.model = r.model;
    out.finish_reason = finish_reason;
    if (finish_reason == "cancelled") {
      for (std::size_t i = 0; i < r.sent; ++i)
        out.text += r.chunks[i];
    } else if (r.tool_call) {
      out.finish_reason = "tool_calls";
      out.metadata["tool_calls"] = json::array(
        {{{"id", r.call_id}, {"name", r.tool_name}, {"arguments", r.tool_args}}});
      state_.tool_call_emitted(r.tool_name);
    } else {
      out.text = r.text;
    }
    out.tokens_used = r.prompt_tokens
                      + (r.tool_call ? 1 : count_tokens(out.text));
    enqueue(ws_final_frame(out, state_.opts().legacy_fields));
    in_flight_.erase(it);
  }

  void cancel(const json& id) {
    for (auto it = in_flight_.begin(); it != in_flight_.end(); ++it) {
      if (it->second.id == id) {
        state_.cancelled();
        state_.log("websocket request id " + dump(id) + " cancelled");
        finish(it, "cancelled");
        return;
      }
    }
    // Already answered (or never asked): nothing left to stop.
    state_.log("cancel of unknown id " + dump(id) + " ignored");
  }

  void enqueue(std::string frame) {
    if (finished_ || drop_after_flush_)
      return;
    if (queue_.size() >= max_queued_frames) {
      // The client stopped reading; nothing would get through anyway.
      close_socket();
      shut_down("outgoing queue full");
      return;
    }
    queue_.push_back(std::move(frame));
    if (!writing_)
      do_write();
  }

  void do_write() {
    if (queue_.empty()) {
      writing_ = false;
      if (!truncated_.empty())
        return write_truncated();
      if (drop_after_flush_) {
        close_socket();
        shut_down("dropped (--close-mid-stream)");
      }
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(queue_.front()),
                    beast::bind_front_handler(&ws_connection::on_write,
                                              self()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) {
      writing_ = false;
      queue_.clear();
      shut_down("write failed");
      return;
    }
    queue_.pop_front();
    do_write();
  }

  // --close-mid-stream: what is queued still goes out (the deltas the client
  // is meant to see), then the TCP connection ends without a close frame.
  void drop() {
    state_.dropped();
    state_.log("dropping the connection (--close-mid-stream)");
    drop_after_flush_ = true;
    for (auto& [key, r] : in_flight_)
      r.timer->cancel();
    if (!writing_)
      do_write();
  }

  // --truncate-frame: once the queue is out, `frame`'s header (announcing
  // all of it) and the first half of its payload go straight to the
  // stream under the WebSocket, then the TCP connection ends: the client
  // sees a frame cut off in the middle.
  void truncate(std::string frame) {
    if (drop_after_flush_ || finished_)
      return; // already cutting (or dropping) this connection
    state_.dropped();
    state_.log("cutting a frame of " + std::to_string(frame.size())
               + " bytes in half (--truncate-frame)");
    truncated_ = ws_text_frame_header(frame.size())
                 + frame.substr(0, frame.size() / 2);
    drop_after_flush_ = true;
    for (auto& [key, r] : in_flight_)
      r.timer->cancel();
    if (!writing_)
      write_truncated();
  }

  void write_truncated() {
    writing_ = true;
    net::async_write(ws_.next_layer(), net::buffer(truncated_),
                     [self = self()](beast::error_code, std::size_t) {
                       self->writing_ = false;
                       self->close_socket();
                       self->shut_down("frame cut (--truncate-frame)");
                     });
  }

  void close_socket() {
    beast::error_code ignored;
    auto& sock = beast::get_lowest_layer(ws_).socket();
    sock.shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
  }

  void shut_down(const char* why) {
    if (finished_)
      return;
    finished_ = true;
    state_.log(std::string{"websocket connection ends: "} + why);
    // Destroying the timers cancels their waits.
    in_flight_.clear();
  }

  websocket::stream<NextLayer> ws_;
  beast::flat_buffer buffer_;
  mock_state& state_;
  connection_slot slot_;
  std::map<std::uint64_t, reply> in_flight_; // by arrival, for cancel
  std::uint64_t next_key_ = 0;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool drop_after_flush_ = false;
  std::string truncated_; // --truncate-frame: the bytes still to write
  bool finished_ = false;
};

} // namespace

void start_ws_connection(
  beast::tcp_stream&& stream, mock_state& state, connection_slot slot,
  beast::http::request<beast::http::string_body>&& req) {
  std::make_shared<ws_connection<beast::tcp_stream>>(std::move(stream), state,
                                                     std::move(slot))
    ->run(std::move(req));
}

void start_ws_connection(
  beast::ssl_stream<beast::tcp_stream>&& stream, mock_state& state,
  connection_slot slot,
  beast::http::request<beast::http::string_body>&& req) {
  std::make_shared<ws_connection<beast::ssl_stream<beast::tcp_stream>>>(
    std::move(stream), state, std::move(slot))
    ->run(std::move(req));
}

} // namespace parley::mock_llm
