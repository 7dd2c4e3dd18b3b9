#include "actors/session_actor.hpp"

#include <soci/soci.h>

#include "actors/resume_token.hpp"
#include "tests/actors/session_test_base.hpp"

namespace parley::test {
namespace {

using strings = std::vector<std::string>;

class session_actor_test : public session_test_base {
protected:
  session_actor_test() {
    start();
  }

  /// Seqs of all frames after the greeting are strictly increasing.
  static void expect_increasing(const fake_connection& conn) {
    std::int64_t last = 0;
    for (const auto& frame : conn.frames) {
      auto seq = frame.at("seq").get<std::int64_t>();
      if (seq == 0)
        continue; // connection-level frames
      EXPECT_GT(seq, last) << frame.dump();
      last = seq;
    }
  }
};

TEST_F(session_actor_test, a_new_socket_gets_a_new_session) {
  auto conn = connect();
  ASSERT_EQ(conn->types(), strings{"session"});
  const auto& greeting = conn->frames[0];
  EXPECT_EQ(greeting["seq"], 1);
  EXPECT_EQ(greeting["resumed"], false);
  EXPECT_EQ(greeting["status"], "active");
  auto token = greeting["resume_token"].get<std::string>();
  EXPECT_EQ(token.size(), 64u);
  EXPECT_TRUE(conn->bound);
  EXPECT_EQ(count("SELECT COUNT(*) FROM chat_sessions"), 1);
  // Only the hash of the token is stored.
  std::string stored;
  probe().sql() << "SELECT resume_token_hash FROM chat_sessions",
    soci::into(stored);
  EXPECT_EQ(stored, hash_resume_token(token));
  EXPECT_EQ(count("SELECT COUNT(*) FROM chat_events WHERE event_type = "
                  "'session_started'"),
            1);
}

TEST_F(session_actor_test, ack_follows_the_commit_and_precedes_the_answer) {
  auto conn = connect();
  caf::anon_send(conn->bound, client_message{"hello", "c1"});
  // One message at a time, whichever actor runs: whenever the client holds
  // an ack, the message is already committed (seen by a second connection).
  std::size_t steps = 0;
  while (sched->try_run_once()) {
    ++steps;
    if (!conn->of_type("ack").empty()) {
      ASSERT_EQ(count("SELECT COUNT(*) FROM messages WHERE is_user = 1"), 1)
        << "ack sent before the commit, at step " << steps;
    }
    if (!conn->of_type("message").empty()) {
      ASSERT_EQ(count("SELECT COUNT(*) FROM messages WHERE is_user = 0"), 1)
        << "answer sent before its commit, at step " << steps;
    }
  }
  EXPECT_GT(steps, 4u);
  ASSERT_EQ(conn->types(), (strings{"session", "ack", "typing", "message"}));
  auto ack = conn->frames[1];
  auto reply = conn->frames[3];
  EXPECT_EQ(ack["id"], "c1");
  // Typing names the message being answered: a Stop button can cancel it
  // before anything is streamed.
  EXPECT_EQ(conn->frames[2]["reply_to"], ack["message_id"]);
  EXPECT_EQ(reply["reply_to"], ack["message_id"]);
  EXPECT_FALSE(reply.contains("handoff")) << "no change of hands";
  EXPECT_EQ(reply["role"], "assistant");
  EXPECT_EQ(reply["source"], "fallback");
  EXPECT_FALSE(reply["text"].get<std::string>().empty());
  EXPECT_GT(reply["tokens_used"].get<int>(), 0);
  expect_increasing(*conn);
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE is_user = 1"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE is_user = 0 AND "
                  "reply_to IS NOT NULL"),
            1);
}

TEST_F(session_actor_test, a_repeated_client_id_is_not_processed_twice) {
  auto conn = connect();
  say(conn, "hello", "same");
  say(conn, "hello", "same");
  auto acks = conn->of_type("ack");
  auto replies = conn->of_type("message");
  ASSERT_EQ(acks.size(), 2u);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(acks[0]["message_id"], acks[1]["message_id"]);
  EXPECT_EQ(replies[0]["id"], replies[1]["id"]);
  EXPECT_EQ(replies[0]["text"], replies[1]["text"]);
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages"), 2);
  expect_increasing(*conn);
}

