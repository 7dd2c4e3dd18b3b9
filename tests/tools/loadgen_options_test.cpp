// The load generator's command line (tools/loadgen/options): defaults,
// --url, the checks, and the source addresses.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tools/loadgen/options.hpp"

using namespace parley::loadgen;

namespace {

parse_result parse(std::vector<std::string> args) {
  args.insert(args.begin(), "parley-loadgen");
  std::vector<const char*> argv;
  for (const auto& a : args)
    argv.push_back(a.c_str());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

options parse_ok(std::vector<std::string> args) {
  auto result = parse(std::move(args));
  if (!result.opts)
    ADD_FAILURE() << result.message;
  return result.opts.value_or(options{});
}

void expect_usage_error(std::vector<std::string> args,
                        const std::string& says) {
  auto result = parse(args);
  EXPECT_FALSE(result.opts) << args.back();
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.message.find(says), std::string::npos) << result.message;
}

TEST(loadgen_options, defaults) {
  auto opts = parse_ok({});
  EXPECT_EQ(opts.mode, run_mode::ws);
  EXPECT_EQ(opts.host, "127.0.0.1");
  EXPECT_EQ(opts.port, 3001);
  EXPECT_EQ(opts.path, "/ws");
  EXPECT_EQ(opts.connections, 10u);
  EXPECT_EQ(opts.messages, 100u);
  EXPECT_EQ(opts.outstanding, 1u);
  EXPECT_EQ(opts.warmup_messages, 0u);
  EXPECT_EQ(opts.think_ms, 0u);
  EXPECT_EQ(opts.ramp_per_sec, 0.0);
  EXPECT_EQ(opts.duration_s, 0.0); // ws: no limit
  EXPECT_EQ(opts.threads, 1u);
  EXPECT_EQ(opts.timeout_ms, 30000u);
  EXPECT_FALSE(opts.json);
  EXPECT_FALSE(opts.server_pid);
  EXPECT_EQ(opts.text, "hello");
  EXPECT_EQ(opts.source_addresses, 1u);
  EXPECT_EQ(opts.url(), "ws://127.0.0.1:3001/ws");
}

TEST(loadgen_options, every_flag) {
  auto opts = parse_ok(
    {"--mode", "ws", "--host", "localhost", "--port", "8080",
     "--connections", "500", "--messages", "7", "--warmup-messages", "3",
     "--outstanding", "4", "--think-ms", "20", "--ramp-per-sec", "250.5",
     "--duration", "1.5", "--timeout-ms", "900", "--threads", "2",
     "--server-pid", "1234", "--text", "where is my order?", "--json",
     "--source-addresses", "9"});
  EXPECT_EQ(opts.host, "localhost");
  EXPECT_EQ(opts.port, 8080);
  EXPECT_EQ(opts.connections, 500u);
  EXPECT_EQ(opts.messages, 7u);
  EXPECT_EQ(opts.warmup_messages, 3u);
  EXPECT_EQ(opts.outstanding, 4u);
  EXPECT_EQ(opts.think_ms, 20u);
  EXPECT_EQ(opts.ramp_per_sec, 250.5);
  EXPECT_EQ(opts.duration_s, 1.5);
  EXPECT_EQ(opts.timeout_ms, 900u);
  EXPECT_EQ(opts.threads, 2u);
  EXPECT_EQ(opts.server_pid.value_or(0), 1234);
  EXPECT_EQ(opts.text, "where is my order?");
  EXPECT_TRUE(opts.json);
  EXPECT_EQ(opts.source_addresses, 9u);
}

TEST(loadgen_options, url_sets_host_port_and_path) {
  auto opts = parse_ok({"--url", "ws://127.0.0.5:4100/chat"});
  EXPECT_EQ(opts.host, "127.0.0.5");
  EXPECT_EQ(opts.port, 4100);
  EXPECT_EQ(opts.path, "/chat");
  opts = parse_ok({"--url", "http://example.test:81", "--mode", "http"});
  EXPECT_EQ(opts.host, "example.test");
  EXPECT_EQ(opts.port, 81);
  EXPECT_EQ(opts.path, "/ws"); // no path: the default
  EXPECT_EQ(opts.url(), "http://example.test:81/api/chat/send");
  opts = parse_ok({"--url", "ws://[::1]:9000/ws"});
  EXPECT_EQ(opts.host, "::1");
  EXPECT_EQ(opts.port, 9000);
  EXPECT_EQ(opts.url(), "ws://[::1]:9000/ws");
}

TEST(loadgen_options, parse_url_details) {
  std::string error;
  auto u = parse_url("ws://host", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->path, "");
  for (const char* bad :
       {"127.0.0.1:3001", "ftp://h/", "ws://", "ws://:80/ws", "ws://h:0/",
        "ws://h:70000/", "ws://h:x/", "ws://h:/", "ws://[::1/ws",
        "ws://[::1]x/ws"}) {
    error.clear();
    EXPECT_FALSE(parse_url(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  EXPECT_FALSE(parse_url("wss://h/ws", error));
  EXPECT_NE(error.find("TLS"), std::string::npos);
}

TEST(loadgen_options, url_excludes_host_and_port) {
  expect_usage_error({"--url", "ws://h:1/ws", "--host", "x"}, "--url");
  expect_usage_error({"--url", "ws://h:1/ws", "--port", "2"}, "--url");
}

TEST(loadgen_options, http_mode_runs_10_seconds_by_default) {
  auto opts = parse_ok({"--mode", "http"});
  EXPECT_EQ(opts.mode, run_mode::http);
  EXPECT_EQ(opts.duration_s, 10.0);
  EXPECT_EQ(opts.concurrency, 10u);
  opts = parse_ok({"--mode", "http", "--duration", "1", "--concurrency", "3"});
  EXPECT_EQ(opts.duration_s, 1.0);
  EXPECT_EQ(opts.total_connections(), 3u);
}

TEST(loadgen_options, idle_mode) {
  auto opts = parse_ok({"--mode", "idle", "--connections", "20"});
  EXPECT_EQ(opts.mode, run_mode::idle);
  EXPECT_EQ(opts.total_connections(), 20u);
}

TEST(loadgen_options, expect_echo_for_an_echo_server) {
  EXPECT_EQ(parse_ok({}).expect, expect_mode::parley);
  auto opts = parse_ok({"--expect", "echo"});
  EXPECT_EQ(opts.expect, expect_mode::echo);
  EXPECT_STREQ(to_string(opts.expect), "echo");
  expect_usage_error({"--expect", "json"}, "--expect");
  expect_usage_error({"--mode", "idle", "--expect", "echo"}, "--mode ws");
  expect_usage_error({"--mode", "http", "--expect", "echo"}, "--mode ws");
}

TEST(loadgen_options, refuses_bad_values) {
  expect_usage_error({"--mode", "tcp"}, "--mode");
  expect_usage_error({"--connections", "0"}, "--connections");
  expect_usage_error({"--messages", "0"}, "--messages");
  expect_usage_error({"--outstanding", "0"}, "--outstanding");
  expect_usage_error({"--outstanding", "1001"}, "--outstanding");
  expect_usage_error({"--threads", "0"}, "--threads");
  expect_usage_error({"--timeout-ms", "0"}, "--timeout-ms");
  expect_usage_error({"--ramp-per-sec", "-1"}, "--ramp-per-sec");
  expect_usage_error({"--duration", "0"}, "--duration");
  expect_usage_error({"--server-pid", "0"}, "--server-pid");
  expect_usage_error({"--text", "  "}, "--text");
  expect_usage_error({"--port", "0"}, "--port");
  expect_usage_error({"--port", "70000"}, "--port");
  expect_usage_error({"--source-addresses", "0"}, "--source-addresses");
  expect_usage_error({"--url", "wss://h/ws"}, "TLS");
  expect_usage_error({"--connections", "many"}, "connections");
  expect_usage_error({"--no-such-flag"}, "no-such-flag");
}

TEST(loadgen_options, help_exits_0_with_every_flag) {
  auto result = parse({"--help"});
  EXPECT_FALSE(result.opts);
  EXPECT_EQ(result.exit_code, 0);
  for (const char* flag :
       {"--mode", "--expect", "--url", "--host", "--port", "--connections",
        "--messages", "--warmup-messages", "--outstanding", "--think-ms",
        "--ramp-per-sec", "--duration", "--concurrency", "--timeout-ms",
        "--threads", "--server-pid", "--text", "--source-addresses",
        "--json"})
    EXPECT_NE(result.message.find(flag), std::string::npos) << flag;
}

TEST(loadgen_options, one_source_address_per_100_connections) {
  EXPECT_EQ(parse_ok({"--connections", "100"}).source_addresses, 1u);
  EXPECT_EQ(parse_ok({"--connections", "101"}).source_addresses, 2u);
  EXPECT_EQ(parse_ok({"--connections", "50000"}).source_addresses, 500u);
  EXPECT_EQ(
    parse_ok({"--mode", "http", "--concurrency", "250"}).source_addresses, 3u);
}

TEST(loadgen_options, source_addresses_take_turns_from_127_0_0_1) {
  EXPECT_EQ(source_address_v4(0, 3), 0x7f000001u);
  EXPECT_EQ(source_address_v4(1, 3), 0x7f000002u);
  EXPECT_EQ(source_address_v4(2, 3), 0x7f000003u);
  EXPECT_EQ(source_address_v4(3, 3), 0x7f000001u);
  EXPECT_EQ(source_address_v4(299, 300), 0x7f00012cu); // 127.0.1.44
  EXPECT_EQ(source_address_v4(5, 0), 0x7f000001u);
}

} // namespace
