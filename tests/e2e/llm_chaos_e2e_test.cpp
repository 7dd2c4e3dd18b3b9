// Chaos for the LLM connection: the mock LLM is SIGKILLed and started again
// on the same port, several times, while WebSocket clients keep chatting.
// Every acknowledged message must get exactly one final reply (from the LLM
// or the fallback), the server process must stay the same one, client
// sockets must stay open, and the LLM must answer again after the last
// restart without anybody's help.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/db_probe.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/mock_llm_process.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/ws_client.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

constexpr int client_count = 4;
constexpr int chaos_cycles = 5;
// Replies of a kind to wait for in each phase of a cycle.
constexpr std::size_t replies_per_phase = 4;
// Bounds the traffic of one client whatever happens.
constexpr std::size_t max_messages_per_client = 400;
// Bounds each wait of the main thread.
constexpr auto phase_timeout = 5000ms;
// One reply (ack ... message) must not take longer than this.
constexpr auto reply_timeout = 8000ms;

/// Counts final replies as they arrive, for the main thread to wait on.
class reply_counter {
public:
  /// A final reply: key "source/finish_reason".
  void add(const std::string& source, const std::string& finish_reason) {
    bump(source + "/" + finish_reason);
  }

  void bump(const std::string& key) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      ++counts_[key];
    }
    cv_.notify_all();
  }

  /// Wakes waiters so that they look at their predicate again.
  void poke() {
    cv_.notify_all();
  }

  std::size_t get(const std::string& key) const {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = counts_.find(key);
    return i == counts_.end() ? 0 : i->second;
  }

  std::map<std::string, std::size_t> snapshot() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return counts_;
  }

  /// Waits until `key` reached `at_least` or `give_up()` says so.
  bool wait_for(const std::string& key, std::size_t at_least,
                std::chrono::milliseconds timeout,
                const std::function<bool()>& give_up) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, timeout, [&] {
      auto i = counts_.find(key);
      return (i != counts_.end() && i->second >= at_least) || give_up();
    }) && counts_[key] >= at_least;
  }

private:
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::map<std::string, std::size_t> counts_;
};

/// One message a client sent and what came back for it.
struct sent_message {
  std::string client_id;
  std::string text;
  json ack;                 // null until acknowledged
  json reply;               // the final `message`, null if none came
  std::vector<json> frames; // everything read while waiting for it
};

/// One chat client on its own thread: sends a message, reads until the
/// final `message` for its ack, then the next, until told to stop.
class chaos_client {
public:
  chaos_client(int index, reply_counter& counter)
    : index_(index), counter_(counter) {
    // nop
  }

  ~chaos_client() {
    stop();
    join();
  }

  void open(const std::string& host, std::uint16_t port) {
    client_.connect(host, port, "/ws");
    auto frame = client_.read_json(ws_client::default_timeout);
    if (type_of(frame) != "session" || !frame.contains("session_id")
        || !frame["session_id"].is_number_integer())
      throw std::runtime_error("client " + std::to_string(index_)
                               + ": bad session frame: " + frame.dump());
    session_id_ = frame["session_id"].get<std::int64_t>();
    last_seq_ = seq_of(frame);
  }

  void start() {
    thread_ = std::thread{[this] { run(); }};
  }

  void stop() noexcept {
    stop_ = true;
  }

  void join() {
    if (thread_.joinable())
      thread_.join();
  }

  /// Main thread, after join(): a ping and everything up to the pong, so
  /// that a late duplicate reply would show up.
  void barrier() {
    if (!client_.is_open()) {
      problem("socket not open at the end");
      return;
    }
    try {
      client_.send_json({{"type", "ping"}}, 2000ms);
      for (;;) {
        auto frame = client_.read_json(reply_timeout);
        if (type_of(frame) == "pong")
          break;
        problem("frame after the last reply: " + frame.dump());
      }
    } catch (const std::exception& ex) {
      problem(std::string{"ping barrier: "} + ex.what());
    }
  }

  void close() {
    client_.close(1000, 2000ms);
  }

  bool is_open() const noexcept {
    return client_.is_open();
  }

  int index() const noexcept {
    return index_;
  }

  std::int64_t session_id() const noexcept {
    return session_id_;
  }

  const std::vector<sent_message>& sent() const noexcept {
    return sent_;
  }

