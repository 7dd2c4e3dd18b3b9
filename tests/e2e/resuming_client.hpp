#pragma once

// A chat client that outlives the servers it talks to, for the tests that
// kill servers under traffic (crash durability, cluster failover): it keeps
// its session, resumes on whichever server it is given, sends again what
// was never acknowledged, and records every frame; check_stored() then
// compares what it saw with the database.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "storage/database.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/ws_client.hpp"

namespace parley::test {

namespace resuming {

using namespace std::chrono_literals;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

// Messages a client keeps waiting for an answer (sent and not answered).
constexpr std::size_t max_unanswered = 2;
// Bounds the new messages of one client on one connection, whatever the
// server does. Per connection, not per test: a fast machine must not spend
// the whole budget before the last kills and leave them no traffic to hit.
constexpr std::size_t max_new_per_cycle = 300;
constexpr auto frame_timeout = 10000ms;
constexpr auto read_slice = 100ms;

inline std::chrono::milliseconds until(clock_type::time_point deadline) {
  return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - clock_type::now()),
                  1ms);
}

} // namespace resuming

using namespace resuming;

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

  /// Waits for `more` answers than there are now.
  bool wait_for_more(std::size_t more, std::chrono::milliseconds timeout) {
    return wait_for(count() + more, timeout);
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
class resuming_client {
public:
  resuming_client(int index, const std::atomic<bool>& killing,
               progress_board& board)
    : index_(index), killing_(killing), board_(board) {
    // nop
  }

  ~resuming_client() {
    join();
  }

  resuming_client(const resuming_client&) = delete;
  resuming_client& operator=(const resuming_client&) = delete;

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

  /// Ends the current connection's cycle once what was sent is answered
  /// (no new messages meanwhile; no problem recorded); the next start()
  /// resumes, on whichever server it is given.
  void stop() noexcept {
    stop_ = true;
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
      stop_ = false;
      if (!connected_ && !resume(host, port, deadline))
        return;
      connected_ = false; // the next cycle resumes
      for (;;) {
        if (final && all_answered()) {
          barrier(deadline);
          return;
        }
        // A stop waits for the answers in flight: the client leaves a
        // gateway the way a person closes a tab after the reply came.
        if (!final && stop_ && unanswered() == 0) {
          client_.close(1000, 2000ms);
          return;
        }
        if (!final && clock_type::now() >= deadline) {
          problem("still chatting at the deadline: the kill never came");
          return;
        }
        if (!final && !stop_ && unanswered() < max_unanswered
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
    // Streamed pieces: the final `message` frame carries the whole answer.
    if (type == "typing" || type == "pong" || type == "delta")
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
  std::atomic<bool> stop_{false};
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
inline std::vector<row> rows_of(storage::database& db,
                                std::int64_t session_id) {
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

using resuming_clients = std::vector<std::unique_ptr<resuming_client>>;

/// What went wrong for any of `clients`, a line each; empty: nothing.
inline std::string problems_of(const resuming_clients& clients) {
  std::string out;
  for (const auto& client : clients)
    for (const auto& p : client->problems())
      out += "  " + p + "\n";
  return out;
}

/// The last cycle: every client stops once its answers are in, resumes on
/// host:port and waits (until `deadline`) for everything it sent to be
/// answered, checking with a ping that nothing else comes.
inline void finish_on(resuming_clients& clients, const std::string& host,
                      std::uint16_t port, clock_type::time_point deadline) {
  for (auto& client : clients)
    client->stop();
  for (auto& client : clients)
    client->join();
  for (auto& client : clients)
    client->start(host, port, true, deadline);
  for (auto& client : clients)
    client->join();
}

/// Checks one client against the database: every message it sent is stored
/// once (by client id), acknowledged once and answered once, with the row's
/// id and text, and the seqs it saw are exactly the stored ones.
inline void check_stored(storage::database& db, const resuming_client& client) {
  SCOPED_TRACE("client " + std::to_string(client.index()) + ", session "
               + std::to_string(client.session_id()));
  auto rows = rows_of(db, client.session_id());
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
  EXPECT_EQ(users.size(), client.sent().size())
    << "a user row for each message sent, no more";
  for (const auto& [client_id, msg] : client.sent()) {
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
  EXPECT_EQ(client.seqs(), stored_seqs)
    << "the seqs of the acks and answers seen differ from the stored ones";
}

} // namespace parley::test
