// The OpenAI-compatible HTTP client (transport/llm_http_client.hpp) against
// the real mock LLM binary in openai mode (tools/mock_llm/), over real
// sockets. Each client runs on its own io_context thread; drain() drops the
// work guard and the test's handle, and the thread ends exactly when no
// handler is left, which proves that nothing can call back any more (and
// that the client, with its pooled connections, is gone).
//
// The retry of a request on a connection the server closed at the very
// moment it was reused cannot be timed with the mock, so a scripted raw
// server plays that part. Here https runs only against the mock's plain
// port, where its handshake must fail; tests/e2e/llm_tls_e2e_test.cpp
// covers https against the mock serving TLS (verified certificates,
// keep-alive, refusals).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/llm_config.hpp"
#include "tests/support/mock_llm_process.hpp"
#include "tests/support/ws_client.hpp"
#include "transport/llm_http_client.hpp"

using namespace parley::test;
using namespace std::chrono_literals;
using json = nlohmann::json;
using boost::system::error_code;
using parley::llm_endpoint;
namespace net = boost::asio;
namespace llm = parley::llm;

namespace {

// Bounds for waits that normally end in milliseconds: generous, because a
// CI machine busy with two builds can starve the io thread for seconds, and
// a passing test never waits them out.
constexpr auto wait_timeout = 30000ms;

/// What one request's callbacks saw, for the test thread to wait on.
struct recorder {
  std::mutex mtx;
  std::condition_variable cv;
  int statuses = 0;
  int status = 0;
  std::string retry_after;
  std::vector<std::string> events;
  int bodies = 0;
  std::string body;
  int dones = 0;
  error_code ec;
  std::string reason;
  int after_done = 0; // any callback after on_done: a bug

  static llm::http_request_callbacks callbacks(std::shared_ptr<recorder> rec) {
    llm::http_request_callbacks cb;
    cb.on_status = [rec](int status, std::string retry_after) {
      std::lock_guard<std::mutex> guard{rec->mtx};
      rec->after_done += rec->dones;
      ++rec->statuses;
      rec->status = status;
      rec->retry_after = std::move(retry_after);
      rec->cv.notify_all();
    };
    cb.on_event = [rec](std::string data) {
      std::lock_guard<std::mutex> guard{rec->mtx};
      rec->after_done += rec->dones;
      rec->events.push_back(std::move(data));
      rec->cv.notify_all();
    };
    cb.on_body = [rec](std::string body) {
      std::lock_guard<std::mutex> guard{rec->mtx};
      rec->after_done += rec->dones;
      ++rec->bodies;
      rec->body = std::move(body);
      rec->cv.notify_all();
    };
    cb.on_done = [rec](error_code ec, std::string reason) {
      std::lock_guard<std::mutex> guard{rec->mtx};
      rec->after_done += rec->dones;
      ++rec->dones;
      rec->ec = ec;
      rec->reason = std::move(reason);
      rec->cv.notify_all();
    };
    return cb;
  }

  template <class Predicate>
  bool wait(Predicate pred, std::chrono::milliseconds timeout = wait_timeout) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, timeout, [&] { return pred(*this); });
  }

  bool wait_done(std::chrono::milliseconds timeout = wait_timeout) {
    return wait([](auto& r) { return r.dones > 0; }, timeout);
  }

  /// The concatenated delta contents of the chat chunks received.
  std::string text() {
    std::lock_guard<std::mutex> guard{mtx};
    std::string out;
    for (auto& data : events) {
      if (data == "[DONE]")
        continue;
      auto chunk = json::parse(data);
      for (auto& choice : chunk["choices"])
        if (choice["delta"].contains("content")
            && choice["delta"]["content"].is_string())
          out += choice["delta"]["content"].get<std::string>();
    }
    return out;
  }
};

/// One client whose io_context runs on a thread with a work guard until
/// drain().
class running_client {
public:
  running_client(llm_endpoint endpoint, std::string api_key,
                 llm::http_client_options options = {})
    : endpoint_(endpoint) {
    client_ = llm::llm_http_client::make(io_.get_executor(),
                                         std::move(endpoint),
                                         std::move(api_key), options);
    thread_ = std::thread{[this] {
      io_.run();
      done_.set_value();
    }};
  }

