// Crash durability: WebSocket clients chat while the server is SIGKILLed at
// random points, several times, on the same database. After each restart
// the clients resume their sessions (session_id, resume_token, last_seq)
// and send again, with the same client id, every message they did not see
// acknowledged. At the end the database must hold every message exactly
// once (by client id), each with exactly one answer, and the acks and
// answers each client saw must be exactly the stored rows, each seq seen
// once: nothing acknowledged was lost, no resend was stored twice, and every
// resume continued the same session.
//
// The kill points come from a seeded PRNG: the seed is printed, and
// PARLEY_TEST_SEED=<seed> replays the same schedule (the server's own timing
// still varies). Runs on SQLite and on the databases fixture's PostgreSQL
// and MariaDB.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "storage/database.hpp"
#include "tests/e2e/admin_api.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_databases.hpp"
#include "tests/support/ws_client.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

constexpr int client_count = 6;
constexpr int kill_count = 8;
// Messages a client keeps waiting for an answer (sent and not answered).
constexpr std::size_t max_unanswered = 2;
// Bounds the new messages of one client on one connection, whatever the
// server does. Per connection, not per test: a fast machine must not spend
// the whole budget before the last kills and leave them no traffic to hit.
constexpr std::size_t max_new_per_cycle = 300;
constexpr auto start_timeout = 15000ms;
constexpr auto exit_timeout = 10000ms;
constexpr auto frame_timeout = 10000ms;
// How long a cycle may take to show traffic before the kill, and the last
// restart to get everything answered.
constexpr auto progress_timeout = 10000ms;
constexpr auto final_timeout = 20000ms;
constexpr auto read_slice = 100ms;

std::chrono::milliseconds until(clock_type::time_point deadline) {
  return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - clock_type::now()),
                  1ms);
}

/// PARLEY_TEST_SEED, or a fresh one.
std::uint64_t test_seed() {
  if (const char* text = std::getenv("PARLEY_TEST_SEED"); text && *text)
    return std::strtoull(text, nullptr, 10);
  return std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32);
}

/// Live answers of all clients, for the test thread to wait on.
class progress_board {
public:
  void bump() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      ++count_;
    }
    cv_.notify_all();
  }

  std::size_t count() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return count_;
  }

  bool wait_for(std::size_t at_least, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, timeout, [&] { return count_ >= at_least; });
  }

private:
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::size_t count_ = 0;
};

/// One message as its client knows it.
struct sent_message {
  std::string text;
  std::int64_t message_id = 0;  // 0 until acknowledged
  std::size_t sends = 0;        // times sent (resends included)
  std::size_t acks = 0;         // ack frames seen for it
  std::vector<json> replies;    // answers seen for it
};

/// One chat client that outlives the servers it talks to: its session, the
/// highest seq it saw, and every message and frame, across connections.
/// Each connection runs on its own thread (cycle()); its state may be read
/// after join().
class crash_client {
public:
  crash_client(int index, const std::atomic<bool>& killing,
               progress_board& board)
    : index_(index), killing_(killing), board_(board) {
    // nop
  }

  ~crash_client() {
    join();
  }

  crash_client(const crash_client&) = delete;
  crash_client& operator=(const crash_client&) = delete;

  /// Opens a new session (test thread). Throws on failure.
  void open(const std::string& host, std::uint16_t port) {
    client_.connect(host, port, "/ws");
    auto frame = client_.read_json(frame_timeout);
    if (type_of(frame) != "session" || !frame.contains("session_id")
        || !frame["session_id"].is_number_integer()
        || !frame.contains("resume_token")
        || !frame["resume_token"].is_string())
      throw std::runtime_error("client " + std::to_string(index_)
                               + ": bad session frame: " + frame.dump());
    session_id_ = frame["session_id"].get<std::int64_t>();
    token_ = frame["resume_token"].get<std::string>();
    last_seq_ = seq_of(frame);
    connected_ = true;
  }

