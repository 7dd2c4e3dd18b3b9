#include "storage/chat_repository.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include <soci/soci.h>

#include "storage/database.hpp"
#include "storage/storage_error.hpp"
#include "tests/storage/storage_test_support.hpp"

using namespace parley;
using namespace parley::storage;
using namespace parley::storage::test;

namespace {

new_session session_request(std::string title = "help",
                            std::string channel = "websocket") {
  new_session result;
  result.title = std::move(title);
  result.channel = std::move(channel);
  result.resume_token_hash = std::string(64, 'a');
  return result;
}

new_user_message user_msg(std::int64_t session_id, std::string client_id,
                          std::string content, std::int64_t seq = 0) {
  new_user_message result;
  result.session_id = session_id;
  result.client_id = std::move(client_id);
  result.content = std::move(content);
  result.seq = seq;
  return result;
}

new_assistant_message reply_msg(std::int64_t session_id, std::int64_t reply_to,
                                std::string content, std::int64_t seq = 0) {
  new_assistant_message result;
  result.session_id = session_id;
  result.reply_to = reply_to;
  result.content = std::move(content);
  result.source = "fallback";
  result.finish_reason = "completed";
  result.seq = seq;
  return result;
}

std::vector<std::string> contents(const std::vector<message_record>& xs) {
  std::vector<std::string> result;
  for (auto& x : xs)
    result.push_back(x.content);
  return result;
}

/// The storage_errc that `fn` throws, or a test failure.
template <class F>
storage_errc error_code(F fn) {
  try {
    fn();
  } catch (const storage_error& err) {
    return err.code();
  }
  ADD_FAILURE() << "no storage_error";
  return storage_errc::internal;
}

class chat_repo : public database_fixture {
protected:
  void SetUp() override {
    migrate(db());
    repo_ = std::make_unique<chat_repository>(db());
  }

  void TearDown() override {
    repo_.reset(); // statements go before the connection
  }

  chat_repository& repo() {
    return *repo_;
  }

  long long scalar(const std::string& query, long long id) {
    long long result = -1;
    db().sql() << query, soci::use(id), soci::into(result);
    return result;
  }

  std::unique_ptr<chat_repository> repo_;
};

} // namespace

TEST_P(chat_repo, create_session_stores_row_and_started_event) {
  auto session = repo().create_session(session_request("Billing", "rest"));
  EXPECT_GT(session.id, 0);
  EXPECT_EQ(session.status, "active");
  EXPECT_EQ(session.created_at, session.updated_at);
  auto found = repo().find_session(session.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, session.id);
  EXPECT_EQ(found->user_id, 0);
  EXPECT_EQ(found->title, "Billing");
  EXPECT_EQ(found->status, "active");
  EXPECT_EQ(found->channel, "rest");
  EXPECT_EQ(found->resume_token_hash, std::string(64, 'a'));
  EXPECT_EQ(found->created_at, session.created_at);
  EXPECT_EQ(found->updated_at, session.updated_at);
  std::string type;
  std::string payload;
  long long id = session.id;
  db().sql() << "SELECT event_type, payload FROM chat_events "
                "WHERE session_id = :id",
    soci::use(id), soci::into(type), soci::into(payload);
  EXPECT_EQ(type, "session_started");
  EXPECT_EQ(payload, R"({"channel":"rest"})");
  auto second = repo().create_session(session_request());
  EXPECT_GT(second.id, session.id);
}

TEST_P(chat_repo, create_session_keeps_user_and_empty_fields) {
  auto now = utc_timestamp();
  db().sql() << "INSERT INTO users (name, email, created_at, updated_at) "
                "VALUES ('Ann', 'ann@example.com', :c, :u)",
    soci::use(now), soci::use(now);
  long long user_id = 0;
  db().sql() << "SELECT id FROM users", soci::into(user_id);
  new_session request;
  request.user_id = user_id;
  auto session = repo().create_session(request);
  auto found = repo().find_session(session.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->user_id, user_id);
  EXPECT_EQ(found->title, "");
  EXPECT_EQ(found->channel, "");
  EXPECT_EQ(found->resume_token_hash, "");
  // ON DELETE SET NULL: the session stays, anonymous.
  db().sql() << "DELETE FROM users";
  found = repo().find_session(session.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->user_id, 0);
}

