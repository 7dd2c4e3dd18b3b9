#include "tools/loadgen/http_driver.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include "tools/loadgen/frame_scanner.hpp"
#include "tools/loadgen/io_worker.hpp"
#include "tools/loadgen/proc_status.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace parley::loadgen {

namespace {

using clock_type = std::chrono::steady_clock;

// Bigger than any answer of /api/chat/send; a bigger one is a bad response.
constexpr std::uint64_t max_response_bytes = 1024 * 1024;

class http_worker;

/// One keep-alive connection posting chat messages, one request in
/// flight: its first request creates a session (as a customer's first
/// message does), the next ones write to it with its resume token. A
/// response without keep-alive makes it connect again. It stops sending
/// once --duration is over. Runs on its worker's thread; the worker owns it
/// and outlives every handler.
class http_connection {
public:
  http_connection(http_worker& worker, std::uint64_t index);

  void start();

  void check(clock_type::time_point now);

private:
  enum class phase { pending, connecting, requesting, finished };

  void connect();
  void on_connect(boost::system::error_code ec);
  void send();
  void on_write(boost::system::error_code ec);
  void on_read(boost::system::error_code ec);
  void learn_session(std::string_view body);
  void finish();

  http_worker& worker_;
  run_stats& stats_;
  const options& opts_;
  std::uint64_t index_;
  client_socket socket_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::string body_head_;       // {"message":…,"user_email":…
  std::string session_members_; // ,"session_id":N,"resume_token":"…"
  phase phase_ = phase::pending;
  clock_type::time_point sent_at_;
  clock_type::time_point deadline_;
  std::uint64_t requests_ = 0; // sent so far, warm-up included
};

class http_worker : public io_worker {
public:
  http_worker(const options& opts, const net_setup& setup,
              clock_type::time_point start,
              std::vector<std::uint64_t> indexes)
    : io_worker(opts, setup, start, std::move(indexes)) {
    connections_.reserve(connection_count());
    for (std::size_t i = 0; i < connection_count(); ++i)
      connections_.push_back(
        std::make_unique<http_connection>(*this, global_index(i)));
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
  std::vector<std::unique_ptr<http_connection>> connections_;
};

http_connection::http_connection(http_worker& worker, std::uint64_t index)
  : worker_(worker),
    stats_(worker.stats()),
    opts_(worker.opts()),
    index_(index),
    socket_(worker.ioc().get_executor()) {
  // One customer per connection.
  body_head_ = R"({"message":)" + nlohmann::json(opts_.text).dump()
               + R"(,"user_email":"loadgen-)" + std::to_string(index)
               + R"(@example.com")";
  req_.method(http::verb::post);
  req_.target("/api/chat/send");
  req_.version(11);
  req_.set(http::field::host, worker.setup().host_header());
  req_.set(http::field::user_agent, "parley-loadgen");
  req_.set(http::field::content_type, "application/json");
  req_.keep_alive(true);
}

void http_connection::start() {
  connect();
}

void http_connection::connect() {
  phase_ = phase::connecting;
  deadline_ = clock_type::now() + std::chrono::milliseconds{opts_.timeout_ms};
  boost::system::error_code ignored;
  socket_.close(ignored); // a reconnect: the server ended the last one
  buffer_.consume(buffer_.size());
  if (worker_.setup().open(socket_, index_)) {
    stats_.connection_failed(error_kind::connect_failed);
    finish();
    return;
  }
  socket_.async_connect(worker_.setup().server(),
                        [this](boost::system::error_code ec) {
                          on_connect(ec);
                        });
}

void http_connection::on_connect(boost::system::error_code ec) {
  if (phase_ != phase::connecting)
    return;
  if (ec) {
    stats_.connection_failed(error_kind::connect_failed);
    finish();
    return;
  }
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  stats_.connection_opened();
  send();
}