  /// Starts a connection's worth of traffic on a thread: resumes first
  /// unless the connection from open() is still fresh, sends again what
  /// was never acknowledged, then chats until the connection dies. With
  /// `final` it instead stops once every message is answered, and checks
  /// with a ping that nothing else comes.
  void start(const std::string& host, std::uint16_t port, bool final,
             clock_type::time_point deadline) {
    join();
    thread_ = std::thread{
      [this, host, port, final, deadline] { cycle(host, port, final, deadline); }};
  }

  void join() {
    if (thread_.joinable())
      thread_.join();
  }

  void close() {
    client_.close(1000, 2000ms);
  }

  int index() const noexcept {
    return index_;
  }

  std::int64_t session_id() const noexcept {
    return session_id_;
  }

  const std::map<std::string, sent_message>& sent() const noexcept {
    return sent_;
  }

  /// Seq -> how often an ack or answer frame with it was seen.
  const std::map<std::int64_t, int>& seqs() const noexcept {
    return seqs_;
  }

  const std::vector<std::string>& problems() const noexcept {
    return problems_;
  }

  std::size_t resumes() const noexcept {
    return resumes_;
  }

  std::size_t resent() const noexcept {
    return resent_;
  }

  std::size_t replayed() const noexcept {
    return replayed_;
  }

  bool all_answered() const {
    return std::all_of(sent_.begin(), sent_.end(), [](const auto& kv) {
      return kv.second.message_id != 0 && !kv.second.replies.empty();
    });
  }

private:
  void problem(const std::string& what) {
    if (problems_.size() < 20)
      problems_.push_back("client " + std::to_string(index_) + " (session "
                          + std::to_string(session_id_) + "): " + what);
  }

  /// A failure of the connection: expected once the kill is under way.
  void connection_failed(const std::string& what) {
    if (!killing_)
      problem(what);
  }

  std::size_t unanswered() const {
    return static_cast<std::size_t>(
      std::count_if(sent_.begin(), sent_.end(), [](const auto& kv) {
        return kv.second.replies.empty();
      }));
  }

  void send(const std::string& client_id) {
    auto& msg = sent_.at(client_id);
    ++msg.sends;
    client_.send_json({{"type", "message"}, {"id", client_id}, {"text", msg.text}},
                      2000ms);
  }

  void send_new() {
    auto client_id = "k" + std::to_string(index_) + "-"
                     + std::to_string(order_.size());
    order_.push_back(client_id);
    ++sent_this_cycle_;
    // A greeting: the rules answer it at once and never hand the session
    // to a human.
    sent_[client_id].text = "hello, this is " + client_id;
    send(client_id);
  }

  void cycle(const std::string& host, std::uint16_t port, bool final,
             clock_type::time_point deadline) {
    try {
      conn_seq_ = 0;
      sent_this_cycle_ = 0;
      if (!connected_ && !resume(host, port, deadline))
        return;
      connected_ = false; // the next cycle resumes
      for (;;) {
        if (final && all_answered()) {
          barrier(deadline);
          return;
        }
        if (!final && clock_type::now() >= deadline) {
          problem("still chatting at the deadline: the kill never came");
          return;
        }
        if (!final && unanswered() < max_unanswered
            && sent_this_cycle_ < max_new_per_cycle)
          send_new();
        auto result = client_.read_frame(std::min(read_slice, until(deadline)));
        if (result.status == read_status::frame) {
          on_frame(result);
          continue;
        }
        if (result.status == read_status::timeout) {
          if (final && clock_type::now() >= deadline) {
            problem("not every message was answered in time");
            return;
          }
          continue;
        }
        connection_failed("the connection ended: " + result.describe());
        return;
      }
    } catch (const std::exception& ex) {
      connection_failed(std::string{"exception: "} + ex.what());
    }
  }

