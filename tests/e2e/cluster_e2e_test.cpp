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
//      stickiness (the gateway a client leaves lets its session actor go);
//
// and then checks every client against the database: every message stored
// once, acknowledged once, answered once; every seq seen once.

#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "storage/database.hpp"
#include "tests/e2e/cluster_fixture.hpp"
#include "tests/e2e/resuming_client.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int worker_count = 2;
constexpr int gateway_count = 2;
constexpr int client_count = 4;
constexpr std::size_t answers_per_step = 16;

using cluster_e2e = cluster_fixture;

TEST_F(cluster_e2e, survives_losing_a_worker_and_a_gateway_with_nothing_lost_or_doubled) {
  // Every answer streams four pieces after 200 ms: with two messages in
  // flight per client, each worker nearly always has requests when it is
  // killed (the test checks that one did).
  llm_ = std::make_unique<mock_llm_process>(std::vector<std::string>{
    "--protocol", "websocket", "--latency-ms", "200", "--chunks", "4",
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
  // to gateway-1, then back to gateway-2, then everyone to gateway-1. A
  // gateway a client leaves does not keep its session's actor lingering:
  // the resume elsewhere tells it to step aside.
  start_gateway(0);
  ASSERT_TRUE(wait_workers_up(worker_count));
  move({2, 3}, 0);
  ASSERT_TRUE(wait_answers(answers_per_step)) << problems();
  EXPECT_TRUE(gateways_[1].process->wait_for_line(
    "resumed on another gateway; this actor ends", step_timeout))
    << "gateway-2's session actors stepped aside";
  move({2, 3}, 1);
  ASSERT_TRUE(wait_answers(answers_per_step)) << problems();
  move({0, 1, 2, 3}, 0);
  ASSERT_TRUE(wait_answers(answers_per_step)) << problems();
  ASSERT_EQ(problems(), "");

  // The end: every client resumes on gateway-2 once more and waits for all
  // its answers.
  finish_on(clients_, "127.0.0.1", gateways_[1].http_port,
            clock_type::now() + step_timeout);
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
