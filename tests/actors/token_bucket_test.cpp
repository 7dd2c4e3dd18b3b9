#include "actors/token_bucket.hpp"

#include <gtest/gtest.h>

namespace parley {
namespace {

using namespace std::chrono_literals;
using clock_type = token_bucket::clock_type;

TEST(token_bucket, a_burst_then_the_rate) {
  clock_type::time_point t0{};
  token_bucket bucket{2.0, 3.0, t0}; // 2 per second, bursts of 3
  EXPECT_TRUE(bucket.try_take(t0));
  EXPECT_TRUE(bucket.try_take(t0));
  EXPECT_TRUE(bucket.try_take(t0));
  EXPECT_FALSE(bucket.try_take(t0));
  EXPECT_EQ(bucket.wait_time(t0), std::chrono::duration_cast<
                                    clock_type::duration>(500ms));
  EXPECT_FALSE(bucket.try_take(t0 + 499ms));
  EXPECT_TRUE(bucket.try_take(t0 + 500ms));
  EXPECT_FALSE(bucket.try_take(t0 + 500ms));
  // Never more than the burst, however long it rested.
  auto later = t0 + 1h;
  EXPECT_TRUE(bucket.full(later));
  int taken = 0;
  while (bucket.try_take(later))
    ++taken;
  EXPECT_EQ(taken, 3);
}

TEST(token_bucket, time_going_backwards_adds_nothing) {
  clock_type::time_point t0{10s};
  token_bucket bucket{1.0, 1.0, t0};
  EXPECT_TRUE(bucket.try_take(t0));
  EXPECT_FALSE(bucket.try_take(t0 - 5s));
  EXPECT_FALSE(bucket.try_take(t0 + 999ms));
  EXPECT_TRUE(bucket.try_take(t0 + 1s));
}

TEST(token_bucket, a_zero_rate_never_refills) {
  clock_type::time_point t0{};
  token_bucket bucket{0.0, 1.0, t0};
  EXPECT_TRUE(bucket.try_take(t0));
  EXPECT_FALSE(bucket.try_take(t0 + 24h));
  EXPECT_EQ(bucket.wait_time(t0), clock_type::duration::max());
}

TEST(keyed_buckets, each_key_has_its_own_bucket) {
  clock_type::time_point t0{};
  keyed_buckets limits{1.0, 2.0, 100};
  EXPECT_TRUE(limits.try_take("10.0.0.1", t0));
  EXPECT_TRUE(limits.try_take("10.0.0.1", t0));
  EXPECT_FALSE(limits.try_take("10.0.0.1", t0));
  EXPECT_TRUE(limits.try_take("10.0.0.2", t0));
  EXPECT_EQ(limits.size(), 2u);
  EXPECT_GT(limits.wait_time("10.0.0.1", t0), clock_type::duration::zero());
  EXPECT_EQ(limits.wait_time("10.0.0.2", t0), clock_type::duration::zero());
}

TEST(keyed_buckets, memory_stays_bounded_under_a_flood_of_keys) {
  clock_type::time_point t0{};
  keyed_buckets limits{1.0, 1.0, 4};
  for (int i = 0; i < 1000; ++i)
    limits.try_take("addr-" + std::to_string(i), t0);
  EXPECT_LE(limits.size(), 4u);
  // The overflow bucket is shared, so the flood is throttled as one.
  EXPECT_FALSE(limits.try_take("addr-new", t0));
  // Once buckets have refilled they are forgotten and new keys get their
  // own again.
  EXPECT_TRUE(limits.try_take("addr-late", t0 + 10s));
  EXPECT_LE(limits.size(), 4u);
}

} // namespace
} // namespace parley
