// Two gateways and one worker on one PostgreSQL database: what the support
// team does through one gateway reaches a customer whose socket is on the
// other at once (the gateways tell each other through the worker), and a
// customer who resumes on the other gateway leaves no actor of the session
// behind on the first.

#include <cstdint>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/cluster_fixture.hpp"
#include "tests/support/ws_client.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

using cluster_news_e2e = cluster_fixture;

/// POST `target` on gateway port `port` with the admin token.
http_response admin_post(std::uint16_t port, const std::string& target,
                         const json& body) {
  auto headers = bearer();
  headers.emplace_back("Content-Type", "application/json");
  return http_request("127.0.0.1", port, "POST", target, body.dump(),
                      headers);
}

/// Reads frames until a `message` frame whose text is `text`; returns it
/// (null when it did not come within `timeout`), adding every frame read to
/// `seen`.
json wait_message(ws_client& client, const std::string& text,
                  std::chrono::milliseconds timeout, json& seen) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left <= 0ms)
      return nullptr;
    auto got = client.read_frame(left);
    if (got.status != read_status::frame)
      return nullptr;
    auto frame = json::parse(got.text, nullptr, false);
    seen.push_back(frame);
    if (frame.value("type", "") == "message" && frame.value("text", "") == text)
      return frame;
  }
}

TEST_F(cluster_news_e2e, the_support_team_reaches_a_customer_on_another_gateway) {
  llm_ = std::make_unique<mock_llm_process>(
    std::vector<std::string>{"--protocol", "websocket"});
  workers_.resize(1);
  start_worker(0);
  start_gateway(0);
  start_gateway(1);
  ASSERT_TRUE(wait_workers_up(1)) << "the gateways joined the worker";

  // The customer chats on gateway-2.
  ws_client customer;
  customer.connect("127.0.0.1", gateways_[1].http_port, "/ws");
  auto hello = customer.read_json();
  ASSERT_EQ(hello.value("type", ""), "session") << hello.dump();
  auto session_id = hello["session_id"].get<std::int64_t>();
  auto token = hello["resume_token"].get<std::string>();
  customer.send_json({{"type", "message"}, {"id", "c1"}, {"text", "hello"}});
  auto first = customer.read_until_type("message", 20000ms);
  auto last_seq = first.back()["seq"].get<std::int64_t>();

  // A support agent writes through gateway-1.
  auto path = "/api/sessions/" + std::to_string(session_id);
  auto sent = admin_post(gateways_[0].http_port, path + "/agent-message",
                         {{"text", "Hi, this is Dana from support."},
                          {"agent_name", "Dana"}});
  ASSERT_EQ(sent.status, 201u) << sent.body;
  json seen = json::array();
  auto agent = wait_message(customer, "Hi, this is Dana from support.",
                            10000ms, seen);
  ASSERT_FALSE(agent.is_null())
    << "the customer on gateway-2 got the agent's message: " << seen.dump();
  EXPECT_EQ(agent.value("role", ""), "agent") << agent.dump();
  EXPECT_EQ(agent.value("handoff", false), true)
    << "it says a person took over: " << agent.dump();
  EXPECT_GT(agent["seq"].get<std::int64_t>(), last_seq) << agent.dump();
  last_seq = agent["seq"].get<std::int64_t>();

  // The release, through gateway-1 as well, reaches the customer too.
  auto released = admin_post(gateways_[0].http_port, path + "/release",
                             json::object());
  ASSERT_EQ(released.status, 200u) << released.body;
  auto notice = json::parse(released.body)["data"]["message"];
  seen = json::array();
  auto heard = wait_message(customer, notice.value("message", ""), 10000ms,
                            seen);
  ASSERT_FALSE(heard.is_null()) << "the release notice: " << seen.dump();
  EXPECT_GT(heard["seq"].get<std::int64_t>(), last_seq) << heard.dump();
  EXPECT_EQ(heard.value("handoff", true), false) << heard.dump();
  last_seq = heard["seq"].get<std::int64_t>();

  // The bot answers on gateway-2 again, with seqs after the agent's.
  customer.send_json({{"type", "message"}, {"id", "c2"}, {"text", "thanks"}});
  auto again = customer.read_until_type("message", 20000ms);
  EXPECT_GT(again.back()["seq"].get<std::int64_t>(), last_seq)
    << json(again).dump();
  last_seq = again.back()["seq"].get<std::int64_t>();

  // The customer moves to gateway-1: gateway-2's actor of the session steps
  // aside at once instead of lingering.
  auto mark = gateways_[1].process->line_count();
  customer.close();
  ws_client moved;
  moved.connect("127.0.0.1", gateways_[0].http_port,
                "/ws?session_id=" + std::to_string(session_id)
                  + "&resume_token=" + token
                  + "&last_seq=" + std::to_string(last_seq));
  auto resumed = moved.read_json();
  EXPECT_EQ(resumed.value("type", ""), "session") << resumed.dump();
  EXPECT_TRUE(gateways_[1].process->wait_for_line(
    "resumed on another gateway; this actor ends", 10000ms, mark))
    << gateways_[1].process->log();
  moved.send_json({{"type", "message"}, {"id", "c3"}, {"text", "still here"}});
  auto after = moved.read_until_type("message", 20000ms);
  EXPECT_GT(after.back()["seq"].get<std::int64_t>(), last_seq)
    << json(after).dump();
}

} // namespace
} // namespace parley::test