TEST_P(chat_repo, unknown_session_is_not_found) {
  EXPECT_FALSE(repo().find_session(4242));
  EXPECT_EQ(error_code([&] { repo().store_user_message(user_msg(4242, "c", "x")); }),
            storage_errc::not_found);
  EXPECT_EQ(error_code([&] { repo().store_assistant_message(reply_msg(4242, 1, "x")); }),
            storage_errc::not_found);
  EXPECT_EQ(error_code([&] { repo().load_snapshot(4242, 0, 10); }),
            storage_errc::not_found);
  EXPECT_EQ(repo().max_seq(4242), 0);
  EXPECT_TRUE(repo().messages_after_seq(4242, 0).empty());
  // What API clients see (404): the same words from every operation, and
  // never the name of the function that noticed.
  for (auto* op : {"store_user_message", "store_assistant_message",
                   "load_snapshot", "set_session_status"}) {
    try {
      std::string name = op;
      if (name == "store_user_message")
        repo().store_user_message(user_msg(4242, "c", "x"));
      else if (name == "store_assistant_message")
        repo().store_assistant_message(reply_msg(4242, 1, "x"));
      else if (name == "load_snapshot")
        repo().load_snapshot(4242, 0, 10);
      else
        repo().set_session_status(4242, "inactive");
      ADD_FAILURE() << op << ": no error";
    } catch (const storage_error& err) {
      EXPECT_STREQ(err.what(), "no session 4242") << op;
    }
  }
}

TEST_P(chat_repo, user_message_round_trips) {
  auto session = repo().create_session(session_request());
  auto request = user_msg(session.id, "client-1", "Hello 👋 — ünïcode", 7);
  auto stored = repo().store_user_message(request);
  EXPECT_FALSE(stored.duplicate);
  EXPECT_FALSE(stored.has_reply);
  auto& msg = stored.message;
  EXPECT_GT(msg.id, 0);
  EXPECT_TRUE(msg.is_user);
  EXPECT_EQ(msg.role, "user");
  EXPECT_EQ(msg.message_type, "text");
  auto all = repo().messages_after_seq(session.id, 0);
  ASSERT_EQ(all.size(), 1u);
  auto& row = all[0];
  EXPECT_EQ(row.id, msg.id);
  EXPECT_EQ(row.session_id, session.id);
  EXPECT_EQ(row.user_id, 0);
  EXPECT_TRUE(row.is_user);
  EXPECT_EQ(row.role, "user");
  EXPECT_EQ(row.content, "Hello 👋 — ünïcode");
  EXPECT_EQ(row.message_type, "text");
  EXPECT_EQ(row.tokens_used, 0);
  EXPECT_EQ(row.response_time, 0.0);
  EXPECT_EQ(row.client_id, "client-1");
  EXPECT_EQ(row.reply_to, 0);
  EXPECT_EQ(row.seq, 7);
  EXPECT_EQ(row.source, "");
  EXPECT_EQ(row.finish_reason, "");
  EXPECT_EQ(row.created_at, msg.created_at);
}

TEST_P(chat_repo, assistant_message_round_trips) {
  auto session = repo().create_session(session_request());
  auto question = repo().store_user_message(user_msg(session.id, "q", "?", 1));
  auto request = reply_msg(session.id, question.message.id, "answer", 2);
  request.tokens_used = 42;
  request.response_time = 1.25;
  auto stored = repo().store_assistant_message(request);
  EXPECT_GT(stored.id, question.message.id);
  auto all = repo().messages_after_seq(session.id, 1);
  ASSERT_EQ(all.size(), 1u);
  auto& row = all[0];
  EXPECT_EQ(row.id, stored.id);
  EXPECT_FALSE(row.is_user);
  EXPECT_EQ(row.role, "assistant");
  EXPECT_EQ(row.content, "answer");
  EXPECT_EQ(row.message_type, "text");
  EXPECT_EQ(row.tokens_used, 42);
  EXPECT_EQ(row.response_time, 1.25);
  EXPECT_EQ(row.client_id, "");
  EXPECT_EQ(row.reply_to, question.message.id);
  EXPECT_EQ(row.seq, 2);
  EXPECT_EQ(row.source, "fallback");
  EXPECT_EQ(row.finish_reason, "completed");
  EXPECT_EQ(row.created_at, stored.created_at);
}