TEST_F(session_actor_test, messages_are_answered_in_order) {
  auto conn = connect();
  for (auto text : {"hi", "thanks", "bye"})
    caf::anon_send(conn->bound, client_message{text, text});
  run();
  auto acks = conn->of_type("ack");
  auto replies = conn->of_type("message");
  ASSERT_EQ(acks.size(), 3u);
  ASSERT_EQ(replies.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(replies[i]["reply_to"], acks[i]["message_id"]);
  EXPECT_NE(replies[1]["text"].get<std::string>().find("welcome"),
            std::string::npos);
  expect_increasing(*conn);
}

TEST_F(session_actor_test, ping_and_protocol_errors_get_frames) {
  auto conn = connect();
  caf::anon_send(conn->bound, ping_atom_v);
  caf::anon_send(conn->bound, protocol_error{"empty_message", "empty", 0, {}});
  caf::anon_send(conn->bound,
                 protocol_error{"message_too_long", "too long", 0, "c-9"});
  run();
  ASSERT_EQ(conn->types(), (strings{"session", "pong", "error", "error"}));
  EXPECT_EQ(conn->frames[2]["code"], "empty_message");
  EXPECT_FALSE(conn->frames[2].contains("client_id")) << "the message had no id";
  // A refused message with an id is named, so the page can mark it.
  EXPECT_EQ(conn->frames[3]["code"], "message_too_long");
  EXPECT_EQ(conn->frames[3]["client_id"], "c-9");
  EXPECT_FALSE(conn->frames[3].contains("retry_after_ms"));
  expect_increasing(*conn);
}

/// Stands in for a database that refuses every write.
caf::behavior failing_persistence(caf::event_based_actor*) {
  return {
    [](store_atom, storage::new_user_message&)
      -> caf::result<storage::user_message_result> {
      return make_error(errc::storage_unavailable, "disk full");
    },
    [](event_atom, storage::new_event&) {
      // dropped, like an event the database cannot take
    },
  };
}

TEST_F(session_actor_test, a_message_that_cannot_be_stored_is_named) {
  auto conn = connect();
  auto working = *directory->get();
  auto broken = working;
  broken.persistence
    = caf::actor_cast<persistence_actor>(sys->spawn(failing_persistence));
  directory->set(broken);
  say(conn, "hello", "s-1");
  directory->set(working);
  ASSERT_EQ(conn->types(), (strings{"session", "error"}));
  EXPECT_EQ(conn->frames[1]["code"], "storage_unavailable");
  EXPECT_EQ(conn->frames[1]["client_id"], "s-1");
  caf::anon_send_exit(broken.persistence, caf::exit_reason::user_shutdown);
  // Sent again, it is stored and answered.
  say(conn, "hello", "s-1");
  EXPECT_EQ(conn->of_type("ack").size(), 1u);
  EXPECT_EQ(conn->of_type("message").size(), 1u);
}

TEST_F(session_actor_test, a_live_session_replays_what_the_client_missed) {
  auto first = connect();
  caf::anon_send(first->bound, client_message{"hello", "m1"});
  run();
  auto ack_seq = first->of_type("ack").at(0)["seq"].get<std::int64_t>();
  auto reply = first->of_type("message").at(0);
  drop(first);
  auto second = resume(first, ack_seq);
  ASSERT_EQ(second->types(), (strings{"session", "message"}));
  EXPECT_EQ(second->frames[0]["resumed"], true);
  EXPECT_EQ(second->frames[0]["seq"], 0);
  EXPECT_EQ(second->frames[1], reply) << "the same frame, same seq";
  // The conversation goes on with higher seqs.
  say(second, "thanks", "m2");
  EXPECT_GT(second->of_type("ack").at(0)["seq"].get<std::int64_t>(),
            reply["seq"].get<std::int64_t>());
}

TEST_F(session_actor_test, a_fresh_actor_rebuilds_the_session_from_the_db) {
  auto first = connect();
  say(first, "hello", "m1");
  drop(first);
  auto registry = directory->get()->registry;
  auto live = ask<std::uint64_t>(registry, count_atom_v);
  run();
  EXPECT_EQ(*live->value, 1u) << "lingering for a resume";
  advance(settings_.linger);
  live = ask<std::uint64_t>(registry, count_atom_v);
  run();
  EXPECT_EQ(*live->value, 0u) << "gone after the linger time";
  auto second = resume(first, 1);
  ASSERT_EQ(second->types(), (strings{"session", "ack", "message"}));
  // The replayed ack is the live one plus the message's text and time,
  // which the live ack leaves out (the client knew them).
  auto replayed_ack = second->frames[1];
  EXPECT_EQ(replayed_ack["text"], "hello") << replayed_ack.dump();
  EXPECT_TRUE(replayed_ack["created_at"].is_string()) << replayed_ack.dump();
  replayed_ack.erase("text");
  replayed_ack.erase("created_at");
  EXPECT_EQ(replayed_ack, first->of_type("ack").at(0));
  EXPECT_EQ(second->frames[2], first->of_type("message").at(0));
  // The history came back too: a second greeting is answered as one.
  say(second, "hello", "m2");
  auto replies = second->of_type("message");
  EXPECT_NE(replies.back()["text"].get<std::string>().find("again"),
            std::string::npos)
    << replies.back().dump();
  EXPECT_EQ(count("SELECT COUNT(*) FROM chat_events WHERE event_type = "
                  "'session_resumed'"),
            1);
}

TEST_F(session_actor_test, a_wrong_token_or_unknown_session_is_refused) {
  auto owner = connect();
  say(owner, "my secret order", "s1");
  auto session_id = owner->frames[0]["session_id"].get<std::int64_t>();
  auto intruder = connect(attach_request{session_id, make_resume_token(), 0});
  ASSERT_EQ(intruder->types(), strings{"error"});
  EXPECT_EQ(intruder->frames[0]["code"], "invalid_resume");
  EXPECT_TRUE(intruder->closed);
  EXPECT_EQ(intruder->close_code, 1008);
  EXPECT_FALSE(intruder->bound);
  auto unknown = connect(attach_request{session_id + 1000, "x", 0});
  ASSERT_EQ(unknown->types(), strings{"error"});
  EXPECT_EQ(unknown->frames[0]["code"], "invalid_resume");
  EXPECT_EQ(unknown->close_code, 1008);
  // The owner did not notice.
  EXPECT_FALSE(owner->closed);
  say(owner, "still here", "s2");
  EXPECT_EQ(owner->of_type("message").size(), 2u);
}

TEST_F(session_actor_test, an_unanswered_message_is_answered_after_resume) {
  auto first = connect();
  auto session_id = first->frames[0]["session_id"].get<std::int64_t>();
  drop(first);
  advance(settings_.linger);
  // As if the server died between the ack and the answer.
  storage::chat_repository repo{probe()};
  storage::new_user_message orphan;
  orphan.session_id = session_id;
  orphan.client_id = "lost";
  orphan.content = "thank you";
  orphan.seq = 2;
  auto stored = repo.store_user_message(orphan);
  auto second = resume(first, 2);
  auto replies = second->of_type("message");
  ASSERT_EQ(replies.size(), 1u) << second->frames.size();
  EXPECT_EQ(replies[0]["reply_to"], stored.message.id);
  // The rebuilt session announces the answer it starts, after the replay
  // and with a seq above the client's.
  ASSERT_EQ(second->types(), (strings{"session", "typing", "message"}));
  EXPECT_EQ(second->frames[1]["reply_to"], stored.message.id);
  EXPECT_GT(second->frames[1]["seq"].get<std::int64_t>(), 2);
  EXPECT_GT(replies[0]["seq"].get<std::int64_t>(), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE reply_to = "
                  + std::to_string(stored.message.id)),
            1);
}

