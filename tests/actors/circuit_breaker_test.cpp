#include "actors/circuit_breaker.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace parley {
namespace {

using namespace std::chrono_literals;
using time_point = circuit_breaker::time_point;

// An arbitrary start; the breaker never reads a clock.
const time_point t0 = time_point{} + 1000h;

// Three failures open it for ten seconds.
circuit_breaker make_breaker() {
  return circuit_breaker{3, 10s};
}

// Opens `cb` at `now` through `threshold` failures.
void trip(circuit_breaker& cb, time_point now) {
  for (std::uint32_t i = 0; i < cb.failure_threshold(); ++i) {
    ASSERT_TRUE(cb.allow_request(now));
    cb.record_failure(now);
  }
  ASSERT_EQ(cb.state(now), breaker_state::open);
}

TEST(circuit_breaker, state_names_for_the_health_endpoint) {
  EXPECT_EQ(to_string(breaker_state::closed), "closed");
  EXPECT_EQ(to_string(breaker_state::open), "open");
  EXPECT_EQ(to_string(breaker_state::half_open), "half_open");
}

TEST(circuit_breaker, starts_closed_and_allows_requests) {
  auto cb = make_breaker();
  EXPECT_EQ(cb.state(t0), breaker_state::closed);
  EXPECT_TRUE(cb.allow_request(t0));
  EXPECT_TRUE(cb.allow_request(t0));
  EXPECT_EQ(cb.consecutive_failures(), 0u);
  EXPECT_EQ(cb.times_opened(), 0u);
}

TEST(circuit_breaker, opens_exactly_at_the_threshold) {
  auto cb = make_breaker();
  cb.record_failure(t0);
  cb.record_failure(t0 + 1s);
  EXPECT_EQ(cb.state(t0 + 1s), breaker_state::closed);
  EXPECT_EQ(cb.consecutive_failures(), 2u);
  EXPECT_TRUE(cb.allow_request(t0 + 1s));
  cb.record_failure(t0 + 2s);
  EXPECT_EQ(cb.state(t0 + 2s), breaker_state::open);
  EXPECT_EQ(cb.consecutive_failures(), 3u);
  EXPECT_EQ(cb.opened_at(), t0 + 2s);
  EXPECT_EQ(cb.times_opened(), 1u);
  EXPECT_FALSE(cb.allow_request(t0 + 2s));
}

TEST(circuit_breaker, success_resets_the_count_while_closed) {
  auto cb = make_breaker();
  cb.record_failure(t0);
  cb.record_failure(t0);
  cb.record_success(t0);
  EXPECT_EQ(cb.consecutive_failures(), 0u);
  cb.record_failure(t0);
  cb.record_failure(t0);
  EXPECT_EQ(cb.state(t0), breaker_state::closed)
    << "failures must be consecutive";
  cb.record_failure(t0);
  EXPECT_EQ(cb.state(t0), breaker_state::open);
}

TEST(circuit_breaker, threshold_of_one_opens_on_the_first_failure) {
  circuit_breaker cb{1, 5s};
  cb.record_failure(t0);
  EXPECT_EQ(cb.state(t0), breaker_state::open);
  circuit_breaker zero{0, 5s};
  EXPECT_EQ(zero.failure_threshold(), 1u);
  zero.record_failure(t0);
  EXPECT_EQ(zero.state(t0), breaker_state::open);
}

TEST(circuit_breaker, refuses_until_the_open_duration_has_passed) {
  auto cb = make_breaker();
  trip(cb, t0);
  EXPECT_FALSE(cb.allow_request(t0 + 1s));
  EXPECT_FALSE(cb.allow_request(t0 + 10s - 1ns));
  EXPECT_EQ(cb.state(t0 + 10s - 1ns), breaker_state::open);
  EXPECT_TRUE(cb.allow_request(t0 + 10s)) << "the probe";
  EXPECT_EQ(cb.state(t0 + 10s), breaker_state::half_open);
}

TEST(circuit_breaker, reports_half_open_once_time_has_passed_without_requests) {
  auto cb = make_breaker();
  trip(cb, t0);
  // state() does not change anything: asking repeatedly, or earlier again,
  // gives the same answers.
  EXPECT_EQ(cb.state(t0 + 9s), breaker_state::open);
  EXPECT_EQ(cb.state(t0 + 10s), breaker_state::half_open);
  EXPECT_EQ(cb.state(t0 + 1h), breaker_state::half_open);
  EXPECT_EQ(cb.state(t0 + 9s), breaker_state::open);
  // Long after, the probe is still available, and only one.
  EXPECT_TRUE(cb.allow_request(t0 + 1h));
  EXPECT_FALSE(cb.allow_request(t0 + 1h));
  EXPECT_EQ(cb.times_opened(), 1u);
}

TEST(circuit_breaker, half_open_lets_exactly_one_probe_through) {
  auto cb = make_breaker();
  trip(cb, t0);
  EXPECT_TRUE(cb.allow_request(t0 + 10s));
  EXPECT_FALSE(cb.allow_request(t0 + 10s));
  EXPECT_FALSE(cb.allow_request(t0 + 11s));
  EXPECT_FALSE(cb.allow_request(t0 + 1h)) << "the probe is still out";
  EXPECT_EQ(cb.state(t0 + 1h), breaker_state::half_open);
}

TEST(circuit_breaker, probe_success_closes) {
  auto cb = make_breaker();
  trip(cb, t0);
  ASSERT_TRUE(cb.allow_request(t0 + 10s));
  cb.record_success(t0 + 11s);
  EXPECT_EQ(cb.state(t0 + 11s), breaker_state::closed);
  EXPECT_EQ(cb.consecutive_failures(), 0u);
  EXPECT_TRUE(cb.allow_request(t0 + 11s));
  EXPECT_TRUE(cb.allow_request(t0 + 11s));
  // A full threshold is needed to open it again.
  cb.record_failure(t0 + 12s);
  cb.record_failure(t0 + 12s);
  EXPECT_EQ(cb.state(t0 + 12s), breaker_state::closed);
  cb.record_failure(t0 + 12s);
  EXPECT_EQ(cb.state(t0 + 12s), breaker_state::open);
  EXPECT_EQ(cb.times_opened(), 2u);
}

TEST(circuit_breaker, probe_failure_reopens_with_a_new_timestamp) {
  auto cb = make_breaker();
  trip(cb, t0);
  ASSERT_TRUE(cb.allow_request(t0 + 10s));
  cb.record_failure(t0 + 12s);
  EXPECT_EQ(cb.state(t0 + 12s), breaker_state::open);
  EXPECT_EQ(cb.opened_at(), t0 + 12s);
  EXPECT_EQ(cb.times_opened(), 2u);
  EXPECT_EQ(cb.consecutive_failures(), 4u);
  // The new open time counts, not the old one.
  EXPECT_FALSE(cb.allow_request(t0 + 20s));
  EXPECT_EQ(cb.state(t0 + 22s - 1ns), breaker_state::open);
  EXPECT_TRUE(cb.allow_request(t0 + 22s));
  cb.record_success(t0 + 22s);
  EXPECT_EQ(cb.state(t0 + 22s), breaker_state::closed);
}

TEST(circuit_breaker, late_results_while_open_change_nothing) {
  auto cb = make_breaker();
  trip(cb, t0);
  // Answers to requests let through before it opened.
  cb.record_success(t0 + 1s);
  EXPECT_EQ(cb.state(t0 + 1s), breaker_state::open);
  cb.record_failure(t0 + 5s);
  EXPECT_EQ(cb.opened_at(), t0) << "a late failure does not extend it";
  EXPECT_EQ(cb.times_opened(), 1u);
  EXPECT_TRUE(cb.allow_request(t0 + 10s));
}

TEST(circuit_breaker, zero_open_duration_probes_at_once) {
  circuit_breaker cb{2, 0s};
  cb.record_failure(t0);
  cb.record_failure(t0);
  EXPECT_EQ(cb.state(t0), breaker_state::half_open);
  EXPECT_TRUE(cb.allow_request(t0));
  EXPECT_FALSE(cb.allow_request(t0));
}

} // namespace
} // namespace parley