TEST_P(chat_repo, duplicate_client_id_returns_original_and_its_reply) {
  auto session = repo().create_session(session_request());
  auto first = repo().store_user_message(user_msg(session.id, "c1", "hi", 1));
  auto again = repo().store_user_message(user_msg(session.id, "c1", "hi!!", 9));
  EXPECT_TRUE(again.duplicate);
  EXPECT_FALSE(again.has_reply);
  EXPECT_EQ(again.message.id, first.message.id);
  EXPECT_EQ(again.message.content, "hi");
  EXPECT_EQ(again.message.seq, 1);
  EXPECT_EQ(repo().count_messages(session.id), 1);
  auto reply = repo().store_assistant_message(
    reply_msg(session.id, first.message.id, "hello", 2));
  auto third = repo().store_user_message(user_msg(session.id, "c1", "hi", 3));
  EXPECT_TRUE(third.duplicate);
  ASSERT_TRUE(third.has_reply);
  EXPECT_EQ(third.reply.id, reply.id);
  EXPECT_EQ(third.reply.content, "hello");
  EXPECT_EQ(third.reply.reply_to, first.message.id);
  EXPECT_EQ(repo().count_messages(session.id), 2);
}

TEST_P(chat_repo, client_ids_are_per_session_and_compared_exactly) {
  auto a = repo().create_session(session_request());
  auto b = repo().create_session(session_request());
  EXPECT_FALSE(repo().store_user_message(user_msg(a.id, "same", "x")).duplicate);
  EXPECT_FALSE(repo().store_user_message(user_msg(b.id, "same", "x")).duplicate);
  EXPECT_FALSE(repo().store_user_message(user_msg(a.id, "SAME", "x")).duplicate);
  EXPECT_FALSE(repo().store_user_message(user_msg(a.id, "same ", "x")).duplicate);
  EXPECT_TRUE(repo().store_user_message(user_msg(a.id, "same", "x")).duplicate);
  EXPECT_EQ(repo().count_messages(a.id), 3);
  EXPECT_EQ(repo().count_messages(b.id), 1);
}

TEST_P(chat_repo, messages_without_client_id_never_collide) {
  auto session = repo().create_session(session_request());
  auto one = repo().store_user_message(user_msg(session.id, "", "one"));
  auto two = repo().store_user_message(user_msg(session.id, "", "two"));
  EXPECT_FALSE(one.duplicate);
  EXPECT_FALSE(two.duplicate);
  EXPECT_NE(one.message.id, two.message.id);
  EXPECT_EQ(repo().count_messages(session.id), 2);
  // Stored as NULL, not as '' (which the unique index would compare).
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM messages WHERE session_id = :s "
                   "AND client_id IS NULL",
                   session.id),
            2);
}

TEST_P(chat_repo, exactly_one_reply_per_user_message) {
  auto session = repo().create_session(session_request());
  auto question = repo().store_user_message(user_msg(session.id, "q", "?"));
  auto first = repo().store_assistant_message(
    reply_msg(session.id, question.message.id, "first"));
  auto second = repo().store_assistant_message(
    reply_msg(session.id, question.message.id, "second"));
  EXPECT_EQ(second.id, first.id);
  EXPECT_EQ(second.content, "first");
  EXPECT_EQ(second.created_at, first.created_at);
  EXPECT_EQ(repo().count_messages(session.id), 2);
}

TEST_P(chat_repo, custom_role_and_message_type) {
  auto session = repo().create_session(session_request());
  auto request = user_msg(session.id, "", "pic");
  request.message_type = "image";
  auto question = repo().store_user_message(request);
  EXPECT_EQ(question.message.message_type, "image");
  auto reply = reply_msg(session.id, question.message.id, "agent here");
  reply.role = "agent";
  EXPECT_EQ(repo().store_assistant_message(reply).role, "agent");
  auto all = repo().messages_after_seq(session.id, -1);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].message_type, "image");
  EXPECT_EQ(all[1].role, "agent");
}

