#include "config/cluster_config.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "config/config_error.hpp"
#include "config/server_config.hpp"

using namespace parley;

namespace {

config_load_result load(std::initializer_list<const char*> flags,
                        const env_map& environment = {}) {
  std::vector<const char*> argv{"parley"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return load_server_config(static_cast<int>(argv.size()), argv.data(), {},
                            environment);
}

std::string load_error(std::initializer_list<const char*> flags,
                       const env_map& environment = {}) {
  try {
    load(flags, environment);
  } catch (const config_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "load did not throw";
  return {};
}

std::string address_error(const char* text) {
  try {
    parse_node_addresses(text);
  } catch (const config_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "parse_node_addresses(" << text << ") did not throw";
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST(cluster_config, roles_parse_in_any_case_and_nothing_else) {
  EXPECT_EQ(parse_node_role("all"), node_role::all);
  EXPECT_EQ(parse_node_role("Gateway"), node_role::gateway);
  EXPECT_EQ(parse_node_role(" WORKER "), node_role::worker);
  EXPECT_THROW(parse_node_role("master"), config_error);
  EXPECT_THROW(parse_node_role(""), config_error);
  EXPECT_STREQ(role_name(node_role::gateway), "gateway");
}

TEST(cluster_config, worker_lists_parse_hosts_ports_and_ipv6) {
  auto list = parse_node_addresses("10.0.0.5:4300, worker-b.internal:4301,[::1]:4302");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].host, "10.0.0.5");
  EXPECT_EQ(list[0].port, 4300);
  EXPECT_EQ(list[1].host, "worker-b.internal");
  EXPECT_EQ(list[1].port, 4301);
  EXPECT_EQ(list[2].host, "::1");
  EXPECT_EQ(list[2].text(), "[::1]:4302");
  EXPECT_EQ(list[0].text(), "10.0.0.5:4300");
}

TEST(cluster_config, bad_worker_lists_say_what_is_wrong) {
  EXPECT_TRUE(contains(address_error(""), "lists no worker"));
  EXPECT_TRUE(contains(address_error("a:1,,b:2"), "empty entry"));
  EXPECT_TRUE(contains(address_error("a:1,"), "empty entry"));
  EXPECT_TRUE(contains(address_error("worker"), "has no port"));
  EXPECT_TRUE(contains(address_error("worker:0"), "no valid port"));
  EXPECT_TRUE(contains(address_error("worker:70000"), "no valid port"));
  EXPECT_TRUE(contains(address_error("worker:http"), "no valid port"));
  EXPECT_TRUE(contains(address_error(":4300"), "has no host"));
  EXPECT_TRUE(contains(address_error("::1:4300"), "in brackets"));
  EXPECT_TRUE(contains(address_error("[::1]4300"), "[IPv6 address]:port"));
  EXPECT_TRUE(contains(address_error("a:1, a:1"), "names a:1 twice"));
}

TEST(cluster_config, the_default_is_one_process) {
  auto cfg = load({}).config.cluster;
  EXPECT_EQ(cfg.role, node_role::all);
  EXPECT_TRUE(cfg.workers.empty());
  EXPECT_TRUE(cfg.node_secret.empty());
}

TEST(cluster_config, a_gateway_needs_workers_and_gets_them) {
  EXPECT_TRUE(contains(load_error({"--role", "gateway"}),
                       "--workers / PARLEY_WORKERS: is required with --role gateway"));
  auto cfg = load({"--role", "gateway", "--workers", "127.0.0.1:4300,127.0.0.1:4301"})
               .config.cluster;
  EXPECT_EQ(cfg.role, node_role::gateway);
  ASSERT_EQ(cfg.workers.size(), 2u);
  EXPECT_EQ(cfg.workers[1].port, 4301);
  auto from_env = load({}, {{"PARLEY_ROLE", "gateway"}, {"PARLEY_WORKERS", "w:1"}})
                    .config.cluster;
  EXPECT_EQ(from_env.role, node_role::gateway);
  EXPECT_EQ(from_env.workers.at(0).text(), "w:1");
  EXPECT_TRUE(contains(load_error({"--role", "gateway", "--workers", "w"}),
                       "--workers / PARLEY_WORKERS: 'w' has no port"));
}

TEST(cluster_config, a_worker_takes_its_node_address) {
  auto cfg = load({"--role", "worker", "--node-host", "0.0.0.0", "--node-port", "0"})
               .config.cluster;
  EXPECT_EQ(cfg.role, node_role::worker);
  EXPECT_EQ(cfg.node_host, "0.0.0.0");
  EXPECT_EQ(cfg.node_port, 0);
  EXPECT_EQ(load({"--role", "worker"}).config.cluster.node_port, 4300);
  EXPECT_TRUE(contains(load_error({"--role", "worker", "--node-port", "65536"}),
                       "not a port number"));
}

TEST(cluster_config, a_flag_of_another_role_is_an_error) {
  EXPECT_TRUE(contains(load_error({"--workers", "w:1"}), "is only for --role gateway"));
  EXPECT_TRUE(contains(load_error({"--role", "worker", "--workers", "w:1"}),
                       "is only for --role gateway"));
  EXPECT_TRUE(contains(load_error({"--node-port", "4300"}), "is only for --role worker"));
  EXPECT_TRUE(contains(load_error({"--role", "gateway", "--workers", "w:1", "--node-host", "x"}),
                       "is only for --role worker"));
  EXPECT_TRUE(contains(load_error({"--node-secret", "0123456789abcdef"}),
                       "is only for --role gateway or worker"));
  EXPECT_TRUE(contains(load_error({"--role", "leader"}), "--role / PARLEY_ROLE: 'leader' is not a role"));
}

TEST(cluster_config, a_shared_environment_serves_every_role) {
  // One env file for the whole cluster: each role takes its own settings.
  env_map shared{{"PARLEY_WORKERS", "w1:4300,w2:4300"},
                 {"PARLEY_NODE_HOST", "0.0.0.0"},
                 {"PARLEY_NODE_PORT", "4301"},
                 {"PARLEY_NODE_SECRET", "a-long-enough-secret"}};
  auto worker = load({"--role", "worker"}, shared).config.cluster;
  EXPECT_TRUE(worker.workers.empty());
  EXPECT_EQ(worker.node_port, 4301);
  EXPECT_EQ(worker.node_secret, "a-long-enough-secret");
  auto gateway = load({"--role", "gateway"}, shared).config.cluster;
  EXPECT_EQ(gateway.workers.size(), 2u);
  EXPECT_EQ(gateway.node_port, 4300) << "the worker's port is not the gateway's";
  auto all = load({}, shared).config.cluster;
  EXPECT_TRUE(all.node_secret.empty());
  EXPECT_TRUE(all.workers.empty());
}

TEST(cluster_config, the_node_secret_is_long_and_never_shown) {
  auto cfg = load({"--role", "worker"}, {{"PARLEY_NODE_SECRET", "a-long-enough-secret"}})
               .config.cluster;
  EXPECT_EQ(cfg.node_secret, "a-long-enough-secret");
  auto error = load_error({"--role", "worker"}, {{"PARLEY_NODE_SECRET", "short-secret"}});
  EXPECT_TRUE(contains(error, "at least 16 characters")) << error;
  EXPECT_FALSE(contains(error, "short-secret")) << error;
}

TEST(cluster_config, tls_between_nodes_takes_all_three_files_or_none) {
  auto cfg = load({"--role", "worker", "--node-tls-cert", "/etc/passwd",
                   "--node-tls-key", "/etc/passwd", "--node-tls-ca", "/etc/passwd"})
               .config.cluster;
  EXPECT_TRUE(cfg.node_tls());
  EXPECT_EQ(cfg.node_tls_ca, "/etc/passwd");
  EXPECT_FALSE(load({"--role", "worker"}).config.cluster.node_tls());
  EXPECT_TRUE(contains(load_error({"--role", "gateway", "--workers", "w:1",
                                   "--node-tls-cert", "/etc/passwd"}),
                       "--node-tls-key / PARLEY_NODE_TLS_KEY: is required for TLS between nodes"));
  EXPECT_TRUE(contains(load_error({"--node-tls-cert", "/etc/passwd", "--node-tls-key",
                                   "/etc/passwd", "--node-tls-ca", "/etc/passwd"}),
                       "is only for --role gateway or worker"));
  EXPECT_TRUE(contains(load_error({"--role", "worker", "--node-tls-cert", "/nonexistent",
                                   "--node-tls-key", "/etc/passwd", "--node-tls-ca",
                                   "/etc/passwd"}),
                       "does not exist"));
}