  /// Resumes after the highest seq seen, reads the replay (a ping's pong
  /// comes after all of it), then sends every unacknowledged message again.
  bool resume(const std::string& host, std::uint16_t port,
              clock_type::time_point deadline) {
    resume_after_ = last_seq_;
    client_.connect(host, port,
                    resume_target(session_id_, token_, resume_after_),
                    until(deadline));
    auto first = client_.read_json(until(deadline));
    if (type_of(first) != "session" || first.value("resumed", false) != true
        || first.value("session_id", std::int64_t{0}) != session_id_
        || first.value("seq", std::int64_t{-1}) != 0) {
      problem("resuming after seq " + std::to_string(resume_after_)
              + " was answered with " + first.dump());
      return false;
    }
    ++resumes_;
    resuming_ = true;
    barrier(deadline);
    resuming_ = false;
    for (const auto& client_id : order_)
      if (sent_.at(client_id).message_id == 0) {
        send(client_id);
        ++resent_;
      }
    return true;
  }

  /// A ping, and every frame up to its pong.
  void barrier(clock_type::time_point deadline) {
    client_.send_json({{"type", "ping"}}, 2000ms);
    for (;;) {
      auto result = client_.read_frame(until(deadline));
      if (result.status != read_status::frame)
        throw ws_error("waiting for a pong: " + result.describe());
      auto frame = json::parse(result.text, nullptr, false);
      if (type_of(frame) == "pong") {
        check_seq(frame);
        return;
      }
      on_frame(result);
    }
  }

  void check_seq(const json& frame) {
    if (!frame.contains("seq") || !frame["seq"].is_number_integer()) {
      problem("frame without an integer seq: " + frame.dump());
      return;
    }
    auto seq = frame["seq"].get<std::int64_t>();
    if (seq <= conn_seq_)
      problem("seq " + std::to_string(seq) + " after seq "
              + std::to_string(conn_seq_) + " on one connection: "
              + frame.dump());
    conn_seq_ = std::max(conn_seq_, seq);
  }

  void on_frame(const ws_read_result& result) {
    auto frame = json::parse(result.text, nullptr, false);
    if (result.binary || frame.is_discarded() || !frame.is_object()) {
      problem("not a JSON object: " + result.describe());
      return;
    }
    check_seq(frame);
    auto type = type_of(frame);
    if (type == "typing" || type == "pong")
      return;
    if (type != "ack" && type != "message") {
      problem("unexpected frame: " + frame.dump());
      return;
    }
    auto seq = frame.value("seq", std::int64_t{0});
    if (seq <= resume_after_)
      problem("resumed after seq " + std::to_string(resume_after_)
              + " but got " + frame.dump());
    if (++seqs_[seq] > 1)
      problem("seq " + std::to_string(seq) + " seen twice: " + frame.dump());
    last_seq_ = std::max(last_seq_, seq);
    if (resuming_)
      ++replayed_;
    if (type == "ack") {
      if (!frame.contains("id") || !frame["id"].is_string()
          || !frame.contains("message_id")
          || !frame["message_id"].is_number_integer()) {
        problem("bad ack: " + frame.dump());
        return;
      }
      auto i = sent_.find(frame["id"].get<std::string>());
      if (i == sent_.end()) {
        problem("ack for a client id never sent: " + frame.dump());
        return;
      }
      auto message_id = frame["message_id"].get<std::int64_t>();
      auto& msg = i->second;
      ++msg.acks;
      if (msg.message_id != 0 && msg.message_id != message_id)
        problem("a second message_id for " + i->first + ": " + frame.dump());
      msg.message_id = message_id;
      by_message_id_[message_id] = i->first;
      return;
    }
    if (!frame.contains("reply_to") || !frame["reply_to"].is_number_integer()
        || !frame.contains("id") || !frame["id"].is_number_integer()) {
      problem("bad answer: " + frame.dump());
      return;
    }
    auto i = by_message_id_.find(frame["reply_to"].get<std::int64_t>());
    if (i == by_message_id_.end()) {
      problem("an answer to a message never acknowledged: " + frame.dump());
      return;
    }
    sent_.at(i->second).replies.push_back(frame);
    board_.bump();
  }

