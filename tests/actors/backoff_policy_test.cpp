#include "actors/backoff_policy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <vector>

namespace parley {
namespace {

using namespace std::chrono_literals;
using duration = backoff_policy::duration;

constexpr std::uint64_t seed = 42;

std::vector<duration> take(backoff_policy& policy, int n) {
  std::vector<duration> result;
  for (int i = 0; i < n; ++i)
    result.push_back(policy.next_delay().value());
  return result;
}

TEST(backoff_policy, defaults_are_half_a_second_doubling_to_thirty) {
  backoff_settings settings;
  settings.jitter = 0;
  backoff_policy policy{settings, seed};
  EXPECT_EQ(take(policy, 9),
            (std::vector<duration>{500ms, 1s, 2s, 4s, 8s, 16s, 30s, 30s,
                                   30s}));
  EXPECT_EQ(policy.attempts(), 9u);
  EXPECT_EQ(policy.max_attempts(), 0u);
}

TEST(backoff_policy, nominal_delay_doubles_up_to_cap) {
  backoff_policy policy{100ms, 1s, 0, 0.5, seed};
  EXPECT_EQ(policy.nominal_delay(0), 100ms);
  EXPECT_EQ(policy.nominal_delay(1), 100ms);
  EXPECT_EQ(policy.nominal_delay(2), 200ms);
  EXPECT_EQ(policy.nominal_delay(4), 800ms);
  EXPECT_EQ(policy.nominal_delay(5), 1s) << "1.6 s is clamped";
  EXPECT_EQ(policy.nominal_delay(1000), 1s);
  EXPECT_EQ(policy.attempts(), 0u) << "asking for a nominal delay is free";
}

TEST(backoff_policy, max_attempts_ends_the_sequence) {
  backoff_policy policy{10ms, 1s, 3, 0, seed};
  EXPECT_EQ(take(policy, 3), (std::vector<duration>{10ms, 20ms, 40ms}));
  EXPECT_TRUE(policy.exhausted());
  EXPECT_EQ(policy.next_delay(), std::nullopt);
  EXPECT_EQ(policy.next_delay(), std::nullopt);
  EXPECT_EQ(policy.attempts(), 3u) << "refusals do not count as attempts";
}

TEST(backoff_policy, reset_starts_over_from_base) {
  backoff_policy policy{10ms, 1s, 3, 0, seed};
  take(policy, 3);
  policy.reset();
  EXPECT_EQ(policy.attempts(), 0u);
  EXPECT_FALSE(policy.exhausted());
  EXPECT_EQ(take(policy, 2), (std::vector<duration>{10ms, 20ms}));
}

TEST(backoff_policy, jittered_delays_stay_within_bounds) {
  // Fresh policies, so that every sample is attempt 4 (nominal 800 ms).
  for (double jitter : {0.2, 0.5, 1.0}) {
    auto low = duration{static_cast<duration::rep>(
      static_cast<double>(duration{800ms}.count()) * (1.0 - jitter))};
    auto min_seen = duration::max();
    auto max_seen = duration::zero();
    for (std::uint64_t s = 0; s < 2000; ++s) {
      backoff_policy policy{100ms, 10s, 0, jitter, s};
      auto delay = take(policy, 4).back();
      ASSERT_GE(delay, low) << "jitter " << jitter << ", seed " << s;
      ASSERT_LE(delay, 800ms) << "jitter " << jitter << ", seed " << s;
      min_seen = std::min(min_seen, delay);
      max_seen = std::max(max_seen, delay);
    }
    // The samples actually spread over most of the range.
    auto range = 800ms - low;
    EXPECT_LT(min_seen, low + range / 10) << "jitter " << jitter;
    EXPECT_GT(max_seen, 800ms - range / 10) << "jitter " << jitter;
  }
}

TEST(backoff_policy, jitter_never_exceeds_cap_in_a_long_sequence) {
  backoff_policy policy{500ms, 30s, 0, 0.5, seed};
  for (int i = 1; i <= 500; ++i) {
    auto delay = policy.next_delay().value();
    auto nominal = policy.nominal_delay(policy.attempts());
    ASSERT_LE(delay, nominal) << "attempt " << i;
    ASSERT_GE(delay, nominal / 2) << "attempt " << i;
    ASSERT_LE(delay, 30s) << "attempt " << i;
  }
}

TEST(backoff_policy, fixed_seed_gives_a_fixed_sequence) {
  backoff_policy a{100ms, 10s, 0, 0.5, seed};
  backoff_policy b{100ms, 10s, 0, 0.5, seed};
  backoff_policy c{100ms, 10s, 0, 0.5, seed + 1};
  auto xs = take(a, 20);
  EXPECT_EQ(xs, take(b, 20));
  EXPECT_NE(xs, take(c, 20));
}

TEST(backoff_policy, zero_jitter_is_plain_doubling) {
  backoff_policy policy{1ms, 1h, 0, 0.0, seed};
  EXPECT_EQ(take(policy, 4), (std::vector<duration>{1ms, 2ms, 4ms, 8ms}));
}

TEST(backoff_policy, no_overflow_after_many_attempts) {
  // The largest cap there is, and a tiny base: 2^63 ns overflows on the way.
  backoff_policy policy{1ns, duration::max(), 0, 1.0, seed};
  auto previous_nominal = duration::zero();
  for (int i = 1; i <= 1000; ++i) {
    auto delay = policy.next_delay().value();
    auto nominal = policy.nominal_delay(policy.attempts());
    ASSERT_GE(delay, duration::zero()) << "attempt " << i;
    ASSERT_LE(delay, nominal) << "attempt " << i;
    ASSERT_GE(nominal, previous_nominal) << "attempt " << i;
    previous_nominal = nominal;
  }
  EXPECT_EQ(previous_nominal, duration::max());
  EXPECT_EQ(policy.nominal_delay(std::numeric_limits<std::uint32_t>::max()),
            duration::max());
}

TEST(backoff_policy, odd_settings_are_tamed) {
  // Base above cap starts at cap; jitter outside [0, 1] is clamped.
  backoff_policy above{10s, 1s, 0, 7.0, seed};
  EXPECT_EQ(above.base(), 1s);
  EXPECT_EQ(above.jitter(), 1.0);
  backoff_policy below{-5s, 1s, 0, -1.0, seed};
  EXPECT_EQ(below.base(), 0s);
  EXPECT_EQ(below.jitter(), 0.0);
  EXPECT_EQ(take(below, 3), (std::vector<duration>{0s, 0s, 0s}));
  auto nan = std::numeric_limits<double>::quiet_NaN();
  backoff_policy not_a_number{1s, 2s, 0, nan, seed};
  EXPECT_EQ(not_a_number.jitter(), 0.0);
}

} // namespace
} // namespace parley
