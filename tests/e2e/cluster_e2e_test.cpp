// A cluster on loopback: two worker nodes and two gateways (the real
// binary, --role worker and --role gateway) on one PostgreSQL database, the
// workers answering through the streaming mock LLM. Chat clients keep
// talking through both gateways while the test
//
//   1. kills a worker mid-conversation (SIGKILL): its requests move to the
//      other worker, or end as interrupted answers when text was shown;
//   2. restarts it on the same node port: both gateways take it back;
//   3. kills a gateway: its clients resume on the other gateway and send
//      again what was not acknowledged;
//   4. restarts it and moves clients between the gateways with no
//      stickiness, back to gateways where their old session actors still
//      linger;
//
// and then checks every client against the database: every message stored
// once, acknowledged once, answered once; every seq seen once.

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "storage/database.hpp"
#include "tests/e2e/admin_api.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/resuming_client.hpp"
#include "tests/support/mock_llm_process.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_databases.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int worker_count = 2;
constexpr int gateway_count = 2;
constexpr int client_count = 4;
constexpr auto start_timeout = 20000ms;
constexpr auto exit_timeout = 10000ms;
// How long the cluster may take to show progress after each step.
constexpr auto step_timeout = 20000ms;
constexpr std::size_t answers_per_step = 16;
const std::string node_secret = "cluster-test-node-secret";

/// One node: its process and what it listens on across restarts.
struct node {
  std::string name;
  std::vector<std::string> args; // without --port / --node-port
  std::uint16_t http_port = 0;
  std::uint16_t node_port = 0; // workers
  std::unique_ptr<server_process> process;
  std::string logs; // of earlier runs
};

class cluster_e2e : public ::testing::Test {
protected:
  cluster_e2e() : dir_("parley-cluster"), database_("postgresql") {
    std::filesystem::create_directories(dir_ / "knowledge");
  }

  void TearDown() override {
    for (auto& client : clients_)
      client->join();
    std::string logs;
    for (auto* n : all_nodes()) {
      if (n->process && n->process->running()) {
        n->process->kill();
        n->process->wait_exit(exit_timeout);
      }
      keep_log(*n);
      logs += n->logs;
    }
    if (HasFailure())
      ADD_FAILURE() << "node logs (the end of each):\n" << logs;
  }

  std::vector<node*> all_nodes() {
    std::vector<node*> result;
    for (auto& w : workers_)
      result.push_back(&w);
    for (auto& g : gateways_)
      result.push_back(&g);
    return result;
  }

  static void keep_log(node& n) {
    if (!n.process)
      return;
    auto log = n.process->log();
    if (log.size() > 20000)
      log = "[...]\n" + log.substr(log.size() - 20000);
    n.logs += "---- " + n.name + " (pid " + std::to_string(n.process->pid())
              + ") ----\n" + log;
    n.process.reset();
  }

  std::vector<std::string> common_args(const std::string& name) {
    auto data = dir_ / name;
    std::filesystem::create_directories(data);
    return {"--host", "127.0.0.1", "--database-url", database_.url_text(),
            "--data-dir", data.string(), "--knowledge-dir",
            (dir_ / "knowledge").string(), "--log-level", "debug",
            "--session-rate", "0", "--address-rate", "0"};
  }

  void start(node& n, bool worker) {
    keep_log(n);
    auto args = n.args;
    args.insert(args.end(), {"--port", std::to_string(n.http_port)});
    if (worker)
      args.insert(args.end(), {"--node-port", std::to_string(n.node_port)});
    n.process = std::make_unique<server_process>(
      server_process::default_executable(), args,
      std::map<std::string, std::string>{{"PARLEY_ADMIN_TOKEN",
                                          test_admin_token},
                                         {"PARLEY_NODE_SECRET", node_secret}},
      dir_.str());
    if (worker) {
      auto line = n.process->wait_for_line(
        std::regex{R"(node listening on 127\.0\.0\.1:(\d+))"}, start_timeout);
      if (!line)
        throw std::runtime_error(n.name + " did not publish its node port:\n"
                                 + n.process->log());
      std::smatch m;
      std::regex_search(*line, m,
                        std::regex{R"(node listening on 127\.0\.0\.1:(\d+))"});
      n.node_port = static_cast<std::uint16_t>(std::stoi(m[1]));
    }
    if (!n.process->wait_until_listening(start_timeout))
      throw std::runtime_error(n.name + " did not start:\n" + n.process->log());
    n.http_port = n.process->port();
  }