  int index_;
  const std::atomic<bool>& killing_;
  progress_board& board_;
  ws_client client_;
  std::thread thread_;
  std::int64_t session_id_ = 0;
  std::string token_;
  bool connected_ = false;       // open() left a fresh connection
  std::int64_t last_seq_ = 0;    // highest seq of an ack or answer seen
  std::int64_t resume_after_ = 0; // last_seq of the latest resume
  std::int64_t conn_seq_ = 0;    // highest seq on the current connection
  std::size_t sent_this_cycle_ = 0; // new messages on the current connection
  bool resuming_ = false;        // reading a resume's replay
  std::vector<std::string> order_;
  std::map<std::string, sent_message> sent_;
  std::map<std::int64_t, std::string> by_message_id_;
  std::map<std::int64_t, int> seqs_;
  std::vector<std::string> problems_;
  std::size_t resumes_ = 0;
  std::size_t resent_ = 0;
  std::size_t replayed_ = 0;
};

/// A stored row of `messages`.
struct row {
  std::int64_t id = 0;
  bool is_user = false;
  std::string client_id; // empty when NULL
  std::string content;
  std::int64_t reply_to = 0; // 0 when NULL
  std::int64_t seq = 0;
};

/// Every row of a session, with plain SQL on a connection of the test's own.
std::vector<row> rows_of(storage::database& db, std::int64_t session_id) {
  long long key = session_id;
  long long id = 0;
  int is_user = 0;
  std::string client_id;
  std::string content;
  long long reply_to = 0;
  long long seq = 0;
  soci::indicator client_ind = soci::i_ok;
  soci::indicator reply_ind = soci::i_ok;
  soci::statement st = (db.sql().prepare
                          << "SELECT id, is_user, client_id, content, "
                             "reply_to, seq FROM messages "
                             "WHERE session_id = :s ORDER BY id",
                        soci::into(id), soci::into(is_user),
                        soci::into(client_id, client_ind), soci::into(content),
                        soci::into(reply_to, reply_ind), soci::into(seq),
                        soci::use(key));
  st.execute();
  std::vector<row> result;
  while (st.fetch()) {
    row r;
    r.id = id;
    r.is_user = is_user != 0;
    r.client_id = client_ind == soci::i_ok ? client_id : std::string{};
    r.content = content;
    r.reply_to = reply_ind == soci::i_ok ? reply_to : 0;
    r.seq = seq;
    result.push_back(std::move(r));
  }
  return result;
}

class crash_durability_e2e : public ::testing::TestWithParam<std::string> {
protected:
  crash_durability_e2e() : dir_("parley-crash"), database_(GetParam()) {
    std::filesystem::create_directories(dir_ / "knowledge");
  }

  void TearDown() override {
    for (auto& client : clients_)
      client->join();
    if (server_ && server_->running()) {
      server_->kill();
      server_->wait_exit(exit_timeout);
    }
    keep_log();
    if (HasFailure())
      ADD_FAILURE() << "seed " << seed_ << " (PARLEY_TEST_SEED=" << seed_
                    << " replays it); server logs:\n" << tail(logs_);
  }

  static std::string tail(const std::string& log,
                          std::size_t max_bytes = 60000) {
    if (log.size() <= max_bytes)
      return log;
    return "[... showing the end ...]\n" + log.substr(log.size() - max_bytes);
  }

  void keep_log() {
    if (!server_)
      return;
    logs_ += "---- server pid " + std::to_string(server_->pid()) + " ----\n"
             + server_->log();
    server_.reset();
  }

