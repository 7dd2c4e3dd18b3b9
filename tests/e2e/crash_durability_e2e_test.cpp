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

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "storage/database.hpp"
#include "tests/e2e/admin_api.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/resuming_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_databases.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

constexpr int client_count = 6;
constexpr int kill_count = 8;
constexpr auto start_timeout = 15000ms;
constexpr auto exit_timeout = 10000ms;
// How long a cycle may take to show traffic before the kill, and the last
// restart to get everything answered.
constexpr auto progress_timeout = 10000ms;
constexpr auto final_timeout = 20000ms;

/// PARLEY_TEST_SEED, or a fresh one.
std::uint64_t test_seed() {
  if (const char* text = std::getenv("PARLEY_TEST_SEED"); text && *text)
    return std::strtoull(text, nullptr, 10);
  return std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32);
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
    return problems_of(clients_);
  }

  temp_dir dir_;
  scratch_database database_;
  std::unique_ptr<server_process> server_;
  std::string logs_;
  std::uint64_t seed_ = 0;
  std::atomic<bool> killing_{false};
  progress_board board_;
  resuming_clients clients_;
};

TEST_P(crash_durability_e2e, sigkill_at_random_points_loses_and_repeats_nothing) {
  seed_ = test_seed();
  std::cout << "[ seed     ] PARLEY_TEST_SEED=" << seed_ << std::endl;
  RecordProperty("seed", std::to_string(seed_));
  std::mt19937_64 rng{seed_};
  auto started = clock_type::now();

  start_server();
  for (int i = 0; i < client_count; ++i) {
    clients_.push_back(std::make_unique<resuming_client>(i, killing_, board_));
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
      ASSERT_TRUE(board_.wait_for_more(answers, progress_timeout))
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
    check_stored(db, *client);
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
