#pragma once

// Nodes of a cluster on loopback for the cluster tests: up to two workers
// (the streaming mock LLM behind them) and two gateways, the real binary,
// on the databases fixture's PostgreSQL; each node keeps its ports across
// restarts, and its logs are shown when a test fails.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/admin_api.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/resuming_client.hpp"
#include "tests/support/mock_llm_process.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_databases.hpp"
#include "tests/support/ws_client.hpp"

namespace parley::test {

namespace cluster_test {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr auto start_timeout = 20000ms;
constexpr auto exit_timeout = 10000ms;
// How long the cluster may take to show progress after each step.
constexpr auto step_timeout = 20000ms;
inline const std::string node_secret = "cluster-test-node-secret";

} // namespace cluster_test

using namespace cluster_test;

/// One node: its process and what it listens on across restarts.
struct node {
  std::string name;
  std::vector<std::string> args; // without --port / --node-port
  std::map<std::string, std::string> env;
  std::uint16_t http_port = 0;
  std::uint16_t node_port = 0; // workers
  std::unique_ptr<server_process> process;
  std::string logs; // of earlier runs
};

class cluster_fixture : public ::testing::Test {
protected:
  cluster_fixture() : dir_("parley-cluster"), database_("postgresql") {
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
    if (HasFailure()) {
      // The whole logs, for the failure's story; the output shows the ends.
      auto artefacts = std::filesystem::path{
                         server_process::default_executable()}
                         .parent_path()
                       / "test-artifacts" / "cluster";
      std::filesystem::create_directories(artefacts);
      auto file = artefacts
                  / (std::string{::testing::UnitTest::GetInstance()
                                   ->current_test_info()
                                   ->name()}
                     + ".log");
      std::ofstream{file} << full_logs_;
      ADD_FAILURE() << "node logs (the end of each; all of them in "
                    << file.string() << "):\n" << logs;
    }
  }

  std::vector<node*> all_nodes() {
    std::vector<node*> result;
    for (auto& w : workers_)
      result.push_back(&w);
    for (auto& g : gateways_)
      result.push_back(&g);
    return result;
  }

  void keep_log(node& n) {
    if (!n.process)
      return;
    auto log = n.process->log();
    full_logs_ += "---- " + n.name + " (pid "
                  + std::to_string(n.process->pid()) + ") ----\n" + log;
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
      server_process::default_executable(), args, n.env, dir_.str());
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

  /// Starts worker i (again: on the same ports, with the same flags);
  /// `extra` flags only count the first time.
  void start_worker(int i, std::vector<std::string> extra = {}) {
    auto& w = workers_[i];
    if (w.args.empty()) {
      w.name = "worker-" + std::to_string(i + 1);
      w.args = common_args(w.name);
      w.args.insert(w.args.end(),
                    {"--role", "worker", "--llm-provider", "websocket",
                     "--llm-url", "ws://127.0.0.1:"
                                    + std::to_string(llm_->port()) + "/chat"});
      w.args.insert(w.args.end(), extra.begin(), extra.end());
      w.env = node_env(node_secret);
    }
    start(w, true);
  }

  /// Starts gateway i, with every worker started so far; `secret` replaces
  /// the cluster's node secret (empty: none).
  void start_gateway(int i, std::vector<std::string> extra = {},
                     std::optional<std::string> secret = std::nullopt) {
    auto& g = gateways_[i];
    if (g.args.empty()) {
      g.name = "gateway-" + std::to_string(i + 1);
      g.args = common_args(g.name);
      std::string list;
      for (const auto& w : workers_)
        if (!w.args.empty())
          list += (list.empty() ? "" : ",") + std::string{"127.0.0.1:"}
                  + std::to_string(w.node_port);
      g.args.insert(g.args.end(), {"--role", "gateway", "--workers", list});
      g.args.insert(g.args.end(), extra.begin(), extra.end());
      g.env = node_env(secret.value_or(node_secret));
    }
    start(g, false);
  }

  static std::map<std::string, std::string>
  node_env(const std::string& secret) {
    std::map<std::string, std::string> env{
      {"PARLEY_ADMIN_TOKEN", test_admin_token}};
    if (!secret.empty())
      env["PARLEY_NODE_SECRET"] = secret;
    return env;
  }

  /// A chat message over REST through gateway i: the answer's text and
  /// source ("llm" from a worker, "fallback" from the gateway itself).
  std::pair<std::string, std::string> chat_via(int i, const std::string& text) {
    auto body = json{{"message", text}, {"user_email", "cluster@example.com"}};
    auto res = http_request("127.0.0.1", gateways_[i].http_port, "POST",
                            "/api/chat/send", body.dump(),
                            {{"Content-Type", "application/json"}});
    auto answer = json::parse(res.body, nullptr, false);
    if (res.status != 201 || !answer.is_object())
      return {"HTTP " + std::to_string(res.status) + ": " + res.body, ""};
    const auto& data = answer["data"]["message"];
    return {data.value("response", ""), data.value("source", "")};
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
        if (g.process && g.process->running() && workers_up(g) != up)
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
    return board_.wait_for_more(more, step_timeout);
  }

  std::string problems() const {
    return problems_of(clients_);
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
  std::vector<node> workers_{2};
  std::vector<node> gateways_{2};
  std::atomic<bool> killing_{false};
  progress_board board_;
  resuming_clients clients_;
  std::string full_logs_;
};

} // namespace parley::test
