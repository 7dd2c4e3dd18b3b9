// parley-loadgen against the real server, with small numbers: every count
// in its --json report must be exact. Each test starts `parley` on port 0
// in a temporary folder (SQLite, the rules agent, the message-rate limits
// off) and runs the load generator as a child process to its end.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace parley::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr auto start_timeout = 15000ms;
// Generous: the runs take a second or two, on a loaded machine more.
constexpr auto run_timeout = 120000ms;

std::string loadgen_path() {
  auto parley = std::filesystem::path{server_process::default_executable()};
  return (parley.parent_path() / "parley-loadgen").string();
}

class loadgen_smoke : public ::testing::Test {
protected:
  loadgen_smoke() : tmp_("parley-loadgen") {
    std::filesystem::create_directories(tmp_ / "knowledge");
  }

  void TearDown() override {
    if (server_ && server_->running()) {
      server_->terminate();
      server_->wait_exit(10000ms);
    }
    if (HasFailure() && server_)
      ADD_FAILURE() << "server log:\n" << server_->log();
  }

  void start_server() {
    std::vector<std::string> args{
      "--host", "127.0.0.1", "--port", "0", "--database-url",
      "sqlite:///" + (tmp_ / "parley.db").string(), "--knowledge-dir",
      (tmp_ / "knowledge").string(), "--log-level", "info"};
    // The load generator chats at machine speed: no message-rate limits.
    std::map<std::string, std::string> env{
      {"PARLEY_SESSION_RATE", "0"},
      {"PARLEY_ADDRESS_RATE", "0"},
      {"PARLEY_ADMIN_TOKEN", "loadgen_smoke_admin_token"}};
    server_ = std::make_unique<server_process>(
      server_process::default_executable(), args, env, tmp_.str());
    ASSERT_TRUE(server_->wait_until_listening(start_timeout)) << server_->log();
  }

  /// Runs parley-loadgen with `args` plus --json and the server's address
  /// (unless `args` has --port) and returns its report; `exit_code` is what
  /// it must exit with.
  json run_loadgen(std::vector<std::string> args, int exit_code = 0) {
    if (std::find(args.begin(), args.end(), "--port") == args.end()) {
      args.push_back("--port");
      args.push_back(std::to_string(server_->port()));
    }
    args.push_back("--json");
    server_process loadgen{loadgen_path(), args, {}, tmp_.str()};
    auto status = loadgen.wait_exit(run_timeout);
    EXPECT_TRUE(status.is_exit(exit_code))
      << status.to_string() << "\n" << loadgen.log();
    // The report is one line; nothing else goes to stdout.
    for (const auto& line : loadgen.lines())
      if (!line.empty() && line.front() == '{')
        return json::parse(line);
    ADD_FAILURE() << "no JSON report in:\n" << loadgen.log();
    return json::object();
  }

  temp_dir tmp_;
  std::unique_ptr<server_process> server_;
};

TEST_F(loadgen_smoke, websocket_counts_every_answer) {
  start_server();
  auto report = run_loadgen({"--mode", "ws", "--connections", "5",
                             "--messages", "10", "--source-addresses", "3",
                             "--timeout-ms", "20000"});
  EXPECT_EQ(report["mode"], "ws");
  EXPECT_EQ(report["connections"]["opened"], 5);
  EXPECT_EQ(report["connections"]["failed"], 0);
  EXPECT_EQ(report["connections"]["sessions"], 5);
  EXPECT_EQ(report["messages"]["sent"], 50);
  EXPECT_EQ(report["messages"]["answered"], 50);
  EXPECT_EQ(report["errors"]["total"], 0) << report["errors"].dump();
  EXPECT_EQ(report["latency_ms"]["count"], 50);
  auto lat = report["latency_ms"];
  EXPECT_GT(lat["max"].get<double>(), 0.0);
  EXPECT_LE(lat["min"].get<double>(), lat["p50"].get<double>());
  EXPECT_LE(lat["p50"].get<double>(), lat["p99"].get<double>());
  EXPECT_LE(lat["p99"].get<double>(), lat["max"].get<double>());
  // ack, typing and the message at least.
  EXPECT_GE(report["frames"]["per_reply_min"].get<int>(), 2);
  EXPECT_GE(report["frames"]["per_reply"].get<double>(), 2.0);
  // Nothing but the session frames and the frames of the replies.
  EXPECT_EQ(report["frames"]["received"].get<std::uint64_t>(),
            5 + report["frames"]["in_replies"].get<std::uint64_t>());
  EXPECT_GT(report["throughput_per_s"].get<double>(), 0.0);
}