void http_connection::send() {
  auto now = clock_type::now();
  if (!worker_.may_send(now)) {
    finish();
    return;
  }
  auto& body = req_.body();
  body.assign(body_head_);
  body.append(session_members_);
  body.push_back('}');
  req_.prepare_payload();
  parser_.emplace();
  parser_->body_limit(max_response_bytes);
  phase_ = phase::requesting;
  sent_at_ = now;
  deadline_ = now + std::chrono::milliseconds{opts_.timeout_ms};
  stats_.message_sent(requests_++ < opts_.warmup_messages, now);
  http::async_write(socket_, req_,
                    [this](boost::system::error_code ec, std::size_t) {
                      on_write(ec);
                    });
}

void http_connection::on_write(boost::system::error_code ec) {
  if (phase_ != phase::requesting)
    return;
  if (ec) {
    stats_.error(error_kind::closed_early);
    finish();
    return;
  }
  http::async_read(socket_, buffer_, *parser_,
                   [this](boost::system::error_code ec, std::size_t) {
                     on_read(ec);
                   });
}

void http_connection::on_read(boost::system::error_code ec) {
  if (phase_ != phase::requesting)
    return;
  auto now = clock_type::now();
  if (ec) {
    stats_.error(ec == http::error::end_of_stream
                     || ec == net::error::eof
                     || ec == net::error::connection_reset
                   ? error_kind::closed_early
                   : error_kind::bad_frame);
    finish();
    return;
  }
  const auto& res = parser_->get();
  auto status = res.result_int();
  bool warmup = requests_ <= opts_.warmup_messages;
  stats_.http_response(status, warmup, now - sent_at_, now);
  if (status == 201 && session_members_.empty())
    learn_session(res.body());
  if (!res.keep_alive()) {
    if (worker_.may_send(now))
      connect();
    else
      finish();
    return;
  }
  send();
}

void http_connection::learn_session(std::string_view body) {
  json_kind kind;
  auto data = find_member(body, "data", &kind);
  if (!data || kind != json_kind::object)
    return;
  auto id = find_member(*data, "session_id", &kind);
  if (!id || kind != json_kind::number)
    return;
  auto token = find_member(*data, "resume_token", &kind);
  if (!token || kind != json_kind::string)
    return;
  session_members_ = ",\"session_id\":" + std::string{*id}
                     + ",\"resume_token\":\"" + std::string{*token} + "\"";
}

void http_connection::check(clock_type::time_point now) {
  if ((phase_ == phase::connecting || phase_ == phase::requesting)
      && now >= deadline_) {
    stats_.error(phase_ == phase::connecting ? error_kind::connect_failed
                                             : error_kind::timeout);
    finish();
  }
}

void http_connection::finish() {
  if (phase_ == phase::finished)
    return;
  phase_ = phase::finished;
  boost::system::error_code ignored;
  socket_.shutdown(net::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  worker_.connection_finished();
}

} // namespace

run_summary run_http(const options& opts, const net_setup& setup) {
  auto shares = io_worker::deal(opts.concurrency, opts.threads);
  run_summary summary;
  if (opts.server_pid)
    summary.rss_before_kib = read_vm_rss_kib(*opts.server_pid);
  auto start = clock_type::now();
  std::vector<std::unique_ptr<http_worker>> workers;
  for (auto& share : shares)
    workers.push_back(
      std::make_unique<http_worker>(opts, setup, start, std::move(share)));
  std::vector<std::thread> threads;
  for (auto& w : workers)
    threads.emplace_back([&w] { w->run(); });
  for (auto& t : threads)
    t.join();
  summary.wall_seconds =
    std::chrono::duration<double>(clock_type::now() - start).count();
  if (opts.server_pid)
    summary.rss_after_kib = read_vm_rss_kib(*opts.server_pid);
  for (auto& w : workers)
    summary.stats.merge(w->stats());
  return summary;
}

} // namespace parley::loadgen
