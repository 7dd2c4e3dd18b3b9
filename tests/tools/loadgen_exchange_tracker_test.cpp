// How the load generator matches server frames to the messages it sent
// (tools/loadgen/exchange_tracker): acks by client id, the rest by
// reply_to, latency and frames per reply, refusals, timeouts.

#include <chrono>

#include <gtest/gtest.h>

#include "tools/loadgen/exchange_tracker.hpp"

using namespace parley::loadgen;
using namespace std::chrono_literals;
using event = exchange_tracker::event;

namespace {

using time_point = exchange_tracker::clock::time_point;

const time_point t0{std::chrono::seconds{1000}};

server_frame ack(std::string_view id, std::int64_t message_id) {
  server_frame f;
  f.type = "ack";
  f.id = id;
  f.message_id = message_id;
  return f;
}

server_frame about(std::string_view type,
                   std::optional<std::int64_t> reply_to) {
  server_frame f;
  f.type = type;
  f.reply_to = reply_to;
  return f;
}

server_frame error(std::string_view code, std::string_view client_id) {
  server_frame f;
  f.type = "error";
  f.code = code;
  f.client_id = client_id;
  return f;
}

TEST(loadgen_exchange_tracker, one_exchange_from_ack_to_answer) {
  exchange_tracker t{1};
  ASSERT_TRUE(t.sent(0, t0, false));
  EXPECT_EQ(t.outstanding(), 1u);
  EXPECT_EQ(t.on_frame(ack("0", 5), t0 + 1ms).what, event::ack);
  EXPECT_EQ(t.on_frame(about("typing", 5), t0 + 2ms).what, event::progress);
  auto done = t.on_frame(about("message", 5), t0 + 7ms);
  EXPECT_EQ(done.what, event::answer);
  EXPECT_FALSE(done.warmup);
  EXPECT_EQ(done.latency, 7ms);
  EXPECT_EQ(done.frames, 3u); // ack, typing, message
  EXPECT_EQ(t.outstanding(), 0u);
  EXPECT_FALSE(t.oldest());
}

TEST(loadgen_exchange_tracker, deltas_count_as_frames_of_the_reply) {
  exchange_tracker t{1};
  t.sent(3, t0, false);
  t.on_frame(ack("3", 9), t0);
  t.on_frame(about("typing", 9), t0);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(t.on_frame(about("delta", 9), t0).what, event::progress);
  EXPECT_EQ(t.on_frame(about("message", 9), t0).frames, 7u);
}

TEST(loadgen_exchange_tracker, interleaved_exchanges_are_told_apart) {
  exchange_tracker t{2};
  t.sent(0, t0, false);
  t.sent(1, t0 + 1ms, false);
  t.on_frame(ack("0", 10), t0 + 2ms);
  t.on_frame(ack("1", 11), t0 + 3ms);
  t.on_frame(about("typing", 10), t0 + 4ms);
  EXPECT_EQ(t.oldest(), t0);
  auto first = t.on_frame(about("message", 10), t0 + 5ms);
  EXPECT_EQ(first.what, event::answer);
  EXPECT_EQ(first.latency, 5ms);
  EXPECT_EQ(first.frames, 3u);
  EXPECT_EQ(t.oldest(), t0 + 1ms);
  t.on_frame(about("typing", 11), t0 + 6ms);
  auto second = t.on_frame(about("message", 11), t0 + 9ms);
  EXPECT_EQ(second.latency, 8ms);
  EXPECT_EQ(second.frames, 3u);
  EXPECT_EQ(t.outstanding(), 0u);
}

TEST(loadgen_exchange_tracker, no_more_than_its_capacity) {
  exchange_tracker t{2};
  EXPECT_TRUE(t.sent(0, t0, false));
  EXPECT_TRUE(t.sent(1, t0, false));
  EXPECT_FALSE(t.sent(2, t0, false));
  EXPECT_EQ(t.outstanding(), 2u);
}

TEST(loadgen_exchange_tracker, warmup_messages_are_marked) {
  exchange_tracker t{1};
  t.sent(0, t0, true);
  t.on_frame(ack("0", 1), t0);
  EXPECT_TRUE(t.on_frame(about("message", 1), t0).warmup);
}

TEST(loadgen_exchange_tracker, an_error_naming_a_message_refuses_it) {
  exchange_tracker t{2};
  t.sent(4, t0, false);
  t.sent(5, t0, true);
  auto refused = t.on_frame(error("rate_limited", "5"), t0);
  EXPECT_EQ(refused.what, event::refused);
  EXPECT_EQ(refused.code, "rate_limited");
  EXPECT_TRUE(refused.warmup);
  EXPECT_EQ(t.outstanding(), 1u);
}

TEST(loadgen_exchange_tracker, an_error_without_client_id_is_about_the_connection) {
  exchange_tracker t{1};
  t.sent(0, t0, false);
  auto e = t.on_frame(error("shutting_down", ""), t0);
  EXPECT_EQ(e.what, event::connection_error);
  EXPECT_EQ(e.code, "shutting_down");
  EXPECT_EQ(t.outstanding(), 1u);
}

TEST(loadgen_exchange_tracker, frames_naming_nothing_of_ours_are_unmatched) {
  exchange_tracker t{1};
  t.sent(0, t0, false);
  EXPECT_EQ(t.on_frame(ack("1", 5), t0).what, event::unmatched);
  EXPECT_EQ(t.on_frame(ack("x", 5), t0).what, event::unmatched);
  EXPECT_EQ(t.on_frame(ack("0", 0), t0).what, event::unmatched);
  EXPECT_EQ(t.on_frame(about("typing", 5), t0).what, event::unmatched);
  EXPECT_EQ(t.on_frame(about("message", 5), t0).what, event::unmatched);
  EXPECT_EQ(t.on_frame(error("internal_error", "9"), t0).what,
            event::unmatched);
  // Before its ack, the message's id is unknown.
  EXPECT_EQ(t.on_frame(about("typing", 6), t0).what, event::unmatched);
  EXPECT_EQ(t.outstanding(), 1u);
}

TEST(loadgen_exchange_tracker, messages_answering_nothing_and_pongs_are_other) {
  exchange_tracker t{1};
  EXPECT_EQ(t.on_frame(about("message", std::nullopt), t0).what, event::other);
  EXPECT_EQ(t.on_frame(about("pong", std::nullopt), t0).what, event::other);
  EXPECT_EQ(t.on_frame(about("session", std::nullopt), t0).what,
            event::session);
}

TEST(loadgen_exchange_tracker, abandon_forgets_everything_and_counts_measured) {
  exchange_tracker t{3};
  t.sent(0, t0, true);
  t.sent(1, t0 + 1ms, false);
  t.sent(2, t0 + 2ms, false);
  EXPECT_EQ(t.oldest(), t0);
  EXPECT_EQ(t.abandon(), 2u);
  EXPECT_EQ(t.outstanding(), 0u);
  EXPECT_FALSE(t.oldest());
  // The slots are free again.
  EXPECT_TRUE(t.sent(3, t0, false));
}

} // namespace

