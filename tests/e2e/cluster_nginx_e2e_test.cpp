// The cluster as an operator runs it: tools/cluster starts two workers and
// two gateways on the databases fixture's PostgreSQL, with nginx in front
// of the gateways (round robin, no sticky sessions). Chat clients talk only
// to nginx. They reconnect again and again, landing on either gateway, and
// resume; then tools/cluster kills a gateway, and they reconnect through
// nginx (which skips it) and resume; the gateway comes back; then it kills
// a worker under traffic, which comes back too. Every message is stored,
// acknowledged and answered once; every seq seen once.

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "storage/database.hpp"
#include "tests/e2e/resuming_client.hpp"
#include "tests/support/mock_llm_process.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_databases.hpp"

namespace parley::test {
namespace {

using nlohmann::json;

constexpr int client_count = 3;
constexpr std::size_t answers_per_step = 12;
constexpr auto step_timeout = 20000ms;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in{path};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

/// Quotes one word for sh.
std::string quoted(const std::string& word) {
  std::string out = "'";
  for (char c : word)
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return out + "'";
}

class cluster_nginx_e2e : public ::testing::Test {
protected:
  cluster_nginx_e2e() : dir_("parley-nginx"), database_("postgresql") {
    // nop
  }

  void TearDown() override {
    for (auto& client : clients_)
      client->join();
    if (started_) {
      std::string out;
      cluster({"stop"}, out);
    }
    if (HasFailure()) {
      std::string logs;
      for (const auto& entry : std::filesystem::directory_iterator{cluster_dir()})
        if (entry.path().extension() == ".log") {
          auto text = read_file(entry.path());
          if (text.size() > 8000)
            text = "[...]\n" + text.substr(text.size() - 8000);
          logs += "---- " + entry.path().filename().string() + " ----\n" + text;
        }
      logs += "---- nginx error.log ----\n"
              + read_file(cluster_dir() / "nginx" / "error.log");
      ADD_FAILURE() << "cluster logs (the end of each):\n" << logs;
    }
  }

  std::filesystem::path cluster_dir() const {
    return dir_.path() / "cluster";
  }