  void start_worker(int i) {
    auto& w = workers_[i];
    if (w.args.empty()) {
      w.name = "worker-" + std::to_string(i + 1);
      w.args = common_args(w.name);
      w.args.insert(w.args.end(),
                    {"--role", "worker", "--llm-provider", "websocket",
                     "--llm-url", "ws://127.0.0.1:"
                                    + std::to_string(llm_->port()) + "/chat"});
    }
    start(w, true);
  }

  void start_gateway(int i) {
    auto& g = gateways_[i];
    if (g.args.empty()) {
      g.name = "gateway-" + std::to_string(i + 1);
      g.args = common_args(g.name);
      std::string list;
      for (const auto& w : workers_)
        list += (list.empty() ? "" : ",") + std::string{"127.0.0.1:"}
                + std::to_string(w.node_port);
      g.args.insert(g.args.end(), {"--role", "gateway", "--workers", list});
    }
    start(g, false);
  }

  /// GET /api/cluster on a gateway.
  json cluster_of(node& g) {
    auto res = http_request("127.0.0.1", g.http_port, "GET", "/api/cluster",
                            {}, {{"Authorization",
                                  "Bearer " + std::string{test_admin_token}}});
    EXPECT_EQ(res.status, 200u) << res.body;
    return json::parse(res.body, nullptr, false);
  }

  /// How many of `g`'s workers are up, and the first worker's connections.
  std::size_t workers_up(node& g) {
    auto view = cluster_of(g);
    std::size_t up = 0;
    if (view.is_object())
      for (const auto& n : view.value("nodes", json::array()))
        if (n.value("role", "") == "worker" && n.value("state", "") == "up")
          ++up;
    return up;
  }

  /// Waits (bounded) until every gateway sees `up` workers up.
  bool wait_workers_up(std::size_t up) {
    auto deadline = clock_type::now() + step_timeout;
    for (;;) {
      bool all = true;
      for (auto& g : gateways_)
        if (g.process && workers_up(g) != up)
          all = false;
      if (all)
        return true;
      if (clock_type::now() >= deadline)
        return false;
      // Polling a state that changes on its own: a short pause between
      // looks, not a sleep standing in for a condition.
      std::this_thread::sleep_for(50ms);
    }
  }

  bool wait_answers(std::size_t more) {
    return board_.wait_for(board_.count() + more, step_timeout);
  }

  std::string problems() const {
    std::string out;
    for (const auto& client : clients_)
      for (const auto& p : client->problems())
        out += "  " + p + "\n";
    return out;
  }

  /// Clients `which` move to gateway `to`: they stop (closing their
  /// sockets), and resume there, sending again what was not acknowledged.
  void move(const std::vector<int>& which, int to) {
    for (auto i : which)
      clients_[i]->stop();
    for (auto i : which)
      clients_[i]->join();
    for (auto i : which)
      clients_[i]->start("127.0.0.1", gateways_[to].http_port, false,
                         clock_type::now() + 120s);
  }

  temp_dir dir_;
  scratch_database database_;
  std::unique_ptr<mock_llm_process> llm_;
  std::vector<node> workers_{worker_count};
  std::vector<node> gateways_{gateway_count};
  std::atomic<bool> killing_{false};
  progress_board board_;
  std::vector<std::unique_ptr<resuming_client>> clients_;
};