  ~running_client() {
    guard_.reset();
    client_.reset();
    if (done_future_.wait_for(0ms) != std::future_status::ready)
      io_.stop();
    thread_.join();
  }

  llm::llm_http_client& client() {
    return *client_;
  }

  /// Starts a streamed chat request; returns its recorder.
  std::shared_ptr<recorder> chat(const std::string& message, bool stream = true,
                                 std::shared_ptr<llm::http_request_handle>* handle
                                 = nullptr) {
    json body{{"model", "test-model"},
              {"messages", json::array({{{"role", "user"},
                                         {"content", message}}})},
              {"stream", stream}};
    auto rec = std::make_shared<recorder>();
    auto h = client_->post_stream(endpoint_.target_with("/chat/completions"),
                                  body.dump(), recorder::callbacks(rec));
    if (handle)
      *handle = h;
    return rec;
  }

  std::shared_ptr<recorder> models() {
    auto rec = std::make_shared<recorder>();
    client_->get(endpoint_.target_with("/models"), recorder::callbacks(rec));
    return rec;
  }

  /// Drops the test's handle and the work guard; true when the io thread
  /// runs out of handlers in time and the client is gone.
  bool drain(std::chrono::milliseconds timeout = wait_timeout) {
    std::weak_ptr<llm::llm_http_client> weak = client_;
    client_.reset();
    guard_.reset();
    return done_future_.wait_for(timeout) == std::future_status::ready
           && weak.expired();
  }

private:
  llm_endpoint endpoint_;
  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> guard_
    = net::make_work_guard(io_);
  std::shared_ptr<llm::llm_http_client> client_;
  std::promise<void> done_;
  std::future<void> done_future_ = done_.get_future();
  std::thread thread_;
};

/// A port on 127.0.0.1 that was free a moment ago.
std::uint16_t unused_port() {
  net::io_context io;
  net::ip::tcp::acceptor acceptor{
    io, net::ip::tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
  return acceptor.local_endpoint().port();
}

llm_endpoint endpoint_at(const std::string& scheme, std::uint16_t port) {
  return parley::parse_llm_endpoint(scheme + "://127.0.0.1:"
                                      + std::to_string(port) + "/v1",
                                    "OPENAI_BASE_URL");
}

/// Polls `pred` until it holds or `timeout` passes: for state only the
/// mock's /stats shows, which it updates asynchronously.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = wait_timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(10ms);
  }
}

class llm_http_client_test : public ::testing::Test {
protected:
  void TearDown() override {
    if (mock_ && mock_->running()) {
      mock_->terminate();
      auto status = mock_->wait_exit(5000ms);
      EXPECT_TRUE(status.is_exit(0)) << status.to_string();
    }
    if (HasFailure() && mock_)
      ADD_FAILURE() << "mock log:\n" << mock_->log();
  }

  void start_mock(std::vector<std::string> args) {
    args.insert(args.end(), {"--protocol", "openai", "--verbose"});
    mock_ = std::make_unique<mock_llm_process>(std::move(args));
    port_ = mock_->port();
  }

  llm_endpoint mock_endpoint() const {
    return endpoint_at("http", port_);
  }

  json stats() {
    auto res = http_get("127.0.0.1", port_, "/stats");
    EXPECT_EQ(res.status, 200u) << res.body;
    return json::parse(res.body);
  }

  std::unique_ptr<mock_llm_process> mock_;
  std::uint16_t port_ = 0;
};

void expect_complete_stream(recorder& rec, const std::string& text) {
  EXPECT_EQ(rec.dones, 1);
  EXPECT_FALSE(rec.ec) << rec.ec.message() << ": " << rec.reason;
  EXPECT_EQ(rec.status, 200);
  EXPECT_EQ(rec.bodies, 0);
  ASSERT_FALSE(rec.events.empty());
  EXPECT_EQ(rec.events.back(), "[DONE]");
  EXPECT_EQ(rec.text(), text);
  EXPECT_EQ(rec.after_done, 0);
}

} // namespace

TEST_F(llm_http_client_test, streamed_events_arrive_in_order_and_end_with_done) {
  start_mock({"--chunks", "3"});
  running_client rc{mock_endpoint(), ""};
  auto rec = rc.chat("hello there");
  ASSERT_TRUE(rec->wait_done());
  // Role chunk, three deltas, finish chunk, usage chunk, [DONE].
  EXPECT_EQ(rec->events.size(), 7u);
  EXPECT_EQ(rec->statuses, 1);
  EXPECT_TRUE(rec->retry_after.empty());
  expect_complete_stream(*rec, "Echo: hello there");
  EXPECT_EQ(json::parse(rec->events[rec->events.size() - 2])["usage"]
              ["completion_tokens"],
            3);
  EXPECT_TRUE(rc.drain());
}

