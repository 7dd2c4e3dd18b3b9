#include "tools/loadgen/ws_driver.hpp"

#include <charconv>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "tools/loadgen/exchange_tracker.hpp"
#include "tools/loadgen/frame_scanner.hpp"
#include "tools/loadgen/io_worker.hpp"
#include "tools/loadgen/proc_status.hpp"

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace parley::loadgen {

namespace {

using clock_type = std::chrono::steady_clock;

/// Idle mode: the main thread waits here until every worker's connections
/// have their session (or failed), then reads the server's memory. Used
/// once per connection, never on the chat path.
class settle_gate {
public:
  explicit settle_gate(std::size_t workers) : remaining_(workers) {
    // nop
  }

  void settled() {
    std::lock_guard<std::mutex> guard{mtx_};
    if (remaining_ > 0 && --remaining_ == 0)
      cv_.notify_all();
  }

  void wait() {
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait(guard, [this] { return remaining_ == 0; });
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  std::size_t remaining_;
};

class ws_worker;

/// One WebSocket connection and its session: connect (from its source
/// address), upgrade, wait for the `session` frame, then send its
/// messages, at most --outstanding in flight, and close once the last is
/// answered. In idle mode it holds the session until told to send its one
/// message. Everything runs on its worker's thread; the worker owns it and
/// outlives every handler, which therefore capture `this` alone.
class ws_connection {
public:
  ws_connection(ws_worker& worker, std::uint64_t index);

  void start();

  /// The sweep: ends the connection when its current step is overdue.
  void check(clock_type::time_point now);

  /// Idle mode: sends the one message, if the session is held.
  void chat_once();

private:
  enum class phase {
    pending,     // not started (ramp)
    connecting,
    handshaking,
    greeting,    // waiting for the session frame
    chatting,
    holding,     // idle mode: session open, nothing to send yet
    closing,
    finished,
  };

  void on_connect(boost::system::error_code ec);
  void on_handshake(boost::system::error_code ec);
  void do_read();
  void on_read(boost::system::error_code ec);
  void handle(const server_frame& frame, clock_type::time_point now);
  void next_message(clock_type::time_point now);
  void on_think();
  void pump();
  void on_write(boost::system::error_code ec);
  bool work_done() const noexcept;
  void begin_close();
  void on_lost();
  void finish();
  void settle();

  ws_worker& worker_;
  run_stats& stats_;
  const options& opts_;
  std::uint64_t index_;
  websocket::stream<client_socket> ws_;
  beast::flat_buffer in_; // reused for every frame
  std::string out_;       // the frame being written, reused
  exchange_tracker tracker_;
  // With --think-ms only.
  std::unique_ptr<net::basic_waitable_timer<
    clock_type, net::wait_traits<clock_type>, net::io_context::executor_type>>
    think_timer_;
  phase phase_ = phase::pending;
  clock_type::time_point deadline_;
  std::uint64_t warmup_ = 0;   // the first this many are warm-up
  std::uint64_t total_ = 0;    // messages to send, warm-up included
  std::uint64_t numbered_ = 0; // messages sent (their numbers) so far
  std::uint32_t ready_ = 0;    // to send as soon as the write is free
  std::uint32_t thinking_ = 0; // to send when the think timer fires
  bool writing_ = false;
  bool reading_ = false;
  bool refused_ = false; // an error frame about the connection came
  bool settled_ = false; // idle mode: told the worker
};

class ws_worker : public io_worker {
public:
  ws_worker(const options& opts, const net_setup& setup,
            clock_type::time_point start, std::vector<std::uint64_t> indexes,
            settle_gate* gate)
    : io_worker(opts, setup, start, std::move(indexes)), gate_(gate) {
    // The frame is the same but for the id: built once around it.
    frame_head_ = R"({"type":"message","id":")";
    frame_tail_ = R"(","text":)" + nlohmann::json(opts.text).dump() + "}";
    connections_.reserve(connection_count());
    for (std::size_t i = 0; i < connection_count(); ++i)
      connections_.push_back(
        std::make_unique<ws_connection>(*this, global_index(i)));
    if (gate_ != nullptr) {
      // The connections may all fail before the main thread says to chat;
      // the io_context must wait for that word anyway.
      guard_.emplace(ioc().get_executor());
      unsettled_ = connection_count();
      if (unsettled_ == 0)
        gate_->settled();
    }
  }

  bool idle() const noexcept {
    return gate_ != nullptr;
  }

  const std::string& frame_head() const noexcept {
    return frame_head_;
  }

  const std::string& frame_tail() const noexcept {
    return frame_tail_;
  }

  /// Idle mode: a connection has its session or failed.
  void connection_settled() {
    if (unsettled_ > 0 && --unsettled_ == 0)
      gate_->settled();
  }

  /// Idle mode, from the main thread: every held session sends its one
  /// message now.
  void chat() {
    net::post(ioc(), [this] {
      for (auto& c : connections_)
        c->chat_once();
      guard_.reset();
    });
  }

protected:
  void start_connection(std::size_t slot) override {
    connections_[slot]->start();
  }

  void sweep(clock_type::time_point now) override {
    for (auto& c : connections_)
      c->check(now);
  }

private:
  settle_gate* gate_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>>
    guard_;
  std::size_t unsettled_ = 0;
  std::string frame_head_;
  std::string frame_tail_;
  std::vector<std::unique_ptr<ws_connection>> connections_;
};

