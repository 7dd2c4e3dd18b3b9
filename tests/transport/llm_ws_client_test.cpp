// The custom LLM WebSocket client (transport/llm_ws_client.hpp) against the
// real mock LLM binary (tools/mock_llm/), over real sockets. Each client runs
// on its own io_context thread without a work guard: once the test drops
// its handle, the thread ends exactly when no handler is left, which proves
// that nothing can call back any more (and that nothing leaked).
//
// Here wss:// runs only against the mock's plain port, where its handshake
// must fail without on_open; tests/e2e/llm_tls_e2e_test.cpp covers wss://
// against the mock serving TLS (verified certificates, SNI, refusals).

#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/websocket/error.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/llm_config.hpp"
#include "tests/support/mock_llm_process.hpp"
#include "tests/support/ws_client.hpp"
#include "transport/custom_llm_protocol.hpp"
#include "transport/llm_ws_client.hpp"

using namespace parley::test;
using namespace std::chrono_literals;
using json = nlohmann::json;
using boost::system::error_code;
using parley::llm_endpoint;
namespace net = boost::asio;
namespace llm = parley::llm;
namespace custom = parley::llm::custom;

namespace {

// Bounds for waits that normally end in milliseconds: generous, because a
// CI machine busy with two builds can starve the io thread for seconds, and
// a passing test never waits them out.
constexpr auto wait_timeout = 30000ms;

/// What the callbacks saw, for the test thread to wait on.
struct recorder {
  std::mutex mtx;
  std::condition_variable cv;
  int opens = 0;
  std::vector<std::string> frames;
  int closes = 0;
  error_code close_ec;
  std::string close_reason;
  int after_close = 0; // any callback after on_close: a bug

  static llm::ws_client_callbacks callbacks(std::shared_ptr<recorder> rec) {
    llm::ws_client_callbacks cb;
    cb.on_open = [rec] {
      std::lock_guard<std::mutex> guard{rec->mtx};
      rec->after_close += rec->closes;
      ++rec->opens;
      rec->cv.notify_all();
    };
    cb.on_frame = [rec](std::string text) {
      std::lock_guard<std::mutex> guard{rec->mtx};
      rec->after_close += rec->closes;
      rec->frames.push_back(std::move(text));
      rec->cv.notify_all();
    };
    cb.on_close = [rec](error_code ec, std::string reason) {
      std::lock_guard<std::mutex> guard{rec->mtx};
      rec->after_close += rec->closes;
      ++rec->closes;
      rec->close_ec = ec;
      rec->close_reason = std::move(reason);
      rec->cv.notify_all();
    };
    return cb;
  }

  /// Waits (bounded) until `pred(*this)` holds under the lock.
  template <class Predicate>
  bool wait(Predicate pred, std::chrono::milliseconds timeout = wait_timeout) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, timeout, [&] { return pred(*this); });
  }

  bool wait_open() {
    return wait([](auto& r) { return r.opens > 0 || r.closes > 0; })
           && opens_now() == 1;
  }

  bool wait_closed(std::chrono::milliseconds timeout = wait_timeout) {
    return wait([](auto& r) { return r.closes > 0; }, timeout);
  }

  int opens_now() {
    std::lock_guard<std::mutex> guard{mtx};
    return opens;
  }
};

/// One client on its own io_context thread.
class running_client {
public:
  running_client(llm_endpoint endpoint, std::string api_key,
                 llm::ws_client_options options = {}) {
    client_ = llm::llm_ws_client::make(io_.get_executor(), std::move(endpoint),
                                       std::move(api_key), options,
                                       recorder::callbacks(rec_));
    // Posted before run(): the io_context has work from the start.
    client_->start();
    thread_ = std::thread{[this] {
      io_.run();
      done_.set_value();
    }};
  }

  ~running_client() {
    if (done_future_.wait_for(0ms) != std::future_status::ready)
      io_.stop();
    thread_.join();
  }

  llm::llm_ws_client& client() {
    return *client_;
  }

  recorder& rec() {
    return *rec_;
  }

  /// Drops the test's handle and waits until no handler is left; true when
  /// the io thread ended in time and the client is gone.
  bool drain(std::chrono::milliseconds timeout = wait_timeout) {
    std::weak_ptr<llm::llm_ws_client> weak = client_;
    client_.reset();
    return done_future_.wait_for(timeout) == std::future_status::ready
           && weak.expired();
  }

private:
  net::io_context io_;
  std::shared_ptr<recorder> rec_ = std::make_shared<recorder>();
  std::shared_ptr<llm::llm_ws_client> client_;
  std::promise<void> done_;
  std::future<void> done_future_ = done_.get_future();
  std::thread thread_;
};