namespace {

server_frame echoed(std::string_view type, std::string_view id) {
  server_frame f;
  f.type = type;
  f.id = id;
  return f;
}

} // namespace

TEST(loadgen_exchange_tracker, echo_the_frame_itself_is_the_answer) {
  exchange_tracker t{2, expect_mode::echo};
  t.sent(0, t0, false);
  t.sent(1, t0 + 1ms, true);
  auto second = t.on_frame(echoed("message", "1"), t0 + 3ms);
  EXPECT_EQ(second.what, event::answer);
  EXPECT_TRUE(second.warmup);
  EXPECT_EQ(second.latency, 2ms);
  EXPECT_EQ(second.frames, 1u);
  auto first = t.on_frame(echoed("message", "0"), t0 + 4ms);
  EXPECT_EQ(first.what, event::answer);
  EXPECT_FALSE(first.warmup);
  EXPECT_EQ(first.latency, 4ms);
  EXPECT_EQ(t.outstanding(), 0u);
}

TEST(loadgen_exchange_tracker, echo_of_an_unknown_id_is_unmatched) {
  exchange_tracker t{1, expect_mode::echo};
  t.sent(7, t0, false);
  EXPECT_EQ(t.on_frame(echoed("message", "8"), t0).what, event::unmatched);
  EXPECT_EQ(t.on_frame(echoed("message", ""), t0).what, event::unmatched);
  // Parley's frames mean nothing to an echo run; an ack is not an answer.
  EXPECT_EQ(t.on_frame(ack("7", 3), t0).what, event::other);
  EXPECT_EQ(t.outstanding(), 1u);
}

TEST(loadgen_exchange_tracker, parley_mode_ignores_an_echo) {
  // A message frame without reply_to answers nothing of ours.
  exchange_tracker t{1};
  t.sent(0, t0, false);
  EXPECT_EQ(t.on_frame(echoed("message", "0"), t0).what, event::other);
  EXPECT_EQ(t.outstanding(), 1u);
}