  const std::vector<std::string>& problems() const noexcept {
    return problems_;
  }

  /// The thread ended (stopped, or it could not go on).
  bool done() const noexcept {
    return done_;
  }

private:
  void problem(const std::string& what) {
    if (problems_.size() < 20)
      problems_.push_back("client " + std::to_string(index_) + " (session "
                          + std::to_string(session_id_) + "): " + what);
  }

  void run() {
    try {
      while (!stop_ && sent_.size() < max_messages_per_client) {
        if (!exchange_one())
          break;
      }
    } catch (const std::exception& ex) {
      problem(std::string{"exception: "} + ex.what());
    }
    done_ = true;
    counter_.poke();
  }

  /// Sends the next message and reads through its final reply. False when
  /// the client cannot go on (socket gone, a reply never came).
  bool exchange_one() {
    sent_message msg;
    msg.client_id = "c" + std::to_string(index_) + "-"
                    + std::to_string(sent_.size());
    // A greeting: filler the agent is sure about (a run of messages it
    // cannot place would hand the session to a human).
    msg.text = "hello, question " + msg.client_id;
    client_.send_json(
      {{"type", "message"}, {"text", msg.text}, {"id", msg.client_id}},
      2000ms);
    sent_.push_back(msg);
    auto& cur = sent_.back();
    auto deadline = clock_type::now() + reply_timeout;
    std::string streamed;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - clock_type::now());
      auto result = client_.read_frame(std::max(left, 1ms));
      if (result.status != read_status::frame) {
        problem("waiting for the reply to " + cur.client_id + ": "
                + result.describe() + "; frames so far:\n" + dump(cur.frames));
        return false;
      }
      auto frame = json::parse(result.text, nullptr, false);
      if (frame.is_discarded() || !frame.is_object()) {
        problem("not a JSON object: " + result.text);
        continue;
      }
      cur.frames.push_back(frame);
      check_seq(frame);
      auto type = type_of(frame);
      if (type == "ack") {
        if (frame.value("id", json{}) == cur.client_id && cur.ack.is_null()
            && frame.contains("message_id")
            && frame["message_id"].is_number_integer()) {
          cur.ack = frame;
        } else {
          problem("unexpected ack while waiting for " + cur.client_id + ": "
                  + frame.dump());
        }
      } else if (type == "typing") {
        // nop
      } else if (type == "delta") {
        if (cur.ack.is_null() || frame["reply_to"] != cur.ack["message_id"]
            || frame["offset"] != streamed.size()) {
          problem("delta out of place for " + cur.client_id + " (streamed "
                  + std::to_string(streamed.size()) + " bytes): "
                  + frame.dump());
        }
        if (frame.contains("text") && frame["text"].is_string())
          streamed += frame["text"].get<std::string>();
        counter_.bump("delta");
      } else if (type == "message") {
        if (cur.ack.is_null() || frame["reply_to"] != cur.ack["message_id"]) {
          problem("reply to something else while waiting for "
                  + cur.client_id + ":\n" + dump(cur.frames));
          continue;
        }
        cur.reply = frame;
        auto source = frame.value("source", std::string{});
        auto finish = frame.value("finish_reason", std::string{});
        auto text = frame.value("text", std::string{});
        if (source == "llm" && text != streamed)
          problem("llm reply text differs from the deltas (`" + streamed
                  + "`):\n" + dump(cur.frames));
        if (source == "fallback" && !streamed.empty())
          problem("fallback reply after deltas:\n" + dump(cur.frames));
        auto echo = "Echo: " + cur.text;
        if (source == "llm" && finish == "completed" && text != echo)
          problem("unexpected llm text:\n" + dump(cur.frames));
        if (source == "llm" && finish == "interrupted"
            && echo.compare(0, text.size(), text) != 0)
          problem("interrupted text is no prefix of `" + echo + "`:\n"
                  + dump(cur.frames));
        counter_.add(source, finish);
        return true;
      } else if (type == "error") {
        // E.g. internal_error: the message is stored but not answered.
        problem("error frame while waiting for " + cur.client_id + ":\n"
                + dump(cur.frames));
        if (!cur.ack.is_null())
          continue; // an answer may still come; the deadline bounds this
        return true;
      } else {
        problem("unexpected frame: " + frame.dump());
      }
    }
  }

  void check_seq(const json& frame) {
    if (!frame.contains("seq") || !frame["seq"].is_number_integer()) {
      problem("frame without integer seq: " + frame.dump());
      return;
    }
    auto seq = frame["seq"].get<std::int64_t>();
    if (seq <= last_seq_)
      problem("seq " + std::to_string(seq) + " after "
              + std::to_string(last_seq_) + ": " + frame.dump());
    last_seq_ = std::max(last_seq_, seq);
  }

  int index_;
  reply_counter& counter_;
  ws_client client_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::int64_t session_id_ = 0;
  std::int64_t last_seq_ = 0;
  std::vector<sent_message> sent_;
  std::vector<std::string> problems_;
  std::atomic<bool> done_{false};
};