/// Replies collected from frames, per request id.
struct reply {
  std::string deltas; // concatenated
  int delta_count = 0;
  bool done = false;
  custom::final_reply final_frame;
  std::string error;
};

std::map<std::string, reply> replies_of(const std::vector<std::string>& frames) {
  std::map<std::string, reply> out;
  for (const auto& text : frames) {
    auto frame = custom::parse_frame(text);
    if (auto* d = std::get_if<custom::delta>(&frame)) {
      out[d->id].deltas += d->text;
      ++out[d->id].delta_count;
    } else if (auto* f = std::get_if<custom::final_reply>(&frame)) {
      out[f->id].done = true;
      out[f->id].final_frame = *f;
    } else if (auto* e = std::get_if<custom::error_reply>(&frame)) {
      out[e->id].done = true;
      out[e->id].error = e->message;
    } else {
      out[""].error = "malformed: " + text;
    }
  }
  return out;
}

std::size_t done_count(const std::vector<std::string>& frames) {
  std::size_t n = 0;
  for (auto& [id, r] : replies_of(frames))
    if (r.done)
      ++n;
  return n;
}

std::string chat_request(const std::string& id, const std::string& message,
                         bool stream) {
  custom::request req;
  req.id = id;
  req.message = message;
  req.model = "test-model";
  req.settings.max_tokens = 100;
  req.settings.stream = stream;
  return custom::build_request(req);
}

/// A port on 127.0.0.1 that was free a moment ago.
std::uint16_t unused_port() {
  net::io_context io;
  net::ip::tcp::acceptor acceptor{
    io, net::ip::tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
  return acceptor.local_endpoint().port();
}

llm_endpoint endpoint_at(const std::string& scheme, std::uint16_t port) {
  return parley::parse_llm_endpoint(scheme + "://127.0.0.1:"
                                      + std::to_string(port) + "/chat",
                                    "LLM_WEBSOCKET_URL");
}

class llm_ws_client_test : public ::testing::Test {
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
    args.insert(args.end(), {"--protocol", "websocket", "--verbose"});
    mock_ = std::make_unique<mock_llm_process>(std::move(args));
    port_ = mock_->port();
  }

  llm_endpoint mock_endpoint() const {
    return endpoint_at("ws", port_);
  }

  json stats() {
    auto res = http_get("127.0.0.1", port_, "/stats");
    EXPECT_EQ(res.status, 200u) << res.body;
    return json::parse(res.body);
  }

  std::unique_ptr<mock_llm_process> mock_;
  std::uint16_t port_ = 0;
};

} // namespace

TEST_F(llm_ws_client_test, many_requests_and_a_health_check_share_one_connection) {
  start_mock({"--chunks", "3", "--chunk-delay-ms", "5"});
  running_client rc{mock_endpoint(), ""};
  // Sent before on_open: queued, then written once the handshake is done.
  rc.client().send(custom::build_health_request("h1", "test-model"));
  constexpr int n = 10;
  for (int i = 1; i <= n; ++i)
    rc.client().send(chat_request("r" + std::to_string(i),
                                  "question " + std::to_string(i), true));
  ASSERT_TRUE(rc.rec().wait(
    [](auto& r) { return done_count(r.frames) == n + 1 || r.closes > 0; },
    10000ms));
  {
    std::lock_guard<std::mutex> guard{rc.rec().mtx};
    EXPECT_EQ(rc.rec().opens, 1);
    EXPECT_EQ(rc.rec().closes, 0) << rc.rec().close_reason;
    auto replies = replies_of(rc.rec().frames);
    EXPECT_EQ(replies.count(""), 0u);
    EXPECT_EQ(replies["h1"].final_frame.response, "pong");
    for (int i = 1; i <= n; ++i) {
      auto& r = replies["r" + std::to_string(i)];
      auto expected = "Echo: question " + std::to_string(i);
      EXPECT_TRUE(r.done);
      EXPECT_EQ(r.delta_count, 3);
      EXPECT_EQ(r.deltas, expected);
      EXPECT_EQ(r.final_frame.response, expected);
      EXPECT_EQ(r.final_frame.model, "test-model");
    }
  }
  auto s = stats();
  EXPECT_EQ(s["connections"], 1) << s;
  EXPECT_EQ(s["open_connections"], 1) << s;
  EXPECT_EQ(s["requests"], n) << s;
  EXPECT_EQ(s["health_checks"], 1) << s;
  rc.client().close();
  ASSERT_TRUE(rc.rec().wait_closed());
  EXPECT_TRUE(rc.drain());
  EXPECT_EQ(rc.rec().closes, 1);
  EXPECT_FALSE(rc.rec().close_ec) << rc.rec().close_ec.message();
  EXPECT_EQ(rc.rec().after_close, 0);
}