TEST_P(chat_repo, messages_after_seq_orders_by_seq) {
  auto session = repo().create_session(session_request());
  auto other = repo().create_session(session_request());
  repo().store_user_message(user_msg(session.id, "c3", "three", 3));
  repo().store_user_message(user_msg(session.id, "c1", "one", 1));
  repo().store_user_message(user_msg(other.id, "c2", "elsewhere", 2));
  repo().store_user_message(user_msg(session.id, "c2", "two", 2));
  using strings = std::vector<std::string>;
  EXPECT_EQ(contents(repo().messages_after_seq(session.id, 0)),
            (strings{"one", "two", "three"}));
  EXPECT_EQ(contents(repo().messages_after_seq(session.id, 1)),
            (strings{"two", "three"}));
  EXPECT_TRUE(repo().messages_after_seq(session.id, 3).empty());
  EXPECT_EQ(repo().max_seq(session.id), 3);
  EXPECT_EQ(repo().max_seq(other.id), 2);
}

TEST_P(chat_repo, unanswered_lists_user_messages_without_reply) {
  auto session = repo().create_session(session_request());
  auto a = repo().store_user_message(user_msg(session.id, "a", "a"));
  auto b = repo().store_user_message(user_msg(session.id, "b", "b"));
  auto c = repo().store_user_message(user_msg(session.id, "c", "c"));
  repo().store_assistant_message(reply_msg(session.id, b.message.id, "re b"));
  auto open = repo().unanswered_messages(session.id);
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0].id, a.message.id);
  EXPECT_EQ(open[1].id, c.message.id);
  repo().store_assistant_message(reply_msg(session.id, a.message.id, "re a"));
  repo().store_assistant_message(reply_msg(session.id, c.message.id, "re c"));
  EXPECT_TRUE(repo().unanswered_messages(session.id).empty());
}

TEST_P(chat_repo, recent_messages_are_the_last_n_oldest_first) {
  auto session = repo().create_session(session_request());
  for (int i = 1; i <= 5; ++i)
    repo().store_user_message(
      user_msg(session.id, "c" + std::to_string(i), "m" + std::to_string(i), i));
  using strings = std::vector<std::string>;
  EXPECT_EQ(contents(repo().recent_messages(session.id, 3)),
            (strings{"m3", "m4", "m5"}));
  EXPECT_EQ(contents(repo().recent_messages(session.id, 100)),
            (strings{"m1", "m2", "m3", "m4", "m5"}));
  EXPECT_TRUE(repo().recent_messages(session.id, 0).empty());
}

TEST_P(chat_repo, snapshot_combines_everything) {
  auto session = repo().create_session(session_request("Snap"));
  auto q1 = repo().store_user_message(user_msg(session.id, "q1", "q1", 1));
  repo().store_assistant_message(reply_msg(session.id, q1.message.id, "a1", 2));
  repo().store_user_message(user_msg(session.id, "q2", "q2", 3));
  auto snap = repo().load_snapshot(session.id, 1, 2);
  EXPECT_EQ(snap.session.id, session.id);
  EXPECT_EQ(snap.session.title, "Snap");
  EXPECT_EQ(snap.max_seq, 3);
  using strings = std::vector<std::string>;
  EXPECT_EQ(contents(snap.replay), (strings{"a1", "q2"}));
  EXPECT_EQ(contents(snap.unanswered), (strings{"q2"}));
  EXPECT_EQ(contents(snap.history), (strings{"a1", "q2"}));
  EXPECT_FALSE(db().in_transaction());
}

TEST_P(chat_repo, constraint_violations_map_to_constraint) {
  auto a = repo().create_session(session_request());
  auto b = repo().create_session(session_request());
  // Foreign keys: no such session / no such user.
  new_event event;
  event.session_id = 999;
  event.event_type = "x";
  EXPECT_EQ(error_code([&] { repo().add_event(event); }),
            storage_errc::constraint);
  new_session request;
  request.user_id = 999;
  EXPECT_EQ(error_code([&] { repo().create_session(request); }),
            storage_errc::constraint);
  EXPECT_FALSE(db().in_transaction());
  // Unique reply_to: the question was answered in session `a` already.
  auto q = repo().store_user_message(user_msg(a.id, "q", "?"));
  repo().store_assistant_message(reply_msg(a.id, q.message.id, "ok"));
  EXPECT_EQ(error_code([&] {
              repo().store_assistant_message(reply_msg(b.id, q.message.id, "x"));
            }),
            storage_errc::constraint);
  // The repository keeps working after errors. (SOCI 4.0.3 on PostgreSQL
  // would resend reply_to from the failed insert instead of NULL here if the
  // failed statement were reused.)
  EXPECT_EQ(repo().count_messages(a.id), 2);
  EXPECT_FALSE(repo().store_user_message(user_msg(b.id, "q", "?")).duplicate);
}

