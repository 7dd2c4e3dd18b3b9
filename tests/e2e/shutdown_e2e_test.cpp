// End-to-end tests of stopping the server under load: a clean SIGTERM must
// lose nothing it acknowledged; a SIGKILL must lose nothing it acknowledged
// either, and a restart plus resume must answer every such message once.

#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/db_probe.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/traffic_client.hpp"
#include "tests/support/countdown_latch.hpp"

using namespace parley::test;
using namespace std::chrono_literals;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr int client_count = 20;

// Each client has this many replies before the server is stopped: all of
// them are busy, none is still connecting.
constexpr std::size_t replies_before_stop = 2;

class shutdown_e2e : public e2e_fixture {
protected:
  void start_traffic() {
    for (int i = 0; i < client_count; ++i) {
      clients_.push_back(std::make_unique<traffic_client>(i));
      clients_.back()->open(host(), port());
    }
    auto deadline = clock_type::now() + 25s;
    for (auto& client : clients_)
      client->start(busy_, replies_before_stop, deadline);
    ASSERT_TRUE(busy_.wait_for(15s))
      << busy_.remaining() << " clients did not get " << replies_before_stop
      << " replies in time";
    for (auto& client : clients_)
      ASSERT_TRUE(client->reached_wanted_replies())
        << "client " << client->index() << " stopped early: "
        << client->end().describe() << "\n"
        << problems(*client);
  }

  static std::string problems(const traffic_client& client) {
    std::string result;
    for (const auto& problem : client.problems())
      result += "  " + problem + "\n";
    return result;
  }

  // Every message the client saw acknowledged is stored exactly once, with
  // its text; every reply it received is stored as it was sent.
  void expect_acked_and_replies_stored(db_probe& db,
                                       const traffic_client& client) {
    for (const auto& [client_id, message_id] : client.acked()) {
      SCOPED_TRACE("client " + std::to_string(client.index()) + " message "
                   + client_id + " (message_id " + std::to_string(message_id)
                   + ")");
      EXPECT_EQ(db.user_rows(message_id), 1)
        << "an acknowledged message must be stored exactly once";
      auto row = db.message(message_id);
      if (!row)
        continue;
      EXPECT_EQ(row->content, client.sent().at(client_id));
      EXPECT_EQ(row->client_id, client_id);
      EXPECT_EQ(row->session_id, client.session().session_id);
      EXPECT_EQ(db.user_rows_with_client_id(client.session().session_id,
                                            client_id),
                1);
    }
    for (const auto& [message_id, frames] : client.replies())
      for (const auto& frame : frames) {
        auto reply_id = frame.value("id", std::int64_t{0});
        auto row = db.message(reply_id);
        ASSERT_TRUE(row.has_value())
          << "client " << client.index() << " received a reply that is not "
          << "in the database: " << frame;
        EXPECT_FALSE(row->is_user) << frame;
        EXPECT_EQ(row->reply_to, message_id) << frame;
        EXPECT_EQ(row->content, frame.value("text", "")) << frame;
      }
  }

  // One line on what the run exercised: a test that passes because nothing
  // was in flight would prove little.
  void summary(const char* what) {
    std::size_t sent = 0;
    std::size_t acked = 0;
    std::size_t replies = 0;
    traffic_client::counters total;
    for (auto& client : clients_) {
      sent += client->sent().size();
      acked += client->acked().size();
      replies += client->replies().size();
      total.shutting_down += client->stats().shutting_down;
      total.resumed_acks += client->stats().resumed_acks;
      total.resumed_replies += client->stats().resumed_replies;
    }
    std::cout << "[ traffic  ] " << what << ": " << clients_.size()
              << " clients sent " << sent << " messages, " << acked
              << " acknowledged, " << replies << " answered; "
              << total.shutting_down << " shutting_down errors, "
              << total.resumed_acks << " acks and " << total.resumed_replies
              << " replies after resuming" << std::endl;
  }

  countdown_latch busy_{client_count};
  std::vector<std::unique_ptr<traffic_client>> clients_;
};