TEST_F(llm_http_client_test, events_are_delivered_as_they_arrive) {
  start_mock({"--chunks", "3", "--chunk-delay-ms", "300"});
  running_client rc{mock_endpoint(), ""};
  auto rec = rc.chat("one two three");
  // The first delta comes long before the end of the stream.
  bool early = false;
  ASSERT_TRUE(rec->wait([&](auto& r) {
    if (r.events.size() >= 2)
      early = r.dones == 0;
    return r.events.size() >= 2 || r.dones > 0;
  }));
  EXPECT_TRUE(early);
  ASSERT_TRUE(rec->wait_done());
  expect_complete_stream(*rec, "Echo: one two three");
  EXPECT_TRUE(rc.drain());
}

TEST_F(llm_http_client_test, sequential_requests_reuse_one_connection) {
  start_mock({"--chunks", "2"});
  running_client rc{mock_endpoint(), ""};
  constexpr int n = 5;
  for (int i = 1; i <= n; ++i) {
    auto rec = rc.chat("question " + std::to_string(i));
    ASSERT_TRUE(rec->wait_done());
    expect_complete_stream(*rec, "Echo: question " + std::to_string(i));
  }
  // A non-streamed completion: one JSON body.
  std::shared_ptr<llm::http_request_handle> handle;
  auto plain = rc.chat("not streamed", false, &handle);
  ASSERT_TRUE(plain->wait_done());
  EXPECT_FALSE(plain->ec) << plain->reason;
  EXPECT_EQ(plain->status, 200);
  EXPECT_TRUE(plain->events.empty());
  ASSERT_EQ(plain->bodies, 1);
  EXPECT_EQ(json::parse(plain->body)["choices"][0]["message"]["content"],
            "Echo: not streamed");
  // Cancelling a finished request changes nothing.
  handle->cancel();
  auto health = rc.models();
  ASSERT_TRUE(health->wait_done());
  EXPECT_FALSE(health->ec) << health->reason;
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["data"][0]["id"], "mock-model");
  auto s = stats();
  EXPECT_EQ(s["connections"], 1) << s;
  EXPECT_EQ(s["open_connections"], 1) << s;
  EXPECT_EQ(s["requests"], n + 1) << s;
  EXPECT_EQ(s["health_checks"], 1) << s;
  EXPECT_EQ(s["cancelled"], 0) << s;
  handle.reset(); // it keeps the client alive
  EXPECT_TRUE(rc.drain());
  EXPECT_EQ(plain->dones, 1);
  EXPECT_EQ(plain->after_done, 0);
}

TEST_F(llm_http_client_test, concurrent_requests_use_separate_connections) {
  start_mock({"--chunks", "4", "--chunk-delay-ms", "50"});
  running_client rc{mock_endpoint(), ""};
  auto a = rc.chat("first");
  auto b = rc.chat("second");
  ASSERT_TRUE(a->wait_done());
  ASSERT_TRUE(b->wait_done());
  expect_complete_stream(*a, "Echo: first");
  expect_complete_stream(*b, "Echo: second");
  auto s = stats();
  EXPECT_EQ(s["connections"], 2) << s;
  EXPECT_EQ(s["requests"], 2) << s;
  EXPECT_TRUE(rc.drain());
}

TEST_F(llm_http_client_test, requests_beyond_the_pool_limit_wait_their_turn) {
  start_mock({"--chunks", "2", "--chunk-delay-ms", "20"});
  llm::http_client_options options;
  options.max_connections = 1;
  running_client rc{mock_endpoint(), "", options};
  std::vector<std::shared_ptr<recorder>> recs;
  for (int i = 0; i < 4; ++i)
    recs.push_back(rc.chat("q" + std::to_string(i)));
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(recs[i]->wait_done());
    expect_complete_stream(*recs[i], "Echo: q" + std::to_string(i));
  }
  EXPECT_EQ(stats()["connections"], 1);
  EXPECT_TRUE(rc.drain());
}