class llm_chaos_e2e : public e2e_fixture {
protected:
  void TearDown() override {
    if (HasFailure()) {
      if (parley_)
        ADD_FAILURE() << "parley log (pid " << parley_->pid() << "):\n"
                      << tail(parley_->log());
      if (mock_)
        mock_logs_ += "---- mock pid " + std::to_string(mock_->pid())
                      + " ----\n" + mock_->log();
      ADD_FAILURE() << "mock logs:\n" << tail(mock_logs_);
    }
    for (auto& client : clients_)
      client->stop();
    clients_.clear();
    mock_.reset();
    parley_.reset();
    e2e_fixture::TearDown();
  }

  static std::string tail(const std::string& log,
                          std::size_t max_bytes = 40000) {
    if (log.size() <= max_bytes)
      return log;
    return "[... showing the end ...]\n" + log.substr(log.size() - max_bytes);
  }

  /// Starts the mock LLM (websocket protocol) on `port` (0 = any) and
  /// returns its port. A previous mock must have been killed.
  std::uint16_t start_mock(std::uint16_t port = 0) {
    if (mock_)
      mock_logs_ += "---- mock pid " + std::to_string(mock_->pid())
                    + " ----\n" + mock_->log();
    // A stream of 4 x 20 ms: long enough for a kill right after the first
    // delta to land mid-stream (parley forwards deltas with some delay, see
    // the test's summary line for how many answers were interrupted).
    mock_.reset();
    mock_ = std::make_unique<mock_llm_process>(
      std::vector<std::string>{"--chunks", "4", "--chunk-delay-ms", "20",
                               "--protocol", "websocket"},
      port);
    return mock_->port();
  }

  /// Parley with a short reconnect backoff (environment only, no flags).
  void start_parley(std::uint16_t llm_port) {
    std::vector<std::string> args{
      "--host", "127.0.0.1", "--port", "0", "--database-url", database_url(),
      "--log-level", "debug", "--knowledge-dir", (tmp_ / "knowledge").string(),
      "--llm-url", "ws://127.0.0.1:" + std::to_string(llm_port) + "/chat"};
    std::map<std::string, std::string> env{{"LLM_BACKOFF_BASE", "0.05"},
                                           {"LLM_BACKOFF_CAP", "0.2"},
                                           {"PARLEY_ADMIN_TOKEN",
                                            test_admin_token}};
    env.insert(machine_speed_env.begin(), machine_speed_env.end());
    parley_ = std::make_unique<server_process>(
      server_process::default_executable(), args, env, tmp_.path().string());
    if (!parley_->wait_until_listening(start_timeout))
      throw std::runtime_error("parley did not start:\n" + parley_->log());
  }

  bool all_clients_done() const {
    return std::all_of(clients_.begin(), clients_.end(),
                       [](const auto& c) { return c->done(); });
  }

  /// Waits for `more` replies of `key` (source/finish_reason) from now.
  bool await_replies(const std::string& key, std::size_t more) {
    auto target = counter_.get(key) + more;
    return counter_.wait_for(key, target, phase_timeout,
                             [this] { return all_clients_done(); });
  }

  std::string counts() const {
    std::string out;
    for (const auto& [key, n] : counter_.snapshot())
      out += key + "=" + std::to_string(n) + " ";
    return out;
  }

  std::string client_problems() const {
    std::string out;
    for (const auto& client : clients_)
      for (const auto& p : client->problems())
        out += p + "\n";
    return out;
  }