TEST_F(llm_ws_client_test, sends_authorization_only_with_a_key) {
  start_mock({});
  {
    running_client rc{mock_endpoint(), "sekrit"};
    ASSERT_TRUE(rc.rec().wait_open()) << rc.rec().close_reason;
    auto s = stats();
    EXPECT_EQ(s["authorized"]["present"], true) << s;
    EXPECT_EQ(s["authorized"]["value"], "Bearer sekrit") << s;
    rc.client().close();
    ASSERT_TRUE(rc.rec().wait_closed());
    EXPECT_TRUE(rc.drain());
  }
  {
    running_client rc{mock_endpoint(), ""};
    ASSERT_TRUE(rc.rec().wait_open()) << rc.rec().close_reason;
    auto s = stats();
    EXPECT_EQ(s["authorized"]["present"], false) << s;
    EXPECT_EQ(s["authorized"]["with"], 1) << s;
    EXPECT_EQ(s["authorized"]["without"], 1) << s;
    rc.client().close();
    ASSERT_TRUE(rc.rec().wait_closed());
    EXPECT_TRUE(rc.drain());
  }
}

TEST_F(llm_ws_client_test, a_wrong_key_closes_with_an_error_and_never_opens) {
  start_mock({"--require-key", "right"});
  {
    running_client rc{mock_endpoint(), "wrong"};
    ASSERT_TRUE(rc.rec().wait_closed());
    EXPECT_TRUE(rc.drain());
    EXPECT_EQ(rc.rec().opens, 0);
    EXPECT_EQ(rc.rec().closes, 1);
    EXPECT_EQ(rc.rec().close_ec,
              error_code{boost::beast::websocket::error::upgrade_declined})
      << rc.rec().close_ec.message();
    EXPECT_NE(rc.rec().close_reason.find("401"), std::string::npos)
      << rc.rec().close_reason;
    EXPECT_EQ(rc.rec().close_reason.find("wrong"), std::string::npos);
    EXPECT_EQ(rc.rec().after_close, 0);
  }
  EXPECT_EQ(stats()["unauthorized"], 1);
  // The same client with the right key gets in: the key was the reason.
  running_client rc{mock_endpoint(), "right"};
  ASSERT_TRUE(rc.rec().wait_open()) << rc.rec().close_reason;
  rc.client().close();
  ASSERT_TRUE(rc.rec().wait_closed());
  EXPECT_TRUE(rc.drain());
}

TEST_F(llm_ws_client_test, connection_refused_closes_quickly) {
  running_client rc{endpoint_at("ws", unused_port()), "key"};
  ASSERT_TRUE(rc.rec().wait_closed(2000ms));
  EXPECT_TRUE(rc.drain());
  EXPECT_EQ(rc.rec().opens, 0);
  EXPECT_EQ(rc.rec().closes, 1);
  EXPECT_EQ(rc.rec().close_ec, error_code{net::error::connection_refused})
    << rc.rec().close_ec.message();
  EXPECT_EQ(rc.rec().after_close, 0);
}