TEST_F(llm_http_client_test, sends_authorization_only_with_a_key) {
  start_mock({});
  {
    running_client rc{mock_endpoint(), "sekrit"};
    auto rec = rc.chat("hi");
    ASSERT_TRUE(rec->wait_done());
    EXPECT_FALSE(rec->ec) << rec->reason;
    auto s = stats();
    EXPECT_EQ(s["authorized"]["present"], true) << s;
    EXPECT_EQ(s["authorized"]["value"], "Bearer sekrit") << s;
    EXPECT_TRUE(rc.drain());
  }
  {
    running_client rc{mock_endpoint(), ""};
    auto rec = rc.models();
    ASSERT_TRUE(rec->wait_done());
    EXPECT_FALSE(rec->ec) << rec->reason;
    auto s = stats();
    EXPECT_EQ(s["authorized"]["present"], false) << s;
    EXPECT_EQ(s["authorized"]["with"], 1) << s;
    EXPECT_EQ(s["authorized"]["without"], 1) << s;
    EXPECT_TRUE(rc.drain());
  }
}

TEST_F(llm_http_client_test, a_wrong_key_gets_401_with_the_error_body) {
  start_mock({"--require-key", "right"});
  running_client rc{mock_endpoint(), "wrong"};
  auto rec = rc.chat("hi");
  ASSERT_TRUE(rec->wait_done());
  EXPECT_FALSE(rec->ec) << rec->reason; // a complete response
  EXPECT_EQ(rec->status, 401);
  EXPECT_EQ(json::parse(rec->body)["error"]["code"], "invalid_api_key");
  EXPECT_TRUE(rc.drain());
}

TEST_F(llm_http_client_test, status_429_with_retry_after_then_success) {
  start_mock({"--status", "429", "--status-count", "1", "--retry-after", "7"});
  running_client rc{mock_endpoint(), ""};
  auto limited = rc.chat("first");
  ASSERT_TRUE(limited->wait_done());
  EXPECT_FALSE(limited->ec) << limited->reason;
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->retry_after, "7");
  EXPECT_TRUE(limited->events.empty());
  ASSERT_EQ(limited->bodies, 1);
  EXPECT_EQ(json::parse(limited->body)["error"]["code"], "rate_limit_exceeded");
  auto ok = rc.chat("second");
  ASSERT_TRUE(ok->wait_done());
  expect_complete_stream(*ok, "Echo: second");
  EXPECT_EQ(stats()["connections"], 1);
  EXPECT_TRUE(rc.drain());
}

TEST_F(llm_http_client_test, a_stream_cut_mid_way_ends_with_an_error) {
  start_mock({"--chunks", "4", "--close-mid-stream", "2", "--close-count",
              "1"});
  running_client rc{mock_endpoint(), ""};
  auto cut = rc.chat("a b c d e f");
  ASSERT_TRUE(cut->wait_done());
  EXPECT_TRUE(cut->ec) << cut->reason;
  EXPECT_EQ(cut->status, 200);
  EXPECT_GE(cut->events.size(), 1u);
  EXPECT_TRUE(cut->events.empty() || cut->events.back() != "[DONE]");
  EXPECT_EQ(cut->dones, 1);
  EXPECT_EQ(cut->after_done, 0);
  // The broken connection is not reused; the next request gets a new one.
  auto ok = rc.chat("again");
  ASSERT_TRUE(ok->wait_done());
  expect_complete_stream(*ok, "Echo: again");
  auto s = stats();
  EXPECT_EQ(s["dropped"], 1) << s;
  EXPECT_EQ(s["connections"], 2) << s;
  EXPECT_TRUE(rc.drain());
}

TEST_F(llm_http_client_test, cancel_mid_stream_closes_the_connection) {
  start_mock({"--chunks", "5", "--chunk-delay-ms", "300"});
  running_client rc{mock_endpoint(), ""};
  std::shared_ptr<llm::http_request_handle> handle;
  auto rec = rc.chat("one two three four five six", true, &handle);
  ASSERT_TRUE(rec->wait([](auto& r) { return r.events.size() >= 2; }));
  handle->cancel();
  handle->cancel();
  ASSERT_TRUE(rec->wait_done());
  EXPECT_EQ(rec->ec, error_code{llm::http_client_errc::cancelled})
    << rec->ec.message();
  EXPECT_TRUE(eventually([&] { return stats()["cancelled"] == 1; }))
    << stats();
  handle.reset(); // it keeps the client alive
  EXPECT_TRUE(rc.drain());
  EXPECT_EQ(rec->dones, 1);
  EXPECT_EQ(rec->after_done, 0);
  EXPECT_NE(rec->events.back(), "[DONE]");
}