TEST_F(session_actor_test, a_newer_socket_replaces_the_older_one) {
  auto first = connect();
  auto second = resume(first, 1);
  EXPECT_TRUE(first->closed);
  EXPECT_EQ(first->close_code, 4000);
  EXPECT_FALSE(second->closed);
  say(second, "hello", "x");
  EXPECT_EQ(second->of_type("message").size(), 1u);
  EXPECT_TRUE(first->of_type("message").empty());
}

TEST_F(session_actor_test, drain_finishes_answers_then_closes_sockets) {
  auto conn = connect();
  caf::anon_send(conn->bound, client_message{"hello", "d1"});
  auto drained = ask<std::uint64_t>(directory->get()->registry, drain_atom_v);
  run();
  ASSERT_TRUE(drained->value) << describe(drained->error);
  EXPECT_EQ(*drained->value, 1u);
  EXPECT_EQ(conn->types(), (strings{"session", "ack", "typing", "message"}));
  EXPECT_TRUE(conn->closed);
  EXPECT_EQ(conn->close_code, 1001);
  EXPECT_EQ(count("SELECT COUNT(*) FROM chat_events WHERE event_type = "
                  "'session_closed'"),
            1);
  // A socket arriving now is turned away.
  auto late = connect();
  EXPECT_EQ(late->types(), strings{"error"});
  EXPECT_EQ(late->frames[0]["code"], "shutting_down");
}