ws_connection::ws_connection(ws_worker& worker, std::uint64_t index)
  : worker_(worker),
    stats_(worker.stats()),
    opts_(worker.opts()),
    index_(index),
    ws_(worker.ioc().get_executor()),
    tracker_(opts_.outstanding, opts_.expect) {
  // Idle mode measures its one message whatever --warmup-messages says.
  warmup_ = worker.idle() ? 0 : opts_.warmup_messages;
  total_ = worker.idle() ? 1 : warmup_ + opts_.messages;
}

void ws_connection::start() {
  phase_ = phase::connecting;
  deadline_ = clock_type::now() + std::chrono::milliseconds{opts_.timeout_ms};
  auto& socket = ws_.next_layer();
  if (worker_.setup().open(socket, index_)) {
    stats_.connection_failed(error_kind::connect_failed);
    finish();
    return;
  }
  socket.async_connect(worker_.setup().server(),
                       [this](boost::system::error_code ec) {
                         on_connect(ec);
                       });
}

void ws_connection::on_connect(boost::system::error_code ec) {
  if (phase_ != phase::connecting)
    return; // timed out meanwhile
  if (ec) {
    stats_.connection_failed(error_kind::connect_failed);
    finish();
    return;
  }
  boost::system::error_code ignored;
  ws_.next_layer().set_option(tcp::no_delay(true), ignored);
  // Client frames are masked through this buffer; ours are small, and
  // tens of thousands of connections each keep one.
  ws_.write_buffer_bytes(1024);
  phase_ = phase::handshaking;
  deadline_ = clock_type::now() + std::chrono::milliseconds{opts_.timeout_ms};
  ws_.async_handshake(worker_.setup().host_header(), opts_.path,
                      [this](boost::system::error_code ec) {
                        on_handshake(ec);
                      });
}

void ws_connection::on_handshake(boost::system::error_code ec) {
  if (phase_ != phase::handshaking)
    return;
  if (ec) {
    stats_.connection_failed(error_kind::handshake_failed);
    finish();
    return;
  }
  stats_.connection_opened();
  if (opts_.expect == expect_mode::echo) {
    // An echo server greets with nothing: chat at once.
    phase_ = phase::chatting;
    ready_ = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(opts_.outstanding, total_));
    pump();
  } else {
    phase_ = phase::greeting;
    deadline_ = clock_type::now() + std::chrono::milliseconds{opts_.timeout_ms};
  }
  do_read();
}