TEST_P(chat_repo, column_lengths_are_enforced_on_every_backend) {
  auto session = repo().create_session(session_request());
  // VARCHAR(128) counts characters: 128 two-byte characters fit.
  std::string longest;
  for (int i = 0; i < 128; ++i)
    longest += "\xC3\xA9"; // U+00E9
  auto stored = repo().store_user_message(user_msg(session.id, longest, "x"));
  EXPECT_EQ(repo().messages_after_seq(session.id, -1).at(0).client_id, longest);
  EXPECT_EQ(error_code([&] {
              repo().store_user_message(user_msg(session.id, longest + "e", "x"));
            }),
            storage_errc::constraint);
  auto reply = reply_msg(session.id, stored.message.id, "x");
  reply.finish_reason = std::string(33, 'f');
  EXPECT_EQ(error_code([&] { repo().store_assistant_message(reply); }),
            storage_errc::constraint);
  EXPECT_EQ(error_code([&] {
              repo().create_session(session_request(std::string(256, 't')));
            }),
            storage_errc::constraint);
  EXPECT_EQ(repo().count_messages(session.id), 1);
}

TEST_P(chat_repo, add_event_defaults_payload) {
  auto session = repo().create_session(session_request());
  new_event event;
  event.session_id = session.id;
  event.event_type = "session_closed";
  repo().add_event(event);
  std::string payload;
  long long id = session.id;
  db().sql() << "SELECT payload FROM chat_events WHERE session_id = :s "
                "AND event_type = 'session_closed'",
    soci::use(id), soci::into(payload);
  EXPECT_EQ(payload, "{}");
}

TEST_P(chat_repo, group_of_calls_commits_together) {
  db().begin();
  auto session = repo().create_session(session_request());
  for (int i = 0; i < 100; ++i) {
    auto q = repo().store_user_message(
      user_msg(session.id, "c" + std::to_string(i), "q", 2 * i + 1));
    repo().store_assistant_message(
      reply_msg(session.id, q.message.id, "a", 2 * i + 2));
  }
  EXPECT_TRUE(db().in_transaction()); // create_session joined it
  db().commit();
  EXPECT_EQ(repo().count_messages(session.id), 200);
  EXPECT_EQ(repo().max_seq(session.id), 200);
  EXPECT_TRUE(repo().unanswered_messages(session.id).empty());
}

TEST_P(chat_repo, rollback_leaves_nothing) {
  db().begin();
  auto session = repo().create_session(session_request());
  auto q = repo().store_user_message(user_msg(session.id, "c", "q", 1));
  repo().store_assistant_message(reply_msg(session.id, q.message.id, "a", 2));
  db().rollback();
  EXPECT_FALSE(repo().find_session(session.id));
  EXPECT_EQ(repo().count_messages(session.id), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM chat_events WHERE session_id = :s",
                   session.id),
            0);
  // The same client id is free again.
  auto again = repo().create_session(session_request());
  EXPECT_FALSE(
    repo().store_user_message(user_msg(again.id, "c", "q", 1)).duplicate);
}

TEST_P(chat_repo, deleting_a_session_cascades) {
  auto session = repo().create_session(session_request());
  repo().store_user_message(user_msg(session.id, "c", "q", 1));
  long long id = session.id;
  db().sql() << "DELETE FROM chat_sessions WHERE id = :id", soci::use(id);
  EXPECT_EQ(repo().count_messages(session.id), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM chat_events WHERE session_id = :s",
                   session.id),
            0);
}