  void start_server() {
    keep_log();
    server_ = std::make_unique<server_process>(
      server_process::default_executable(),
      std::vector<std::string>{"--host", "127.0.0.1", "--port", "0",
                               "--database-url", database_.url_text(),
                               "--log-level", "debug", "--knowledge-dir",
                               (dir_ / "knowledge").string()},
      // The chat's rate limits off (variables, which a server without them
      // ignores): the clients send as fast as they are answered.
      std::map<std::string, std::string>{
        {"PARLEY_ADMIN_TOKEN", test_admin_token},
        {"PARLEY_SESSION_RATE", "0"},
        {"PARLEY_ADDRESS_RATE", "0"}},
      dir_.str());
    if (!server_->wait_until_listening(start_timeout))
      throw std::runtime_error("the server did not start:\n"
                               + server_->log());
  }

  void kill_server() {
    killing_ = true;
    server_->kill();
    auto status = server_->wait_exit(exit_timeout);
    EXPECT_TRUE(status.signaled && status.signal == SIGKILL)
      << status.to_string();
    for (auto& client : clients_)
      client->join();
    killing_ = false;
  }

  std::string problems() const {
    std::string out;
    for (const auto& client : clients_)
      for (const auto& p : client->problems())
        out += "  " + p + "\n";
    return out;
  }

  temp_dir dir_;
  scratch_database database_;
  std::unique_ptr<server_process> server_;
  std::string logs_;
  std::uint64_t seed_ = 0;
  std::atomic<bool> killing_{false};
  progress_board board_;
  std::vector<std::unique_ptr<crash_client>> clients_;
};

