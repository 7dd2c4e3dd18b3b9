// Who may use a worker: with a node secret, a gateway that does not know it
// is refused at login and answers from its own fallback; with TLS between
// nodes (a certificate made at test time, trusted as the nodes' CA), a
// gateway without TLS cannot connect, and one with it is served.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/cluster_fixture.hpp"
#include "tests/support/self_signed_cert.hpp"

namespace parley::test {
namespace {

class cluster_security_e2e : public cluster_fixture {
protected:
  /// The worker entry of `g`'s /api/cluster.
  json worker_view(node& g) {
    auto view = cluster_of(g);
    return view.is_object() ? view["nodes"][1] : json{};
  }
};

TEST_F(cluster_security_e2e, a_gateway_without_the_node_secret_is_refused) {
  llm_ = std::make_unique<mock_llm_process>(
    std::vector<std::string>{"--protocol", "websocket"});
  start_worker(0);
  start_gateway(0);                       // knows the secret
  start_gateway(1, {}, "not-the-cluster-secret"); // does not
  auto deadline = clock_type::now() + step_timeout;
  while (workers_up(gateways_[0]) != 1 && clock_type::now() < deadline)
    std::this_thread::sleep_for(50ms);
  ASSERT_EQ(workers_up(gateways_[0]), 1u);
  // The refused gateway keeps trying and says why.
  json refused;
  do {
    refused = worker_view(gateways_[1]);
    if (refused.value("last_error", "").find("login refused")
        != std::string::npos)
      break;
    std::this_thread::sleep_for(50ms);
  } while (clock_type::now() < deadline);
  EXPECT_NE(refused.value("state", ""), "up") << refused.dump();
  EXPECT_NE(refused.value("last_error", "").find("login refused"),
            std::string::npos)
    << refused.dump();
  EXPECT_EQ(refused.value("last_error", "").find("cluster-test-node-secret"),
            std::string::npos)
    << "the secret is never shown";
  // The worker answers the gateway that logged in; the other one answers
  // from its own fallback.
  auto served = chat_via(0, "hello from the right side");
  EXPECT_EQ(served.first, "Echo: hello from the right side");
  EXPECT_EQ(served.second, "llm");
  auto local = chat_via(1, "hello from outside");
  EXPECT_EQ(local.second, "fallback") << local.first;
  // Its /health says so: still serving (200), but degraded.
  auto health = http_get("127.0.0.1", gateways_[1].http_port, "/health");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(json::parse(health.body, nullptr, false).value("status", ""),
            "degraded")
    << health.body;
  EXPECT_NE(gateways_[1].process->log().find("login refused"),
            std::string::npos)
    << "the refused gateway says why in its log";
  health = http_get("127.0.0.1", gateways_[0].http_port, "/health");
  EXPECT_EQ(json::parse(health.body, nullptr, false).value("status", ""),
            "healthy")
    << health.body;
  EXPECT_NE(workers_[0].process->log().find("gave a wrong node secret"),
            std::string::npos);
}

TEST_F(cluster_security_e2e, tls_between_nodes_serves_only_tls_peers_with_the_certificate) {
  auto cert = make_self_signed_cert(dir_.path(), {"localhost", "127.0.0.1"},
                                    "node");
  std::vector<std::string> tls{"--node-tls-cert", cert.cert_file.string(),
                               "--node-tls-key", cert.key_file.string(),
                               "--node-tls-ca", cert.cert_file.string()};
  llm_ = std::make_unique<mock_llm_process>(
    std::vector<std::string>{"--protocol", "websocket"});
  start_worker(0, tls);
  ASSERT_NE(workers_[0].process->log().find("(TLS)"), std::string::npos);
  start_gateway(0, tls);
  start_gateway(1); // plain
  auto deadline = clock_type::now() + step_timeout;
  while (workers_up(gateways_[0]) != 1 && clock_type::now() < deadline)
    std::this_thread::sleep_for(50ms);
  ASSERT_EQ(workers_up(gateways_[0]), 1u);
  // The plain gateway's first attempt may still be under way: it fails,
  // and says why, within the step's bound.
  auto plain = worker_view(gateways_[1]);
  while (plain.value("last_error", "").empty() && clock_type::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    plain = worker_view(gateways_[1]);
  }
  EXPECT_EQ(plain.value("state", ""), "connecting") << plain.dump();
  EXPECT_FALSE(plain.value("last_error", "").empty()) << plain.dump();
  // Each of the plain gateway's attempts makes CAF drop the worker's other
  // TLS connections too (docs/deployment.md), which can cut an answer
  // short: it goes before the TLS gateway is asked.
  gateways_[1].process->terminate();
  gateways_[1].process->wait_exit(exit_timeout);
  deadline = clock_type::now() + step_timeout;
  std::pair<std::string, std::string> answer;
  do {
    answer = chat_via(0, "hello over TLS");
  } while (answer.first != "Echo: hello over TLS"
           && clock_type::now() < deadline);
  EXPECT_EQ(answer.first, "Echo: hello over TLS");
  EXPECT_EQ(answer.second, "llm");
}

} // namespace
} // namespace parley::test
