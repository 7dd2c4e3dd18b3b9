#include "actors/deadline_table.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parley {
namespace {

// Whole seconds stand in for the actor clock's time points.
using table = deadline_table<std::string, int>;
using keys = std::vector<std::string>;

TEST(deadline_table, asks_for_one_wake_up_while_deadlines_come_later) {
  table t;
  EXPECT_EQ(t.add("a", 10), 10);
  // Equal timeouts: later deadlines need no wake-up of their own.
  EXPECT_EQ(t.add("b", 11), std::nullopt);
  EXPECT_EQ(t.add("c", 12), std::nullopt);
  // An earlier one does.
  EXPECT_EQ(t.add("d", 5), 5);
  EXPECT_EQ(t.size(), 4u);
}

TEST(deadline_table, answered_requests_leave_nothing_behind) {
  table t;
  t.add("a", 10);
  t.add("b", 12);
  EXPECT_TRUE(t.settle("a"));
  EXPECT_FALSE(t.settle("a"));
  EXPECT_FALSE(t.settle("unknown"));
  EXPECT_TRUE(t.settle("b"));
  EXPECT_TRUE(t.empty());
  // The wake-up asked for at 10 still comes; it finds nothing and asks for
  // no other.
  EXPECT_EQ(t.take_due(10), keys{});
  EXPECT_EQ(t.after_tick(), std::nullopt);
}

TEST(deadline_table, a_wake_up_takes_the_due_ones_earliest_first) {
  table t;
  t.add("late", 30);
  t.add("b", 12);
  t.add("a", 10);
  t.add("c", 20);
  EXPECT_EQ(t.take_due(9), keys{});
  EXPECT_EQ(t.take_due(12), (keys{"a", "b"}));
  EXPECT_EQ(t.size(), 2u);
  // The next wake-up: the earliest deadline left.
  EXPECT_EQ(t.after_tick(), 20);
  EXPECT_EQ(t.take_due(20), keys{"c"});
  EXPECT_EQ(t.after_tick(), 30);
  EXPECT_EQ(t.take_due(31), keys{"late"});
  EXPECT_EQ(t.after_tick(), std::nullopt);
  EXPECT_TRUE(t.empty());
}

TEST(deadline_table, a_stale_wake_up_asks_for_none_already_asked_for) {
  table t;
  EXPECT_EQ(t.add("a", 10), 10);
  EXPECT_EQ(t.add("b", 5), 5); // wake-ups at 10 and 5 are both coming
  EXPECT_EQ(t.take_due(5), keys{"b"});
  EXPECT_EQ(t.after_tick(), 10); // the one at 5 has come; 10 is asked again
  EXPECT_EQ(t.add("c", 15), std::nullopt);
  EXPECT_EQ(t.take_due(10), keys{"a"});
  EXPECT_EQ(t.after_tick(), 15);
  // A wake-up that was asked for earlier and comes before any is due.
  EXPECT_EQ(t.take_due(12), keys{});
  EXPECT_EQ(t.after_tick(), std::nullopt); // 15 is still coming
  EXPECT_EQ(t.take_due(15), keys{"c"});
}

} // namespace
} // namespace parley