void ws_connection::do_read() {
  reading_ = true;
  ws_.async_read(in_, [this](boost::system::error_code ec, std::size_t) {
    on_read(ec);
  });
}

void ws_connection::on_read(boost::system::error_code ec) {
  reading_ = false;
  if (phase_ == phase::finished)
    return;
  if (ec) {
    on_lost();
    return;
  }
  auto now = clock_type::now();
  stats_.frame_received();
  auto data = in_.cdata();
  std::string_view text{static_cast<const char*>(data.data()), data.size()};
  server_frame frame;
  if (scan_server_frame(text, frame))
    handle(frame, now);
  else
    stats_.error(error_kind::bad_frame);
  in_.consume(in_.size());
  if (phase_ != phase::greeting && phase_ != phase::chatting
      && phase_ != phase::holding)
    return;
  if (phase_ == phase::chatting && work_done()) {
    // No read while closing: the close reads the server's close frame.
    if (!writing_)
      begin_close();
    return;
  }
  do_read();
}

void ws_connection::handle(const server_frame& frame,
                           clock_type::time_point now) {
  if (phase_ == phase::greeting) {
    if (frame.type == "session") {
      stats_.session_started();
      if (worker_.idle()) {
        phase_ = phase::holding;
        settle();
      } else {
        phase_ = phase::chatting;
        ready_ = static_cast<std::uint32_t>(
          std::min<std::uint64_t>(opts_.outstanding, total_));
        pump();
      }
    } else if (frame.type == "error") {
      // server_busy and the like: the server closes next.
      stats_.error_frame(frame.code);
      refused_ = true;
    } else {
      stats_.error(error_kind::bad_frame);
    }
    return;
  }
  auto result = tracker_.on_frame(frame, now);
  switch (result.what) {
    case exchange_tracker::event::answer:
      stats_.answered(result.warmup, result.latency, result.frames, now);
      next_message(now);
      break;
    case exchange_tracker::event::refused:
      stats_.error_frame(result.code);
      next_message(now);
      break;
    case exchange_tracker::event::connection_error:
      stats_.error_frame(result.code);
      refused_ = true;
      break;
    case exchange_tracker::event::unmatched:
      stats_.error(error_kind::bad_frame);
      break;
    default:
      break;
  }
}

void ws_connection::next_message(clock_type::time_point now) {
  if (phase_ != phase::chatting)
    return;
  auto planned = numbered_ + ready_ + thinking_;
  if (planned >= total_)
    return;
  if (!worker_.may_send(now)) {
    total_ = planned; // --duration is over: finish what is under way
    return;
  }
  if (opts_.think_ms == 0) {
    ++ready_;
    pump();
    return;
  }
  ++thinking_;
  if (!think_timer_)
    think_timer_ = std::make_unique<decltype(think_timer_)::element_type>(
      worker_.ioc().get_executor());
  if (thinking_ == 1) {
    think_timer_->expires_after(std::chrono::milliseconds{opts_.think_ms});
    think_timer_->async_wait([this](boost::system::error_code ec) {
      if (!ec)
        on_think();
    });
  }
}

void ws_connection::on_think() {
  if (phase_ != phase::chatting)
    return;
  ready_ += thinking_;
  thinking_ = 0;
  pump();
}

void ws_connection::pump() {
  if (writing_ || ready_ == 0 || phase_ != phase::chatting)
    return;
  --ready_;
  auto number = numbered_++;
  bool warmup = number < warmup_;
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, number).ptr;
  out_.assign(worker_.frame_head());
  out_.append(digits, end);
  out_.append(worker_.frame_tail());
  auto now = clock_type::now();
  tracker_.sent(number, now, warmup);
  stats_.message_sent(warmup, now);
  writing_ = true;
  ws_.async_write(net::buffer(out_),
                  [this](boost::system::error_code ec, std::size_t) {
                    on_write(ec);
                  });
}