TEST_P(chat_repo, agent_state_and_status_commit_with_the_answer) {
  auto session = repo().create_session(session_request());
  auto question = repo().store_user_message(user_msg(session.id, "c1", "order?"));
  auto reply = reply_msg(session.id, question.message.id, "Which order?", 2);
  reply.agent_state = R"({"intent":"GET_ORDER_INFORMATION","pending_slot":"order_id"})";
  repo().store_assistant_message(reply);
  auto snap = repo().load_snapshot(session.id, 0, 10);
  EXPECT_EQ(snap.agent_state, reply.agent_state);
  EXPECT_EQ(snap.session.status, "active");
  // The newest state wins; a status change comes with it.
  auto next = repo().store_user_message(user_msg(session.id, "c2", "human"));
  auto handoff = reply_msg(session.id, next.message.id, "Connecting you", 4);
  handoff.agent_state = R"({"intent":"ESCALATE_TO_HUMAN"})";
  handoff.session_status = "handoff";
  repo().store_assistant_message(handoff);
  snap = repo().load_snapshot(session.id, 0, 10);
  EXPECT_EQ(snap.agent_state, handoff.agent_state);
  EXPECT_EQ(snap.session.status, "handoff");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM chat_events WHERE session_id = :s "
                   "AND event_type = 'handoff_started'",
                   session.id),
            1);
  // A repeated answer writes nothing, state included.
  handoff.agent_state = R"({"intent":"GREETING"})";
  handoff.session_status = "active";
  repo().store_assistant_message(handoff);
  snap = repo().load_snapshot(session.id, 0, 10);
  EXPECT_EQ(snap.agent_state, R"({"intent":"ESCALATE_TO_HUMAN"})");
  EXPECT_EQ(snap.session.status, "handoff");
}

TEST_P(chat_repo, an_overlong_status_is_refused_before_anything_is_written) {
  auto session = repo().create_session(session_request());
  auto question = repo().store_user_message(user_msg(session.id, "c1", "hi"));
  auto reply = reply_msg(session.id, question.message.id, "Hello", 2);
  reply.session_status = std::string(40, 'x'); // longer than the column
  EXPECT_EQ(error_code([&] { repo().store_assistant_message(reply); }),
            storage_errc::constraint);
  EXPECT_EQ(repo().count_messages(session.id), 1);
  EXPECT_EQ(repo().unanswered_messages(session.id).size(), 1u);
}

TEST_P(chat_repo, messages_to_a_human_wait_for_no_bot_answer) {
  auto session = repo().create_session(session_request());
  auto to_agent = user_msg(session.id, "c1", "are you there?");
  to_agent.message_type = "to_agent";
  repo().store_user_message(to_agent);
  repo().store_user_message(user_msg(session.id, "c2", "hello?"));
  EXPECT_EQ(contents(repo().unanswered_messages(session.id)),
            (std::vector<std::string>{"hello?"}));
}

TEST_P(chat_repo, agent_messages_carry_their_author) {
  auto session = repo().create_session(session_request());
  new_assistant_message agent;
  agent.session_id = session.id;
  agent.role = "agent";
  agent.source = "agent";
  agent.author = "Dana";
  agent.content = "Hi, Dana here.";
  agent.seq = 3;
  auto stored = repo().store_assistant_message(agent);
  EXPECT_EQ(stored.author, "Dana");
  EXPECT_EQ(stored.reply_to, 0);
  // A second one with no reply_to is not a duplicate.
  agent.content = "Anything else?";
  agent.seq = 4;
  auto second = repo().store_assistant_message(agent);
  EXPECT_NE(second.id, stored.id);
  auto replay = repo().messages_after_seq(session.id, 0);
  ASSERT_EQ(replay.size(), 2u);
  EXPECT_EQ(replay[0].author, "Dana");
  EXPECT_EQ(replay[0].role, "agent");
  EXPECT_EQ(replay[1].content, "Anything else?");
}

TEST_P(chat_repo, set_session_status_needs_a_session) {
  auto session = repo().create_session(session_request());
  repo().set_session_status(session.id, "handoff");
  EXPECT_EQ(repo().find_session(session.id)->status, "handoff");
  EXPECT_EQ(error_code([&] { repo().set_session_status(4242, "handoff"); }),
            storage_errc::not_found);
  EXPECT_EQ(repo().latest_event(session.id, "agent_state"), "");
}