TEST_F(cluster_e2e, survives_losing_a_worker_and_a_gateway_with_nothing_lost_or_doubled) {
  // Every answer streams four pieces after 50 ms: requests are in flight on
  // the workers most of the time.
  llm_ = std::make_unique<mock_llm_process>(std::vector<std::string>{
    "--protocol", "websocket", "--latency-ms", "50", "--chunks", "4",
    "--chunk-delay-ms", "20"});
  // The first worker migrates the schema; the others start after it.
  for (int i = 0; i < worker_count; ++i)
    start_worker(i);
  for (int i = 0; i < gateway_count; ++i)
    start_gateway(i);
  ASSERT_TRUE(wait_workers_up(worker_count)) << "the gateways joined the workers";

  // Clients 0 and 1 on gateway-1, 2 and 3 on gateway-2.
  auto far = clock_type::now() + 120s;
  for (int i = 0; i < client_count; ++i) {
    clients_.push_back(std::make_unique<resuming_client>(i, killing_, board_));
    clients_.back()->open("127.0.0.1", gateways_[i / 2].http_port);
  }
  for (int i = 0; i < client_count; ++i)
    clients_[i]->start("127.0.0.1", gateways_[i / 2].http_port, false, far);
  ASSERT_TRUE(wait_answers(answers_per_step)) << "chat through both gateways:\n"
                                              << problems();

  // 1. A worker dies mid-conversation.
  workers_[0].process->kill();
  EXPECT_TRUE(workers_[0].process->wait_exit(exit_timeout).signaled);
  ASSERT_TRUE(wait_answers(answers_per_step))
    << "answers go on with one worker:\n" << problems();
  std::int64_t moved = 0;
  for (auto& g : gateways_) {
    auto view = cluster_of(g);
    EXPECT_EQ(view["nodes"][1]["state"], "down") << view.dump();
    moved += view["nodes"][1].value("failed", std::int64_t{0});
  }
  EXPECT_GE(moved, 1) << "the kill caught requests in flight on worker-1";

  // 2. It comes back on the same node port; both gateways take it back.
  start_worker(0);
  ASSERT_TRUE(wait_workers_up(worker_count)) << "the restarted worker rejoined";
  for (auto& g : gateways_) {
    auto view = cluster_of(g);
    EXPECT_EQ(view["nodes"][1]["connections"], 2) << view.dump();
  }
  ASSERT_TRUE(wait_answers(answers_per_step)) << problems();
  ASSERT_EQ(problems(), "");

  // 3. A gateway dies; its clients resume on the other one.
  killing_ = true;
  gateways_[0].process->kill();
  EXPECT_TRUE(gateways_[0].process->wait_exit(exit_timeout).signaled);
  clients_[0]->join();
  clients_[1]->join();
  killing_ = false;
  for (int i : {0, 1})
    clients_[i]->start("127.0.0.1", gateways_[1].http_port, false, far);
  ASSERT_TRUE(wait_answers(answers_per_step))
    << "everyone chats through gateway-2:\n" << problems();
  ASSERT_EQ(problems(), "");

  // 4. It comes back (same port); clients move with no stickiness: 2 and 3
  // to gateway-1, then back to gateway-2, where their earlier session actors
  // still linger, then everyone to gateway-1.
  start_gateway(0);
  ASSERT_TRUE(wait_workers_up(worker_count));
  move({2, 3}, 0);
  ASSERT_TRUE(wait_answers(answers_per_step)) << problems();
  move({2, 3}, 1);
  ASSERT_TRUE(wait_answers(answers_per_step)) << problems();
  EXPECT_NE(gateways_[1].process->log().find("catching up from the database"),
            std::string::npos)
    << "gateway-2's lingering session actors caught up with gateway-1";
  move({0, 1, 2, 3}, 0);
  ASSERT_TRUE(wait_answers(answers_per_step)) << problems();
  ASSERT_EQ(problems(), "");

  // The end: every client resumes on gateway-2 once more and waits for all
  // its answers.
  for (auto& client : clients_)
    client->stop();
  for (auto& client : clients_)
    client->join();
  auto deadline = clock_type::now() + step_timeout;
  for (auto& client : clients_)
    client->start("127.0.0.1", gateways_[1].http_port, true, deadline);
  for (auto& client : clients_)
    client->join();
  EXPECT_EQ(problems(), "");
  for (auto& client : clients_)
    client->close();

  // Every node stops cleanly.
  for (auto* n : all_nodes()) {
    n->process->terminate();
    auto status = n->process->wait_exit(exit_timeout);
    EXPECT_TRUE(status.is_exit(0)) << n->name << " " << status.to_string();
  }

  storage::database db{database_.url()};
  std::size_t total = 0;
  std::size_t resumes = 0;
  std::size_t resent = 0;
  for (auto& client : clients_) {
    check_stored(db, *client);
    total += client->sent().size();
    resumes += client->resumes();
    resent += client->resent();
  }
  long long sessions = 0;
  db.sql() << "SELECT COUNT(*) FROM chat_sessions", soci::into(sessions);
  EXPECT_EQ(sessions, client_count) << "every resume continued its session";
  std::cout << "[ cluster  ] " << total << " messages from " << client_count
            << " clients, " << resumes << " resumes (" << resent
            << " resent unacknowledged)" << std::endl;
}

} // namespace
} // namespace parley::test