TEST_F(session_actor_test, messages_during_the_drain_are_refused_unacked) {
  auto conn = connect();
  auto registry = directory->get()->registry;
  caf::anon_send(conn->bound, client_message{"hello", "before"});
  step(conn->bound); // storing "before" is under way
  caf::anon_send(registry, drain_atom_v);
  step(registry); // tells the session to drain
  caf::anon_send(conn->bound, client_message{"thanks", "during"});
  run();
  // The refusal waits behind the ack whose seq was reserved first.
  ASSERT_EQ(conn->types(),
            (strings{"session", "ack", "error", "typing", "message"}));
  EXPECT_EQ(conn->frames[2]["code"], "shutting_down");
  EXPECT_EQ(conn->frames[2]["client_id"], "during");
  EXPECT_EQ(conn->of_type("ack").at(0)["id"], "before");
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE client_id = 'during'"),
            0);
  EXPECT_TRUE(conn->closed);
}

TEST_F(session_actor_test, the_session_frame_and_messages_tell_who_answers) {
  auto conn = connect();
  auto session_id = conn->frames[0]["session_id"].get<std::int64_t>();
  // A human agent steps in on their own: their first message takes over.
  auto posted = ask<storage::message_record>(
    conn->bound, agent_msg_atom_v, agent_message{session_id, "Hi, Dana here",
                                                 "Dana"});
  run();
  ASSERT_TRUE(posted->value) << describe(posted->error);
  auto taken = conn->of_type("message").at(0);
  EXPECT_EQ(taken["source"], "agent");
  EXPECT_EQ(taken["handoff"], true);
  posted = ask<storage::message_record>(
    conn->bound, agent_msg_atom_v, agent_message{session_id, "Still here",
                                                 "Dana"});
  run();
  EXPECT_FALSE(conn->of_type("message").at(1).contains("handoff"))
    << "the agent had the session already";
  // A reloaded page (the live actor) and one after a restart (a fresh
  // actor) both learn it from the greeting.
  auto last_seq = conn->frames.back()["seq"].get<std::int64_t>();
  drop(conn);
  auto again = resume(conn, last_seq);
  EXPECT_EQ(again->frames.at(0)["status"], "handoff");
  drop(again);
  advance(settings_.linger);
  auto rebuilt = resume(conn, last_seq);
  EXPECT_EQ(rebuilt->frames.at(0)["status"], "handoff");
  // Released: the notice says so, and the next greeting too.
  auto released = ask<storage::message_record>(rebuilt->bound, release_atom_v,
                                               session_id);
  run();
  ASSERT_TRUE(released->value) << describe(released->error);
  auto notice = rebuilt->of_type("message").at(0);
  EXPECT_EQ(notice["source"], "system");
  ASSERT_TRUE(notice.contains("handoff")) << notice.dump();
  EXPECT_EQ(notice["handoff"], false);
  auto back = resume(conn, notice["seq"].get<std::int64_t>());
  EXPECT_EQ(back->frames.at(0)["status"], "active");
}

TEST_F(session_actor_test, closing_a_handed_off_session_ends_the_handoff) {
  auto conn = connect();
  auto session_id = conn->frames[0]["session_id"].get<std::int64_t>();
  auto posted = ask<storage::message_record>(
    conn->bound, agent_msg_atom_v, agent_message{session_id, "Hi", "Dana"});
  run();
  ASSERT_TRUE(posted->value) << describe(posted->error);
  // The support team closes it: the customer is told, in the same commit
  // as the new status.
  auto closed = ask<storage::message_record>(conn->bound, status_atom_v,
                                             session_id,
                                             std::string{"inactive"});
  run();
  ASSERT_TRUE(closed->value) << describe(closed->error);
  EXPECT_NE(closed->value->id, 0);
  EXPECT_EQ(closed->value->source, "system");
  auto notice = conn->of_type("message").back();
  EXPECT_EQ(notice["source"], "system");
  EXPECT_EQ(notice["handoff"], false);
  EXPECT_EQ(count("SELECT COUNT(*) FROM chat_sessions WHERE status = "
                  "'inactive'"),
            1);
  // The live actor knows: the customer's next message is answered by the
  // bot, and reopens the session.
  say(conn, "hello again", "c2");
  EXPECT_EQ(conn->of_type("typing").size(), 1u);
  EXPECT_EQ(conn->types().back(), "message");
  EXPECT_EQ(conn->of_type("message").back()["source"], "fallback");
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE message_type = "
                  "'to_agent'"),
            0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM chat_sessions WHERE status = "
                  "'active'"),
            1);
  // Without a handoff a status change is the database's alone.
  auto again = ask<storage::message_record>(conn->bound, status_atom_v,
                                            session_id,
                                            std::string{"inactive"});
  run();
  ASSERT_TRUE(again->value) << describe(again->error);
  EXPECT_EQ(again->value->id, 0);
  EXPECT_EQ(conn->of_type("message").size(), 3u);
}

} // namespace
} // namespace parley::test