TEST_F(llm_http_client_test, cancel_while_waiting_for_a_connection) {
  start_mock({"--chunks", "2", "--chunk-delay-ms", "100"});
  llm::http_client_options options;
  options.max_connections = 1;
  running_client rc{mock_endpoint(), "", options};
  auto first = rc.chat("first");
  std::shared_ptr<llm::http_request_handle> handle;
  auto queued = rc.chat("queued", true, &handle);
  handle->cancel();
  ASSERT_TRUE(queued->wait_done());
  EXPECT_EQ(queued->ec, error_code{llm::http_client_errc::cancelled});
  EXPECT_EQ(queued->statuses, 0);
  ASSERT_TRUE(first->wait_done());
  expect_complete_stream(*first, "Echo: first");
  EXPECT_EQ(stats()["requests"], 1);
  handle.reset(); // it keeps the client alive
  EXPECT_TRUE(rc.drain());
}

TEST_F(llm_http_client_test, close_ends_every_request) {
  start_mock({"--chunks", "5", "--chunk-delay-ms", "300"});
  running_client rc{mock_endpoint(), ""};
  auto a = rc.chat("a b c d e");
  ASSERT_TRUE(a->wait([](auto& r) { return !r.events.empty(); }));
  rc.client().close();
  ASSERT_TRUE(a->wait_done());
  EXPECT_EQ(a->ec, error_code{llm::http_client_errc::cancelled});
  auto late = rc.chat("too late");
  ASSERT_TRUE(late->wait_done());
  EXPECT_EQ(late->ec, error_code{llm::http_client_errc::cancelled});
  EXPECT_EQ(late->statuses, 0);
  EXPECT_TRUE(rc.drain());
}

TEST_F(llm_http_client_test, connection_refused_ends_quickly) {
  running_client rc{endpoint_at("http", unused_port()), "key"};
  auto rec = rc.chat("anyone?");
  ASSERT_TRUE(rec->wait_done(2000ms));
  EXPECT_EQ(rec->ec, error_code{net::error::connection_refused})
    << rec->ec.message();
  EXPECT_EQ(rec->statuses, 0);
  EXPECT_TRUE(rc.drain());
  EXPECT_EQ(rec->after_done, 0);
}

TEST_F(llm_http_client_test, a_slow_server_hits_the_request_timeout) {
  start_mock({"--latency-ms", "3000"});
  llm::http_client_options options;
  options.request_timeout = 300ms;
  running_client rc{mock_endpoint(), "", options};
  auto t0 = std::chrono::steady_clock::now();
  auto rec = rc.chat("slow");
  ASSERT_TRUE(rec->wait_done(2000ms));
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 1500ms);
  EXPECT_EQ(rec->ec, error_code{llm::http_client_errc::request_timeout})
    << rec->ec.message();
  EXPECT_EQ(rec->statuses, 0);
  EXPECT_TRUE(rc.drain());
}

TEST_F(llm_http_client_test, a_connection_the_server_closed_while_idle_is_replaced) {
  start_mock({"--idle-timeout-ms", "100"});
  running_client rc{mock_endpoint(), ""};
  auto first = rc.chat("first");
  ASSERT_TRUE(first->wait_done());
  expect_complete_stream(*first, "Echo: first");
  // The mock drops the idle connection.
  ASSERT_TRUE(eventually([&] { return stats()["open_connections"] == 0; }))
    << stats();
  auto second = rc.chat("second");
  ASSERT_TRUE(second->wait_done());
  expect_complete_stream(*second, "Echo: second");
  auto s = stats();
  EXPECT_EQ(s["connections"], 2) << s;
  EXPECT_EQ(s["requests"], 2) << s;
  EXPECT_TRUE(rc.drain());
}