  /// Runs tools/cluster with `args` (and --dir); its output goes to `out`.
  int cluster(const std::vector<std::string>& args, std::string& out,
              const std::vector<std::string>& node_args = {}) {
    auto log = dir_.path() / "tools-cluster.out";
    std::string command = quoted(PARLEY_SOURCE_DIR "/tools/cluster");
    for (const auto& arg : args)
      command += " " + quoted(arg);
    command += " --dir " + quoted(cluster_dir().string());
    if (!node_args.empty()) {
      command += " --";
      for (const auto& arg : node_args)
        command += " " + quoted(arg);
    }
    command += " > " + quoted(log.string()) + " 2>&1";
    auto status = std::system(command.c_str());
    out = read_file(log);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  json state() {
    return json::parse(read_file(cluster_dir() / "cluster.json"), nullptr,
                       false);
  }

  bool wait_answers(std::size_t more) {
    return board_.wait_for_more(more, step_timeout);
  }

  std::string problems() const {
    return problems_of(clients_);
  }

  /// Every client leaves (once its answers are in) and comes back through
  /// nginx, which sends it to whichever gateway is next.
  void reconnect_all() {
    for (auto& client : clients_)
      client->stop();
    for (auto& client : clients_)
      client->join();
    start_all();
  }

  void start_all() {
    for (auto& client : clients_)
      client->start("127.0.0.1", nginx_port_, false,
                    clock_type::now() + 120s);
  }

  temp_dir dir_;
  scratch_database database_;
  std::unique_ptr<mock_llm_process> llm_;
  bool started_ = false;
  std::uint16_t nginx_port_ = 0;
  std::atomic<bool> killing_{false};
  progress_board board_;
  resuming_clients clients_;
};

TEST_F(cluster_nginx_e2e, survives_losing_a_gateway_and_a_worker_behind_nginx) {
  llm_ = std::make_unique<mock_llm_process>(std::vector<std::string>{
    "--protocol", "websocket", "--latency-ms", "30", "--chunks", "3",
    "--chunk-delay-ms", "10"});
  auto build_dir = std::filesystem::path{server_process::default_executable()}
                     .parent_path();
  std::string out;
  // Behind a proxy every client has the proxy's address: the per-address
  // limits go (docs/deployment.md), and so do the chat rates here.
  auto rc = cluster({"start", "--workers", "2", "--gateways", "2", "--nginx",
                     "--build-dir", build_dir.string(), "--database-url",
                     database_.url_text()},
                    out,
                    {"--llm-provider", "websocket", "--llm-url",
                     "ws://127.0.0.1:" + std::to_string(llm_->port()) + "/chat",
                     "--session-rate", "0", "--address-rate", "0",
                     "--max-connections-per-address", "0", "--log-level",
                     "debug"});
  started_ = true;
  ASSERT_EQ(rc, 0) << out;
  auto view = state();
  ASSERT_TRUE(view.is_object()) << read_file(cluster_dir() / "cluster.json");
  nginx_port_ = view["nginx"]["port"].get<std::uint16_t>();
  EXPECT_EQ(out.find(database_.url_text()), std::string::npos)
    << "the database password is not printed";

  for (int i = 0; i < client_count; ++i) {
    clients_.push_back(std::make_unique<resuming_client>(i, killing_, board_));
    clients_.back()->open("127.0.0.1", nginx_port_);
  }
  start_all();
  ASSERT_TRUE(wait_answers(answers_per_step)) << problems();

  // Reconnect through nginx a few times: round robin puts the sessions on
  // the other gateway each time, and back.
  for (int round = 0; round < 3; ++round) {
    reconnect_all();
    ASSERT_TRUE(wait_answers(answers_per_step))
      << "round " << round << ":\n" << problems();
  }
  ASSERT_EQ(problems(), "");
  // Both gateways served resumes.
  for (const auto* name : {"gateway-1.log", "gateway-2.log"})
    EXPECT_NE(read_file(cluster_dir() / name).find("resumed after seq"),
              std::string::npos)
      << name << " resumed no session";

  // A gateway dies under traffic; nginx skips it and the clients resume on
  // the other.
  killing_ = true;
  ASSERT_EQ(cluster({"kill", "gateway-1"}, out), 0) << out;
  for (auto& client : clients_)
    client->stop();
  for (auto& client : clients_)
    client->join();
  killing_ = false;
  start_all();
  ASSERT_TRUE(wait_answers(answers_per_step))
    << "after losing gateway-1:\n" << problems();
  ASSERT_EQ(problems(), "");

  // It comes back on its port; the clients spread again.
  ASSERT_EQ(cluster({"restart", "gateway-1"}, out), 0) << out;
  for (int round = 0; round < 2; ++round) {
    reconnect_all();
    ASSERT_TRUE(wait_answers(answers_per_step)) << problems();
  }

  // A worker dies under traffic and comes back; the chat goes on through
  // it all (tools/cluster restart waits until both gateways have it back).
  ASSERT_EQ(cluster({"kill", "worker-1"}, out), 0) << out;
  ASSERT_TRUE(wait_answers(answers_per_step))
    << "after losing worker-1:\n" << problems();
  ASSERT_EQ(cluster({"restart", "worker-1"}, out), 0) << out;
  ASSERT_TRUE(wait_answers(answers_per_step)) << problems();
  ASSERT_EQ(problems(), "");

  // The end: one more resume through nginx that waits for every answer.
  finish_on(clients_, "127.0.0.1", nginx_port_,
            clock_type::now() + step_timeout);
  EXPECT_EQ(problems(), "");
  for (auto& client : clients_)
    client->close();
  ASSERT_EQ(cluster({"status"}, out), 0) << out;
  ASSERT_EQ(cluster({"stop"}, out), 0) << out;
  started_ = false;
  const auto final_state = state(); // a range-for over a temporary's member dangles
  for (const auto& node : final_state["nodes"]) {
    if (node["pid"].is_number_integer()) {
      EXPECT_NE(::kill(node["pid"].get<pid_t>(), 0), 0)
        << node["name"] << " still runs after stop";
    }
  }

  storage::database db{database_.url()};
  std::size_t total = 0;
  std::size_t resumes = 0;
  for (auto& client : clients_) {
    check_stored(db, *client);
    total += client->sent().size();
    resumes += client->resumes();
  }
  std::cout << "[ nginx    ] " << total << " messages from " << client_count
            << " clients, " << resumes << " resumes through nginx"
            << std::endl;
}

} // namespace
} // namespace parley::test