  std::unique_ptr<server_process> parley_;
  std::unique_ptr<mock_llm_process> mock_;
  std::string mock_logs_;
  reply_counter counter_;
  std::vector<std::unique_ptr<chaos_client>> clients_;
};

TEST_F(llm_chaos_e2e, every_message_gets_one_reply_while_the_llm_crashes) {
  auto started = clock_type::now();
  auto llm_port = start_mock();
  start_parley(llm_port);
  ASSERT_TRUE(parley_->wait_for_line("LLM connected", phase_timeout))
    << "the LLM never connected";
  const auto parley_pid = parley_->pid();

  for (int i = 0; i < client_count; ++i) {
    clients_.push_back(std::make_unique<chaos_client>(i, counter_));
    clients_.back()->open(parley_->host(), parley_->port());
  }
  for (auto& client : clients_)
    client->start();

  const std::string llm_done = "llm/completed";
  const std::string fallback_done = "fallback/completed";
  std::size_t llm_after_last_restart = 0;
  std::size_t reconnects = 0;
  for (int cycle = 1; cycle <= chaos_cycles; ++cycle) {
    // The LLM answers (again).
    ASSERT_TRUE(await_replies(llm_done, replies_per_phase))
      << "cycle " << cycle << ": the LLM did not answer " << replies_per_phase
      << " more messages; counts: " << counts() << "\n" << client_problems();
    // Every other cycle the kill comes right after a delta, in the middle
    // of a streamed answer.
    if (cycle % 2 == 0) {
      ASSERT_TRUE(await_replies("delta", 1))
        << "cycle " << cycle << ": no delta; counts: " << counts();
    }
    mock_->kill();
    mock_->wait_exit(5000ms);
    // The fallback takes over while it is gone.
    ASSERT_TRUE(await_replies(fallback_done, replies_per_phase))
      << "cycle " << cycle << ": the fallback did not answer "
      << replies_per_phase << " messages with the LLM down; counts: "
      << counts() << "\n" << client_problems();
    ASSERT_TRUE(parley_->running()) << "cycle " << cycle;
    // Back on the same port: parley finds it on its own.
    auto mark = parley_->line_count();
    ASSERT_EQ(start_mock(llm_port), llm_port);
    ASSERT_TRUE(parley_->wait_for_line("LLM connected", phase_timeout, mark))
      << "cycle " << cycle << ": no reconnect to the restarted LLM";
    ++reconnects;
  }
  // After the last restart the LLM answers again.
  auto llm_before = counter_.get(llm_done);
  EXPECT_TRUE(await_replies(llm_done, replies_per_phase))
    << "the LLM did not answer after the last restart; counts: " << counts();
  llm_after_last_restart = counter_.get(llm_done) - llm_before;

  for (auto& client : clients_)
    client->stop();
  for (auto& client : clients_)
    client->join();

  // The last mock, never killed, got chat requests of its own.
  auto stats = json::parse(http_get("127.0.0.1", llm_port, "/stats").body);
  EXPECT_GE(stats["requests"].get<int>(), 1) << stats.dump();

  // The same process all along, and the LLM marked healthy again.
  EXPECT_TRUE(parley_->running());
  EXPECT_EQ(parley_->pid(), parley_pid);
  auto health = json::parse(
    admin_get(parley_->host(), parley_->port(), "/api/llm/health").body);
  EXPECT_EQ(health["llm_service"]["connected"], true) << health.dump();

  // Every message: one ack with its client id, one final reply to it.
  std::map<std::string, std::size_t> by_source;
  std::size_t total_sent = 0;
  std::set<std::int64_t> acked_ids;
  std::set<std::int64_t> reply_ids;
  for (auto& client : clients_) {
    client->barrier();
    EXPECT_TRUE(client->is_open())
      << "client " << client->index() << ": the socket closed";
    for (const auto& msg : client->sent()) {
      ++total_sent;
      std::size_t acks = 0;
      std::size_t finals = 0;
      for (const auto& f : msg.frames) {
        if (type_of(f) == "ack")
          ++acks;
        if (type_of(f) == "message")
          ++finals;
      }
      EXPECT_EQ(acks, 1u) << "client " << client->index() << " message "
                          << msg.client_id << ":\n" << dump(msg.frames);
      EXPECT_EQ(finals, 1u) << "client " << client->index() << " message "
                            << msg.client_id << ":\n" << dump(msg.frames);
      if (msg.ack.is_null() || msg.reply.is_null()) {
        ADD_FAILURE() << "client " << client->index() << " message "
                      << msg.client_id << " has no "
                      << (msg.ack.is_null() ? "ack" : "final reply") << ":\n"
                      << dump(msg.frames);
        if (!msg.ack.is_null())
          acked_ids.insert(msg.ack["message_id"].get<std::int64_t>());
        continue;
      }
      auto message_id = msg.ack["message_id"].get<std::int64_t>();
      EXPECT_TRUE(acked_ids.insert(message_id).second)
        << "message_id " << message_id << " acknowledged twice";
      ASSERT_TRUE(msg.reply.contains("id") && msg.reply["id"].is_number_integer())
        << msg.reply.dump();
      EXPECT_TRUE(reply_ids.insert(msg.reply["id"].get<std::int64_t>()).second)
        << "reply id used twice: " << msg.reply.dump();
      auto source = msg.reply.value("source", std::string{});
      EXPECT_TRUE(source == "llm" || source == "fallback") << msg.reply.dump();
      ++by_source[source + "/" + msg.reply.value("finish_reason", "")];
    }
  }
  EXPECT_EQ(client_problems(), "");
  EXPECT_GT(by_source[llm_done], 0u);
  EXPECT_GT(by_source[fallback_done], 0u);
  EXPECT_GT(llm_after_last_restart, 0u);
  EXPECT_EQ(reconnects, static_cast<std::size_t>(chaos_cycles));

  // Only the LLM connection went down: no other service was restarted.
  for (const auto& line : parley_->lines())
    EXPECT_EQ(line.find(" died ("), std::string::npos) << line;

  for (auto& client : clients_)
    client->close();
  ASSERT_TRUE(parley_->running());
  EXPECT_EQ(parley_->pid(), parley_pid);
  parley_->terminate();
  auto status = parley_->wait_exit(exit_timeout);
  EXPECT_TRUE(status.is_exit(0)) << "after SIGTERM parley " << status.to_string();

  // On disk: every acknowledged message once, with exactly one reply; the
  // reply the client saw is the stored one.
  db_probe db{db_path()};
  for (auto& client : clients_) {
    std::size_t acked_here = 0;
    for (const auto& msg : client->sent()) {
      if (msg.ack.is_null())
        continue;
      ++acked_here;
      auto message_id = msg.ack["message_id"].get<std::int64_t>();
      EXPECT_EQ(db.user_rows(message_id), 1) << msg.client_id;
      EXPECT_EQ(db.replies_to(message_id), 1)
        << msg.client_id << " (message " << message_id << ")";
      EXPECT_EQ(db.user_rows_with_client_id(client->session_id(),
                                            msg.client_id),
                1)
        << msg.client_id;
      if (msg.reply.is_null())
        continue;
      auto stored = db.message(msg.reply["id"].get<std::int64_t>());
      ASSERT_TRUE(stored.has_value()) << msg.reply.dump();
      EXPECT_EQ(stored->reply_to, message_id) << msg.reply.dump();
      EXPECT_EQ(stored->source, msg.reply["source"]) << msg.reply.dump();
      EXPECT_EQ(stored->content, msg.reply["text"]) << msg.reply.dump();
    }
    EXPECT_EQ(db.user_rows_in_session(client->session_id()),
              static_cast<std::int64_t>(acked_here))
      << "client " << client->index();
  }

  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
    clock_type::now() - started);
  std::string summary;
  for (const auto& [key, n] : by_source)
    summary += " " + key + "=" + std::to_string(n);
  std::size_t failed_attempts = 0;
  for (const auto& line : parley_->lines())
    if (line.find("failed (attempt") != std::string::npos)
      ++failed_attempts;
  summary += ", " + std::to_string(failed_attempts) + " answers retried";
  RecordProperty("messages", static_cast<int>(total_sent));
  std::cout << "[ chaos    ] " << total_sent << " messages from "
            << client_count << " clients, " << chaos_cycles
            << " LLM kills, replies:" << summary << ", "
            << llm_after_last_restart
            << " LLM answers after the last restart, " << elapsed.count()
            << " ms\n";
}

} // namespace
} // namespace parley::test