TEST_F(llm_ws_client_test, a_silent_server_times_out_the_handshake) {
  // Listening but never accepting: the kernel completes the TCP handshake,
  // nobody answers the upgrade.
  net::io_context io;
  net::ip::tcp::acceptor silent{
    io, net::ip::tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
  llm::ws_client_options options;
  options.handshake_timeout = 300ms;
  auto t0 = std::chrono::steady_clock::now();
  running_client rc{endpoint_at("ws", silent.local_endpoint().port()), "",
                    options};
  ASSERT_TRUE(rc.rec().wait_closed(3000ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 250ms);
  EXPECT_TRUE(rc.drain());
  EXPECT_EQ(rc.rec().opens, 0);
  EXPECT_EQ(rc.rec().close_ec, error_code{llm::ws_client_errc::connect_timeout})
    << rc.rec().close_ec.message();
  EXPECT_EQ(rc.rec().after_close, 0);
}

TEST_F(llm_ws_client_test, a_full_queue_closes_with_an_error) {
  net::io_context io;
  net::ip::tcp::acceptor silent{
    io, net::ip::tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
  llm::ws_client_options options;
  options.max_queued_frames = 2;
  running_client rc{endpoint_at("ws", silent.local_endpoint().port()), "",
                    options};
  for (int i = 0; i < 3; ++i)
    rc.client().send("frame");
  ASSERT_TRUE(rc.rec().wait_closed());
  EXPECT_TRUE(rc.drain());
  EXPECT_EQ(rc.rec().close_ec, error_code{llm::ws_client_errc::queue_full})
    << rc.rec().close_ec.message();
  EXPECT_EQ(rc.rec().closes, 1);
}

TEST_F(llm_ws_client_test, keep_alive_pings_hold_a_quiet_connection_open) {
  start_mock({});
  llm::ws_client_options options;
  options.idle_timeout = 150ms;
  running_client rc{mock_endpoint(), "", options};
  ASSERT_TRUE(rc.rec().wait_open()) << rc.rec().close_reason;
  // Several idle periods without a request: only the pings (and the
  // mock's pongs) keep it open. The wait is expected to time out.
  EXPECT_FALSE(rc.rec().wait([](auto& r) { return r.closes > 0; }, 600ms))
    << rc.rec().close_reason;
  rc.client().send(chat_request("r1", "still there?", false));
  ASSERT_TRUE(rc.rec().wait(
    [](auto& r) { return done_count(r.frames) == 1 || r.closes > 0; }));
  EXPECT_EQ(replies_of(rc.rec().frames)["r1"].final_frame.response,
            "Echo: still there?");
  EXPECT_EQ(stats()["connections"], 1);
  rc.client().close();
  ASSERT_TRUE(rc.rec().wait_closed());
  EXPECT_TRUE(rc.drain());
  EXPECT_FALSE(rc.rec().close_ec) << rc.rec().close_ec.message();
}

TEST_F(llm_ws_client_test, the_mock_killed_mid_stream_closes_once) {
  start_mock({"--chunks", "5", "--chunk-delay-ms", "300"});
  running_client rc{mock_endpoint(), ""};
  rc.client().send(chat_request("r1", "one two three four five six", true));
  ASSERT_TRUE(rc.rec().wait(
    [](auto& r) { return !r.frames.empty() || r.closes > 0; }));
  mock_->kill();
  mock_->wait_exit(5000ms);
  ASSERT_TRUE(rc.rec().wait_closed());
  EXPECT_TRUE(rc.drain());
  EXPECT_EQ(rc.rec().opens, 1);
  EXPECT_EQ(rc.rec().closes, 1);
  EXPECT_TRUE(rc.rec().close_ec) << rc.rec().close_reason;
  EXPECT_FALSE(replies_of(rc.rec().frames)["r1"].done);
  EXPECT_EQ(rc.rec().after_close, 0);
}

TEST_F(llm_ws_client_test, close_calls_on_close_once_and_nothing_after) {
  start_mock({"--chunks", "4", "--chunk-delay-ms", "100"});
  running_client rc{mock_endpoint(), ""};
  ASSERT_TRUE(rc.rec().wait_open()) << rc.rec().close_reason;
  // A reply still streaming when the close goes out.
  rc.client().send(chat_request("r1", "a b c d e f g h", true));
  ASSERT_TRUE(rc.rec().wait([](auto& r) { return !r.frames.empty(); }));
  rc.client().close();
  rc.client().close();
  rc.client().send(chat_request("r2", "too late", false));
  ASSERT_TRUE(rc.rec().wait_closed());
  EXPECT_TRUE(rc.drain());
  EXPECT_EQ(rc.rec().closes, 1);
  EXPECT_FALSE(rc.rec().close_ec) << rc.rec().close_ec.message();
  EXPECT_EQ(rc.rec().after_close, 0);
  EXPECT_EQ(replies_of(rc.rec().frames).count("r2"), 0u);
}

TEST_F(llm_ws_client_test, close_before_open_abandons_the_attempt) {
  net::io_context io;
  net::ip::tcp::acceptor silent{
    io, net::ip::tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
  running_client rc{endpoint_at("ws", silent.local_endpoint().port()), ""};
  rc.client().close();
  ASSERT_TRUE(rc.rec().wait_closed(2000ms));
  EXPECT_TRUE(rc.drain());
  EXPECT_EQ(rc.rec().opens, 0);
  EXPECT_EQ(rc.rec().closes, 1);
  EXPECT_FALSE(rc.rec().close_ec) << rc.rec().close_ec.message();
}

TEST_F(llm_ws_client_test, wss_against_a_plain_server_fails_the_tls_handshake) {
  start_mock({});
  running_client rc{endpoint_at("wss", port_), "key"};
  ASSERT_TRUE(rc.rec().wait_closed());
  EXPECT_TRUE(rc.drain());
  EXPECT_EQ(rc.rec().opens, 0);
  EXPECT_EQ(rc.rec().closes, 1);
  EXPECT_TRUE(rc.rec().close_ec);
  EXPECT_NE(rc.rec().close_reason.find("TLS handshake"), std::string::npos)
    << rc.rec().close_reason;
  EXPECT_EQ(rc.rec().after_close, 0);
}

TEST(llm_ws_client, make_rejects_http_endpoints) {
  net::io_context io;
  auto ep = parley::parse_llm_endpoint("http://127.0.0.1:1/v1", "OPENAI_BASE_URL");
  EXPECT_THROW(llm::llm_ws_client::make(io.get_executor(), ep, "", {}, {}),
               std::invalid_argument);
}