void ws_connection::on_write(boost::system::error_code ec) {
  writing_ = false;
  if (phase_ != phase::chatting)
    return;
  if (ec) {
    on_lost();
    return;
  }
  pump();
  if (work_done() && !reading_)
    begin_close();
}

bool ws_connection::work_done() const noexcept {
  return numbered_ >= total_ && ready_ == 0 && thinking_ == 0
         && tracker_.outstanding() == 0;
}

void ws_connection::begin_close() {
  phase_ = phase::closing;
  deadline_ = clock_type::now() + std::chrono::milliseconds{opts_.timeout_ms};
  ws_.async_close(websocket::close_code::normal,
                  [this](boost::system::error_code) { finish(); });
}

void ws_connection::on_lost() {
  // After an error frame about the connection, its close is expected.
  if (!refused_)
    stats_.error(error_kind::closed_early);
  finish();
}

void ws_connection::check(clock_type::time_point now) {
  switch (phase_) {
    case phase::connecting:
      if (now >= deadline_) {
        stats_.connection_failed(error_kind::connect_failed);
        finish();
      }
      break;
    case phase::handshaking:
      if (now >= deadline_) {
        stats_.connection_failed(error_kind::handshake_failed);
        finish();
      }
      break;
    case phase::greeting:
      if (now >= deadline_) {
        stats_.error(error_kind::timeout);
        finish();
      }
      break;
    case phase::chatting:
      if (auto oldest = tracker_.oldest();
          oldest
          && now - *oldest >= std::chrono::milliseconds{opts_.timeout_ms}) {
        // The connection is stuck: every message still waiting counts.
        stats_.error(error_kind::timeout, tracker_.outstanding());
        tracker_.abandon();
        finish();
      }
      break;
    case phase::closing:
      if (now >= deadline_)
        finish();
      break;
    default:
      break;
  }
}

void ws_connection::chat_once() {
  if (phase_ != phase::holding)
    return;
  phase_ = phase::chatting;
  ready_ = 1;
  pump();
}

void ws_connection::finish() {
  if (phase_ == phase::finished)
    return;
  phase_ = phase::finished;
  // Whatever is pending completes with operation_aborted and is ignored.
  boost::system::error_code ignored;
  beast::get_lowest_layer(ws_).close(ignored);
  if (think_timer_)
    think_timer_->cancel();
  settle();
  worker_.connection_finished();
}

void ws_connection::settle() {
  if (settled_ || !worker_.idle())
    return;
  settled_ = true;
  worker_.connection_settled();
}

} // namespace

run_summary run_websocket(const options& opts, const net_setup& setup) {
  bool idle = opts.mode == run_mode::idle;
  auto shares = io_worker::deal(opts.connections, opts.threads);
  std::optional<settle_gate> gate;
  if (idle)
    gate.emplace(shares.size());
  run_summary summary;
  if (opts.server_pid)
    summary.rss_before_kib = read_vm_rss_kib(*opts.server_pid);
  auto start = clock_type::now();
  std::vector<std::unique_ptr<ws_worker>> workers;
  for (auto& share : shares)
    workers.push_back(std::make_unique<ws_worker>(
      opts, setup, start, std::move(share), gate ? &*gate : nullptr));
  std::vector<std::thread> threads;
  for (auto& w : workers)
    threads.emplace_back([&w] { w->run(); });
  if (idle) {
    gate->wait();
    if (opts.server_pid)
      summary.rss_after_kib = read_vm_rss_kib(*opts.server_pid);
    for (auto& w : workers)
      w->chat();
  }
  for (auto& t : threads)
    t.join();
  summary.wall_seconds =
    std::chrono::duration<double>(clock_type::now() - start).count();
  if (!idle && opts.server_pid)
    summary.rss_after_kib = read_vm_rss_kib(*opts.server_pid);
  for (auto& w : workers)
    summary.stats.merge(w->stats());
  return summary;
}

} // namespace parley::loadgen
