#include "cluster/worker_table.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace parley::cluster;

namespace {

worker_table three_up() {
  worker_table table{{"w1:1", "w2:2", "w3:3"}};
  for (std::size_t i = 0; i < 3; ++i)
    table.up(i);
  return table;
}

} // namespace

TEST(worker_table, nothing_is_picked_before_a_worker_is_up) {
  worker_table table{{"w1:1", "w2:2"}};
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.up_count(), 0u);
  EXPECT_FALSE(table.pick(1).has_value());
  EXPECT_EQ(table.at(0).state, worker_state::connecting);
  table.up(1);
  EXPECT_EQ(table.pick(1), 1u);
  EXPECT_EQ(table.at(1).connections, 1u);
}

TEST(worker_table, new_sessions_go_to_the_least_loaded_worker) {
  auto table = three_up();
  table.started(0);
  table.started(0);
  table.started(1);
  EXPECT_EQ(table.pick(10), 2u); // 2, 1, 0 outstanding
  table.started(2);
  table.started(2);
  EXPECT_EQ(table.pick(11), 1u); // 2, 1, 2
}

TEST(worker_table, equally_loaded_workers_share_new_sessions) {
  auto table = three_up();
  std::map<std::size_t, int> count;
  for (std::int64_t s = 1; s <= 30; ++s)
    ++count[*table.pick(s)];
  EXPECT_EQ(count[0], 10);
  EXPECT_EQ(count[1], 10);
  EXPECT_EQ(count[2], 10);
}

TEST(worker_table, a_session_stays_with_its_worker_while_it_is_up) {
  auto table = three_up();
  auto first = *table.pick(7);
  // Even when its worker becomes the busiest.
  for (int i = 0; i < 5; ++i)
    table.started(first);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(table.pick(7), first);
  EXPECT_EQ(table.bound(7), first);
}

TEST(worker_table, a_session_moves_when_its_worker_leaves_and_stays_moved) {
  auto table = three_up();
  auto first = *table.pick(7);
  table.down(first, "connection lost");
  auto second = table.pick(7);
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(*second, first);
  table.up(first);
  EXPECT_EQ(table.pick(7), second) << "no flapping back";
  EXPECT_EQ(table.at(first).connections, 2u);
}

TEST(worker_table, a_retry_excludes_the_workers_it_failed_on) {
  auto table = three_up();
  auto first = *table.pick(7);
  auto second = table.pick(7, {first});
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(*second, first);
  auto third = table.pick(7, {first, *second});
  ASSERT_TRUE(third.has_value());
  EXPECT_NE(*third, first);
  EXPECT_NE(*third, *second);
  EXPECT_FALSE(table.pick(7, {0, 1, 2}).has_value());
}

TEST(worker_table, suspect_and_down_workers_are_out_of_rotation) {
  auto table = three_up();
  table.suspect(0, "health probe timed out");
  table.down(1, "node lost");
  EXPECT_EQ(table.up_count(), 1u);
  for (std::int64_t s = 1; s <= 5; ++s)
    EXPECT_EQ(table.pick(s), 2u);
  EXPECT_EQ(table.at(0).state, worker_state::suspect);
  EXPECT_EQ(table.at(0).last_error, "health probe timed out");
  // A suspect that answers again is back, without counting a new connection.
  table.up(0);
  EXPECT_EQ(table.at(0).state, worker_state::up);
  EXPECT_EQ(table.at(0).connections, 1u);
  // Only an up worker can become suspect: a down one stays down.
  table.suspect(1, "late");
  EXPECT_EQ(table.at(1).state, worker_state::down);
  table.connecting(1);
  EXPECT_EQ(table.at(1).state, worker_state::connecting);
  EXPECT_FALSE(table.pick(99, {0, 2}).has_value());
}

TEST(worker_table, requests_are_counted_per_worker) {
  auto table = three_up();
  table.started(1);
  table.started(1);
  table.started(1);
  table.answered(1);
  table.failed(1, "timeout");
  EXPECT_EQ(table.at(1).outstanding, 1u);
  EXPECT_EQ(table.at(1).answered, 1u);
  EXPECT_EQ(table.at(1).failed, 1u);
  EXPECT_EQ(table.at(1).last_error, "timeout");
  // A lost connection fails everything in flight at once.
  table.down(1, "lost");
  EXPECT_EQ(table.at(1).outstanding, 0u);
  table.failed(1, "lost"); // the pool then fails each request: no underflow
  EXPECT_EQ(table.at(1).outstanding, 0u);
}

TEST(worker_table, it_forgets_the_least_recently_used_sessions) {
  worker_table table{{"w1:1", "w2:2"}, 3};
  table.up(0);
  table.up(1);
  table.pick(1);
  table.pick(2);
  table.pick(3);
  table.pick(1); // 1 is now the most recent
  table.pick(4); // forgets 2
  EXPECT_EQ(table.sessions(), 3u);
  EXPECT_TRUE(table.bound(1).has_value());
  EXPECT_FALSE(table.bound(2).has_value());
  EXPECT_TRUE(table.bound(3).has_value());
  EXPECT_TRUE(table.bound(4).has_value());
}

TEST(worker_table, state_names) {
  EXPECT_STREQ(to_string(worker_state::up), "up");
  EXPECT_STREQ(to_string(worker_state::suspect), "suspect");
  EXPECT_STREQ(to_string(worker_state::down), "down");
  EXPECT_STREQ(to_string(worker_state::connecting), "connecting");
}