TEST_P(crash_durability_e2e, sigkill_at_random_points_loses_and_repeats_nothing) {
  seed_ = test_seed();
  std::cout << "[ seed     ] PARLEY_TEST_SEED=" << seed_ << std::endl;
  RecordProperty("seed", std::to_string(seed_));
  std::mt19937_64 rng{seed_};
  auto started = clock_type::now();

  start_server();
  for (int i = 0; i < client_count; ++i) {
    clients_.push_back(std::make_unique<crash_client>(i, killing_, board_));
    clients_.back()->open(server_->host(), server_->port());
  }
  std::vector<std::string> kill_points;
  for (int cycle = 0; cycle < kill_count; ++cycle) {
    if (cycle > 0)
      start_server();
    auto deadline = clock_type::now() + 30s;
    for (auto& client : clients_)
      client->start(server_->host(), server_->port(), false, deadline);
    // Where this kill lands: now and then while the clients are still
    // resuming and sending again; otherwise after some answers and a
    // random pause, in the middle of the traffic.
    std::uniform_int_distribution<int> early{0, 4};
    if (cycle > 0 && early(rng) == 0) {
      auto pause = std::uniform_int_distribution<int>{0, 40}(rng);
      std::this_thread::sleep_for(std::chrono::milliseconds{pause});
      kill_points.push_back("resuming+" + std::to_string(pause) + "ms");
    } else {
      auto answers = std::uniform_int_distribution<std::size_t>{1, 40}(rng);
      auto pause = std::uniform_int_distribution<int>{0, 400}(rng);
      ASSERT_TRUE(board_.wait_for(board_.count() + answers, progress_timeout))
        << "cycle " << cycle << ": no traffic; problems:\n" << problems();
      std::this_thread::sleep_for(std::chrono::milliseconds{pause});
      kill_points.push_back(std::to_string(answers) + " answers+"
                            + std::to_string(pause) + "ms");
    }
    kill_server();
    ASSERT_EQ(problems(), "") << "cycle " << cycle;
  }

  // The last restart: everything is answered, and stays answered once.
  start_server();
  const auto pid = server_->pid();
  auto deadline = clock_type::now() + final_timeout;
  for (auto& client : clients_)
    client->start(server_->host(), server_->port(), true, deadline);
  for (auto& client : clients_)
    client->join();
  EXPECT_EQ(problems(), "");
  auto health = http_get(server_->host(), server_->port(), "/health");
  EXPECT_EQ(health.status, 200u) << health.body;
  for (auto& client : clients_)
    client->close();
  ASSERT_TRUE(server_->running());
  EXPECT_EQ(server_->pid(), pid);
  server_->terminate();
  auto status = server_->wait_exit(exit_timeout);
  EXPECT_TRUE(status.is_exit(0)) << "after SIGTERM the server "
                                 << status.to_string();

  // What is on disk, against what the clients saw.
  storage::database db{database_.url()};
  long long sessions = 0;
  db.sql() << "SELECT COUNT(*) FROM chat_sessions", soci::into(sessions);
  EXPECT_EQ(sessions, client_count)
    << "every resume continued its session; none made a new one";
  std::size_t total_sent = 0;
  std::size_t total_sends = 0;
  std::size_t resumes = 0;
  std::size_t resent = 0;
  std::size_t replayed = 0;
  for (auto& client : clients_) {
    SCOPED_TRACE("client " + std::to_string(client->index()) + ", session "
                 + std::to_string(client->session_id()));
    auto rows = rows_of(db, client->session_id());
    std::map<std::string, const row*> users;     // by client id
    std::map<std::int64_t, const row*> answers;  // by reply_to
    std::map<std::int64_t, int> stored_seqs;
    for (const auto& r : rows) {
      ++stored_seqs[r.seq];
      if (r.is_user) {
        EXPECT_TRUE(users.emplace(r.client_id, &r).second)
          << "client id " << r.client_id << " stored twice";
      } else {
        EXPECT_TRUE(answers.emplace(r.reply_to, &r).second)
          << "message " << r.reply_to << " answered twice";
      }
    }
    EXPECT_EQ(users.size(), client->sent().size())
      << "a user row for each message sent, no more";
    for (const auto& [client_id, msg] : client->sent()) {
      SCOPED_TRACE("message " + client_id);
      EXPECT_EQ(msg.acks, 1u) << "acknowledged exactly once";
      EXPECT_EQ(msg.replies.size(), 1u) << "answered exactly once:\n"
                                        << dump(msg.replies);
      auto u = users.find(client_id);
      ASSERT_NE(u, users.end()) << "acknowledged but not stored";
      EXPECT_EQ(u->second->id, msg.message_id);
      EXPECT_EQ(u->second->content, msg.text);
      auto a = answers.find(u->second->id);
      ASSERT_NE(a, answers.end()) << "stored but never answered";
      if (!msg.replies.empty()) {
        const auto& reply = msg.replies.front();
        EXPECT_EQ(reply["id"].get<std::int64_t>(), a->second->id) << reply;
        EXPECT_EQ(reply.value("text", ""), a->second->content) << reply;
      }
    }
    // Seq continuity across the resumes: the client saw each stored row's
    // frame exactly once, and no frame that is not stored.
    EXPECT_EQ(client->seqs(), stored_seqs)
      << "the seqs of the acks and answers seen differ from the stored ones";
    total_sent += client->sent().size();
    for (const auto& kv : client->sent())
      total_sends += kv.second.sends;
    resumes += client->resumes();
    resent += client->resent();
    replayed += client->replayed();
  }
  // Every client resumed at least after the last kill (a kill that lands
  // while clients reconnect may leave a resume out).
  EXPECT_GE(resumes, static_cast<std::size_t>(client_count));
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
    clock_type::now() - started);
  std::string points;
  for (const auto& p : kill_points)
    points += " " + p;
  std::cout << "[ crash    ] " << GetParam() << ": " << kill_count
            << " kills at" << points << "; " << client_count << " clients, "
            << total_sent << " messages (" << total_sends << " sends, "
            << resent << " resent unacknowledged), " << resumes
            << " resumes replaying " << replayed << " frames, "
            << elapsed.count() << " ms, seed " << seed_ << std::endl;
}

// A fixed list, not test_backends(): CTest lists the tests before its
// databases fixture starts the servers (see PARLEY_REST_SUITE). A backend
// without a server fails.
INSTANTIATE_TEST_SUITE_P(backends, crash_durability_e2e,
                         ::testing::Values("sqlite", "postgresql", "mariadb"),
                         [](const auto& info) { return info.param; });

} // namespace
} // namespace parley::test