TEST_P(chat_repo, every_stored_message_moves_the_sessions_updated_at) {
  auto session = repo().create_session(session_request());
  auto updated_at = [&] { return repo().find_session(session.id)->updated_at; };
  // Timestamps have microseconds; a pause makes each step visibly later.
  auto pause = [] { std::this_thread::sleep_for(std::chrono::milliseconds{2}); };
  pause();
  auto question = repo().store_user_message(user_msg(session.id, "c1", "hi"));
  EXPECT_GT(question.message.created_at, session.updated_at);
  EXPECT_EQ(updated_at(), question.message.created_at) << "user";
  pause();
  auto answer = repo().store_assistant_message(
    reply_msg(session.id, question.message.id, "Hello", 2));
  EXPECT_EQ(updated_at(), answer.created_at) << "assistant";
  pause();
  // While a human has the session: the customer's messages, the agent's.
  repo().set_session_status(session.id, "handoff");
  pause();
  auto to_agent = user_msg(session.id, "c2", "anyone?", 3);
  to_agent.message_type = "to_agent";
  auto waiting = repo().store_user_message(to_agent);
  EXPECT_EQ(updated_at(), waiting.message.created_at) << "to_agent";
  pause();
  new_assistant_message agent;
  agent.session_id = session.id;
  agent.role = "agent";
  agent.source = "agent";
  agent.author = "Dana";
  agent.content = "Dana here.";
  agent.seq = 4;
  auto dana = repo().store_assistant_message(agent);
  EXPECT_EQ(updated_at(), dana.created_at) << "agent";
  pause();
  auto notice = reply_msg(session.id, 0, "You're back with the bot.", 5);
  notice.source = "system";
  auto back = repo().store_assistant_message(notice);
  EXPECT_EQ(updated_at(), back.created_at) << "system";
  // A retried message stores nothing and moves nothing.
  auto before = updated_at();
  pause();
  EXPECT_TRUE(repo().store_user_message(user_msg(session.id, "c1", "hi"))
                .duplicate);
  EXPECT_EQ(updated_at(), before);
}

TEST_P(chat_repo, the_first_user_message_names_an_untitled_session) {
  auto untitled = repo().create_session(session_request(""));
  auto first = user_msg(untitled.id, "c1", "Where is my order?");
  first.session_title = "Where is my order?";
  repo().store_user_message(first);
  EXPECT_EQ(repo().find_session(untitled.id)->title, "Where is my order?");
  // Later messages leave it.
  auto second = user_msg(untitled.id, "c2", "It is 124");
  second.session_title = "It is 124";
  repo().store_user_message(second);
  EXPECT_EQ(repo().find_session(untitled.id)->title, "Where is my order?");
  // A session with a title keeps it.
  auto titled = repo().create_session(session_request("Billing"));
  auto message = user_msg(titled.id, "c1", "Hello");
  message.session_title = "Hello";
  repo().store_user_message(message);
  EXPECT_EQ(repo().find_session(titled.id)->title, "Billing");
}

TEST_P(chat_repo, a_customer_message_reopens_an_inactive_session) {
  auto session = repo().create_session(session_request());
  auto question = repo().store_user_message(user_msg(session.id, "c1", "hi"));
  repo().set_session_status(session.id, "inactive");
  // Answers and notices do not reopen it.
  repo().store_assistant_message(
    reply_msg(session.id, question.message.id, "Hello", 2));
  EXPECT_EQ(repo().find_session(session.id)->status, "inactive");
  repo().store_user_message(user_msg(session.id, "c2", "one more thing"));
  EXPECT_EQ(repo().find_session(session.id)->status, "active");
  // Nor does a customer's message change a handoff.
  repo().set_session_status(session.id, "handoff");
  auto to_agent = user_msg(session.id, "c3", "hello?");
  to_agent.message_type = "to_agent";
  repo().store_user_message(to_agent);
  EXPECT_EQ(repo().find_session(session.id)->status, "handoff");
}

TEST(utc_timestamp, has_fixed_format) {
  static const std::regex format{
    R"(20\d{2}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)"};
  auto now = utc_timestamp();
  EXPECT_TRUE(std::regex_match(now, format)) << now;
  EXPECT_LE(now, utc_timestamp()); // sorts as text
}

INSTANTIATE_TEST_SUITE_P(storage, chat_repo, testing::ValuesIn(all_targets()),
                         target_name);
