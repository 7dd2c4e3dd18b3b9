// A session's own limits: how fast it may send, and how many of its
// messages may wait for answers. A refused message is neither stored nor
// acknowledged, and the error frame says which one and when to try again.

#include <soci/soci.h>

#include "actors/session_actor.hpp"
#include "tests/actors/session_test_base.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;

class session_limits_test : public session_test_base {
protected:
  std::int64_t stored_user_messages() {
    return count("SELECT COUNT(*) FROM messages WHERE is_user = 1");
  }
};

TEST_F(session_limits_test, a_burst_is_served_then_the_rate_applies) {
  session_settings settings;
  settings.message_rate = 1; // per second
  settings.message_burst = 3;
  start(settings);
  auto conn = connect();
  for (auto id : {"m1", "m2", "m3", "m4"})
    say(conn, "hello", id);
  ASSERT_EQ(conn->of_type("ack").size(), 3u);
  auto errors = conn->of_type("error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["code"], "rate_limited");
  EXPECT_EQ(errors[0]["client_id"], "m4");
  auto retry = errors[0]["retry_after_ms"].get<std::int64_t>();
  EXPECT_GT(retry, 0);
  EXPECT_LE(retry, 1000);
  EXPECT_EQ(stored_user_messages(), 3);
  // After the wait it says, the same message goes through, once.
  advance(std::chrono::milliseconds{retry});
  say(conn, "hello", "m4");
  EXPECT_EQ(conn->of_type("ack").size(), 4u);
  EXPECT_EQ(conn->of_type("error").size(), 1u);
  EXPECT_EQ(stored_user_messages(), 4);
}

TEST_F(session_limits_test, a_zero_rate_means_no_limit) {
  session_settings settings;
  settings.message_rate = 0;
  settings.message_burst = 1;
  start(settings);
  auto conn = connect();
  for (int i = 0; i < 20; ++i)
    say(conn, "hello", "m" + std::to_string(i));
  EXPECT_EQ(conn->of_type("ack").size(), 20u);
  EXPECT_TRUE(conn->of_type("error").empty());
}

TEST_F(session_limits_test, too_many_unanswered_messages_are_refused) {
  session_settings settings;
  settings.message_rate = 0;
  settings.max_pending_replies = 2;
  start(settings);
  auto conn = connect();
  // All three are in the session's mailbox before any store completes, so
  // the third finds two messages waiting.
  for (auto id : {"p1", "p2", "p3"})
    caf::anon_send(conn->bound, client_message{"hello", id});
  run();
  auto acks = conn->of_type("ack");
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0]["id"], "p1");
  EXPECT_EQ(acks[1]["id"], "p2");
  auto errors = conn->of_type("error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["code"], "too_many_pending");
  EXPECT_EQ(errors[0]["client_id"], "p3");
  EXPECT_GT(errors[0]["retry_after_ms"].get<std::int64_t>(), 0);
  EXPECT_EQ(conn->of_type("message").size(), 2u);
  EXPECT_EQ(stored_user_messages(), 2);
  // The answers are out: the refused message is welcome now.
  say(conn, "hello", "p3");
  EXPECT_EQ(conn->of_type("ack").size(), 3u);
  EXPECT_EQ(stored_user_messages(), 3);
}

TEST_F(session_limits_test, a_transport_refusal_names_the_message) {
  start();
  auto conn = connect();
  caf::anon_send(conn->bound,
                 protocol_error{"rate_limited", "too many from your address",
                                1500, "x1"});
  run();
  auto errors = conn->of_type("error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["code"], "rate_limited");
  EXPECT_EQ(errors[0]["retry_after_ms"], 1500);
  EXPECT_EQ(errors[0]["client_id"], "x1");
  EXPECT_GT(errors[0]["seq"].get<std::int64_t>(), 0);
}

TEST_F(session_limits_test, every_frame_from_the_socket_is_confirmed) {
  // The socket reads on only as the session confirms what it handled.
  start();
  auto conn = connect();
  caf::anon_send(conn->bound, client_message{"hello", "f1"});
  caf::anon_send(conn->bound, ping_atom_v);
  caf::anon_send(conn->bound, protocol_error{"empty_message", "empty", 0, {}});
  caf::anon_send(conn->bound, cancel_atom_v, std::int64_t{42});
  run();
  EXPECT_EQ(conn->handled, 4u);
}

} // namespace
} // namespace parley::test
