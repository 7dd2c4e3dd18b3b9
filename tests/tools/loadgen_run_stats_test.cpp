// The load generator's counting (tools/loadgen/run_stats): errors by kind
// and by error-frame code, frames per reply, warm-up left out, HTTP
// statuses, the measured window, and merging the threads' counts.

#include <chrono>

#include <gtest/gtest.h>

#include "tools/loadgen/run_stats.hpp"

using namespace parley::loadgen;
using namespace std::chrono_literals;

namespace {

const run_stats::clock::time_point t0{std::chrono::seconds{50}};

TEST(loadgen_run_stats, counts_errors_by_kind_and_code) {
  run_stats s;
  s.connection_failed(error_kind::connect_failed);
  s.connection_failed(error_kind::handshake_failed);
  s.connection_failed(error_kind::handshake_failed);
  s.error(error_kind::timeout, 3);
  s.error(error_kind::closed_early);
  s.error(error_kind::bad_frame);
  s.error_frame("rate_limited");
  s.error_frame("rate_limited");
  s.error_frame("server_busy");
  EXPECT_EQ(s.errors(error_kind::connect_failed), 1u);
  EXPECT_EQ(s.errors(error_kind::handshake_failed), 2u);
  EXPECT_EQ(s.connections_failed(), 3u);
  EXPECT_EQ(s.errors(error_kind::timeout), 3u);
  EXPECT_EQ(s.errors(error_kind::closed_early), 1u);
  EXPECT_EQ(s.errors(error_kind::bad_frame), 1u);
  ASSERT_EQ(s.error_frames().size(), 2u);
  EXPECT_EQ(s.error_frames().at("rate_limited"), 2u);
  EXPECT_EQ(s.error_frames().at("server_busy"), 1u);
  EXPECT_EQ(s.total_errors(), 1u + 2 + 3 + 1 + 1 + 3);
}

TEST(loadgen_run_stats, error_kinds_have_names) {
  EXPECT_STREQ(to_string(error_kind::connect_failed), "connect_failed");
  EXPECT_STREQ(to_string(error_kind::handshake_failed), "handshake_failed");
  EXPECT_STREQ(to_string(error_kind::closed_early), "closed_early");
  EXPECT_STREQ(to_string(error_kind::timeout), "timeout");
  EXPECT_STREQ(to_string(error_kind::bad_frame), "bad_frame");
}

TEST(loadgen_run_stats, frames_per_reply) {
  run_stats s;
  s.answered(false, 1ms, 3, t0);
  s.answered(false, 2ms, 3, t0);
  s.answered(false, 3ms, 7, t0);
  EXPECT_EQ(s.answered(), 3u);
  EXPECT_EQ(s.reply_frames(), 13u);
  EXPECT_DOUBLE_EQ(s.frames_per_reply(), 13.0 / 3);
  EXPECT_EQ(s.min_frames_per_reply(), 3u);
  EXPECT_EQ(s.max_frames_per_reply(), 7u);
}

TEST(loadgen_run_stats, no_replies_no_frames_per_reply) {
  run_stats s;
  EXPECT_EQ(s.frames_per_reply(), 0.0);
  EXPECT_EQ(s.min_frames_per_reply(), 0u);
  EXPECT_EQ(s.max_frames_per_reply(), 0u);
  EXPECT_FALSE(s.measured_seconds());
}

TEST(loadgen_run_stats, very_long_replies_are_capped_in_the_distribution) {
  run_stats s;
  s.answered(false, 1ms, 500, t0);
  EXPECT_EQ(s.max_frames_per_reply(), run_stats::max_frames_counted);
  EXPECT_EQ(s.frames_per_reply(), 500.0); // the mean stays exact
}

TEST(loadgen_run_stats, warmup_is_counted_apart) {
  run_stats s;
  s.message_sent(true, t0);
  s.message_sent(true, t0 + 1ms);
  s.answered(true, 50ms, 3, t0 + 51ms);
  s.message_sent(false, t0 + 100ms);
  s.answered(false, 4ms, 3, t0 + 104ms);
  EXPECT_EQ(s.warmup_sent(), 2u);
  EXPECT_EQ(s.warmup_answered(), 1u);
  EXPECT_EQ(s.sent(), 1u);
  EXPECT_EQ(s.answered(), 1u);
  EXPECT_EQ(s.latency().max(), 4000u); // microseconds
  EXPECT_EQ(s.reply_frames(), 3u);
  // From the first measured send to the last measured answer.
  ASSERT_TRUE(s.measured_seconds());
  EXPECT_NEAR(*s.measured_seconds(), 0.004, 1e-9);
}

TEST(loadgen_run_stats, http_statuses_and_non_2xx_errors) {
  run_stats s;
  s.http_response(201, false, 3ms, t0);
  s.http_response(201, false, 5ms, t0);
  s.http_response(201, true, 5ms, t0);
  s.http_response(429, false, 1ms, t0);
  s.http_response(503, false, 1ms, t0);
  EXPECT_EQ(s.http_responses(), 5u);
  EXPECT_EQ(s.http_statuses().at(201), 3u);
  EXPECT_EQ(s.http_statuses().at(429), 1u);
  EXPECT_EQ(s.answered(), 2u); // measured 2xx only
  EXPECT_EQ(s.warmup_answered(), 1u);
  EXPECT_EQ(s.total_errors(), 2u);
  EXPECT_EQ(s.reply_frames(), 0u);
}

TEST(loadgen_run_stats, merging_adds_everything) {
  run_stats a;
  a.connection_opened();
  a.session_started();
  a.frame_received();
  a.message_sent(false, t0 + 10ms);
  a.answered(false, 2ms, 3, t0 + 12ms);
  a.error_frame("rate_limited");
  a.error(error_kind::timeout);
  a.http_response(201, false, 1ms, t0 + 12ms);
  run_stats b;
  b.connection_opened();
  b.connection_opened();
  b.session_started();
  b.frame_received();
  b.frame_received();
  b.message_sent(false, t0);
  b.answered(false, 9ms, 4, t0 + 30ms);
  b.error_frame("rate_limited");
  b.error_frame("internal_error");
  b.connection_failed(error_kind::connect_failed);
  b.http_response(500, false, 1ms, t0);
  a.merge(b);
  EXPECT_EQ(a.connections_opened(), 3u);
  EXPECT_EQ(a.connections_failed(), 1u);
  EXPECT_EQ(a.sessions(), 2u);
  EXPECT_EQ(a.frames_received(), 3u);
  EXPECT_EQ(a.sent(), 2u);
  EXPECT_EQ(a.answered(), 3u); // two replies and one 201
  EXPECT_EQ(a.latency().max(), 9000u);
  EXPECT_EQ(a.reply_frames(), 7u);
  EXPECT_EQ(a.min_frames_per_reply(), 3u);
  EXPECT_EQ(a.max_frames_per_reply(), 4u);
  EXPECT_EQ(a.error_frames().at("rate_limited"), 2u);
  EXPECT_EQ(a.error_frames().at("internal_error"), 1u);
  EXPECT_EQ(a.errors(error_kind::timeout), 1u);
  EXPECT_EQ(a.http_statuses().at(500), 1u);
  EXPECT_EQ(a.total_errors(), 2u + 1 + 1 + 1 + 1);
  ASSERT_TRUE(a.measured_seconds());
  EXPECT_NEAR(*a.measured_seconds(), 0.030, 1e-9); // b's send to b's answer
}

} // namespace