namespace {

/// Reads one request (headers and Content-Length body) from `sock`; false
/// at EOF.
bool read_request(net::ip::tcp::socket& sock, std::string& buffer) {
  error_code ec;
  auto header_end = net::read_until(sock, net::dynamic_buffer(buffer),
                                    "\r\n\r\n", ec);
  if (ec)
    return false;
  std::size_t length = 0;
  std::smatch match;
  std::string head = buffer.substr(0, header_end);
  static const std::regex content_length{R"(Content-Length: *([0-9]+))",
                                         std::regex::icase};
  if (std::regex_search(head, match, content_length))
    length = std::stoul(match[1].str());
  if (buffer.size() < header_end + length)
    net::read(sock, net::dynamic_buffer(buffer),
              net::transfer_exactly(header_end + length - buffer.size()), ec);
  buffer.erase(0, header_end + length);
  return !ec;
}

void respond(net::ip::tcp::socket& sock) {
  static const std::string response = "HTTP/1.1 200 OK\r\n"
                                      "Content-Type: application/json\r\n"
                                      "Content-Length: 2\r\n\r\n{}";
  error_code ec;
  net::write(sock, net::buffer(response), ec);
}

} // namespace

TEST(llm_http_client, a_request_on_a_connection_closed_under_it_is_retried_once) {
  // The scripted server answers the first request, then closes that
  // connection as the second arrives (after the client's staleness check
  // passed), and answers it on a new connection.
  net::io_context server_io;
  net::ip::tcp::acceptor acceptor{
    server_io, net::ip::tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
  std::atomic<int> requests_seen{0};
  std::thread server{[&] {
    error_code ec;
    net::ip::tcp::socket first{server_io};
    acceptor.accept(first, ec);
    std::string buf;
    if (ec || !read_request(first, buf))
      return;
    ++requests_seen;
    respond(first);
    if (!read_request(first, buf))
      return;
    ++requests_seen;
    first.close(ec); // unanswered
    net::ip::tcp::socket second{server_io};
    acceptor.accept(second, ec);
    std::string buf2;
    if (ec || !read_request(second, buf2))
      return;
    ++requests_seen;
    respond(second);
    read_request(second, buf2); // until the client goes away
  }};
  {
    running_client rc{endpoint_at("http", acceptor.local_endpoint().port()),
                      ""};
    for (int i = 0; i < 2; ++i) {
      auto rec = rc.chat("q", false);
      ASSERT_TRUE(rec->wait_done());
      EXPECT_FALSE(rec->ec) << rec->ec.message() << ": " << rec->reason;
      EXPECT_EQ(rec->status, 200);
      EXPECT_EQ(rec->body, "{}");
      EXPECT_EQ(rec->dones, 1);
    }
    EXPECT_TRUE(rc.drain());
  }
  server.join();
  EXPECT_EQ(requests_seen, 3);
}

TEST_F(llm_http_client_test, https_against_a_plain_server_fails_the_tls_handshake) {
  start_mock({});
  running_client rc{endpoint_at("https", port_), "key"};
  auto rec = rc.chat("hi");
  ASSERT_TRUE(rec->wait_done());
  EXPECT_TRUE(rec->ec);
  EXPECT_NE(rec->reason.find("TLS handshake"), std::string::npos)
    << rec->reason;
  EXPECT_EQ(rec->statuses, 0);
  EXPECT_TRUE(rc.drain());
}

TEST(llm_http_client, a_silent_tls_server_hits_the_connect_timeout) {
  // Listening but never accepting: TCP connects, the TLS handshake hangs.
  net::io_context io;
  net::ip::tcp::acceptor silent{
    io, net::ip::tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
  llm::http_client_options options;
  options.connect_timeout = 200ms;
  running_client rc{endpoint_at("https", silent.local_endpoint().port()), "",
                    options};
  auto t0 = std::chrono::steady_clock::now();
  auto rec = rc.chat("hello?");
  ASSERT_TRUE(rec->wait_done(3000ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms);
  EXPECT_EQ(rec->ec, error_code{llm::http_client_errc::connect_timeout})
    << rec->ec.message() << ": " << rec->reason;
  EXPECT_TRUE(rc.drain());
}

TEST(llm_http_client, make_rejects_websocket_endpoints) {
  net::io_context io;
  auto ep = parley::parse_llm_endpoint("ws://127.0.0.1:1/chat",
                                       "LLM_WEBSOCKET_URL");
  EXPECT_THROW(llm::llm_http_client::make(io.get_executor(), ep, ""),
               std::invalid_argument);
}