TEST_F(loadgen_smoke, warmup_and_several_outstanding) {
  start_server();
  auto report = run_loadgen({"--connections", "4", "--messages", "6",
                             "--warmup-messages", "2", "--outstanding", "3",
                             "--threads", "2", "--timeout-ms", "20000"});
  EXPECT_EQ(report["threads"], 2);
  EXPECT_EQ(report["messages"]["sent"], 24);
  EXPECT_EQ(report["messages"]["answered"], 24);
  EXPECT_EQ(report["messages"]["warmup_sent"], 8);
  EXPECT_EQ(report["messages"]["warmup_answered"], 8);
  EXPECT_EQ(report["latency_ms"]["count"], 24);
  EXPECT_EQ(report["errors"]["total"], 0) << report["errors"].dump();
  EXPECT_GE(report["frames"]["per_reply_min"].get<int>(), 2);
}

TEST_F(loadgen_smoke, idle_sessions_and_server_memory) {
  start_server();
  auto report = run_loadgen({"--mode", "idle", "--connections", "20",
                             "--server-pid", std::to_string(server_->pid()),
                             "--timeout-ms", "20000"});
  EXPECT_EQ(report["mode"], "idle");
  EXPECT_EQ(report["connections"]["sessions"], 20);
  EXPECT_EQ(report["messages"]["sent"], 20);
  EXPECT_EQ(report["messages"]["answered"], 20);
  EXPECT_EQ(report["errors"]["total"], 0) << report["errors"].dump();
  const auto& server = report["server"];
  EXPECT_EQ(server["pid"], server_->pid());
  ASSERT_TRUE(server["rss_before_kib"].is_number()) << server.dump();
  ASSERT_TRUE(server["rss_after_kib"].is_number()) << server.dump();
  EXPECT_GT(server["rss_before_kib"].get<double>(), 0.0);
  EXPECT_GT(server["rss_after_kib"].get<double>(), 0.0);
  EXPECT_TRUE(server["rss_per_session_kib"].is_number()) << server.dump();
}

TEST_F(loadgen_smoke, http_posts_for_a_second) {
  start_server();
  auto report = run_loadgen({"--mode", "http", "--concurrency", "2",
                             "--duration", "1", "--timeout-ms", "20000"});
  EXPECT_EQ(report["mode"], "http");
  auto requests = report["http"]["requests"].get<std::uint64_t>();
  EXPECT_GT(requests, 0u);
  // POST /api/chat/send answers 201 Created (docs/api.md).
  EXPECT_EQ(report["http"]["status"].value("201", std::uint64_t{0}), requests)
    << report["http"].dump();
  EXPECT_EQ(report["messages"]["answered"], requests);
  EXPECT_EQ(report["connections"]["opened"], 2);
  EXPECT_EQ(report["errors"]["total"], 0) << report["errors"].dump();
}

TEST_F(loadgen_smoke, no_server_counts_connect_failures) {
  // Port 1 on loopback: nothing listens there, the connect is refused.
  auto report = run_loadgen(
    {"--connections", "3", "--messages", "1", "--port", "1"}, 1);
  EXPECT_EQ(report["connections"]["failed"], 3);
  EXPECT_EQ(report["errors"]["connect_failed"], 3);
  EXPECT_EQ(report["messages"]["answered"], 0);
}

} // namespace