TEST_F(shutdown_e2e, sigterm_under_traffic_loses_nothing_acknowledged) {
  start_server({}, machine_speed_env);
  start_traffic();
  if (HasFatalFailure())
    return;
  auto signalled = clock_type::now();
  server().terminate();
  auto status = server().wait_exit(exit_timeout);
  auto took = clock_type::now() - signalled;
  EXPECT_TRUE(status.is_exit(0)) << "after SIGTERM the server "
                                 << status.to_string();
  EXPECT_LT(took, 8s) << "the drain is bounded by --shutdown-timeout (5 s)";
  for (auto& client : clients_)
    client->join();
  db_probe db{db_path()};
  std::size_t acked = 0;
  for (auto& client : clients_) {
    SCOPED_TRACE("client " + std::to_string(client->index()));
    EXPECT_TRUE(client->problems().empty()) << problems(*client);
    EXPECT_EQ(client->end().status, read_status::closed)
      << "every client gets a close frame: " << client->end().describe();
    EXPECT_EQ(client->end().close_code, 1001) << client->end().describe();
    expect_acked_and_replies_stored(db, *client);
    // In-flight replies finish before the connections close.
    for (const auto& [client_id, message_id] : client->acked()) {
      EXPECT_EQ(db.replies_to(message_id), 1)
        << "acknowledged message " << client_id << " (message_id "
        << message_id << ") must end up with exactly one stored reply";
      auto received = client->replies().find(message_id);
      EXPECT_TRUE(received != client->replies().end())
        << "the reply to acknowledged message " << client_id
        << " (message_id " << message_id
        << ") was not sent before the close frame";
      if (received != client->replies().end()) {
        EXPECT_EQ(received->second.size(), 1u)
          << "reply frames for " << client_id << ":\n"
          << dump(received->second);
      }
    }
    acked += client->acked().size();
  }
  EXPECT_GE(acked, client_count * replies_before_stop);
  summary("SIGTERM");
}

TEST_F(shutdown_e2e, sigint_closes_connections_with_going_away) {
  start_server();
  ws_client client;
  open_session(client);
  send_message(client, "hello", "before-sigint");
  server().interrupt();
  auto end = client.wait_closed(frame_timeout);
  EXPECT_EQ(end.status, read_status::closed) << end.describe();
  EXPECT_EQ(end.close_code, 1001) << end.describe();
  auto status = server().wait_exit(exit_timeout);
  EXPECT_TRUE(status.is_exit(0)) << "after SIGINT the server "
                                 << status.to_string();
}

TEST_F(shutdown_e2e, sigkill_under_traffic_then_restart_and_resume) {
  start_server({}, machine_speed_env);
  start_traffic();
  if (HasFatalFailure())
    return;
  server().kill();
  auto status = server().wait_exit(exit_timeout);
  EXPECT_TRUE(status.signaled && status.signal == SIGKILL)
    << status.to_string();
  for (auto& client : clients_)
    client->join();
  for (auto& client : clients_) {
    SCOPED_TRACE("client " + std::to_string(client->index()));
    EXPECT_TRUE(client->problems().empty()) << problems(*client);
    EXPECT_EQ(client->end().status, read_status::error)
      << "a killed server sends no close frame: " << client->end().describe();
  }
  {
    // What was acknowledged before the crash survived it.
    db_probe db{db_path()};
    for (auto& client : clients_)
      expect_acked_and_replies_stored(db, *client);
  }
  start_server({}, machine_speed_env);
  auto deadline = clock_type::now() + 20s;
  for (auto& client : clients_) {
    client->resume(host(), port(), deadline);
    EXPECT_TRUE(client->problems().empty()) << problems(*client);
    client->close();
  }
  stop_server();
  db_probe db{db_path()};
  for (auto& client : clients_) {
    SCOPED_TRACE("client " + std::to_string(client->index()));
    expect_acked_and_replies_stored(db, *client);
    for (const auto& [client_id, message_id] : client->acked()) {
      EXPECT_EQ(db.replies_to(message_id), 1)
        << "acknowledged message " << client_id << " (message_id "
        << message_id << ") must end up with exactly one reply";
      auto received = client->replies().find(message_id);
      ASSERT_NE(received, client->replies().end())
        << "no reply received for " << client_id;
      EXPECT_EQ(received->second.size(), 1u)
        << "reply frames for " << client_id << ":\n"
        << dump(received->second);
    }
  }
  summary("SIGKILL and restart");
}

} // namespace
