// End-to-end tests of resuming a session: after a dropped connection, after
// a server restart, and with credentials that must be refused.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/database_url.hpp"
#include "storage/chat_repository.hpp"
#include "storage/database.hpp"
#include "tests/e2e/db_probe.hpp"
#include "tests/e2e/e2e_fixture.hpp"

using namespace parley::test;
using json = nlohmann::json;

namespace {

class resume_e2e : public e2e_fixture {};

void expect_resumed(const json& frame, const session_info& session) {
  EXPECT_EQ(type_of(frame), "session") << frame;
  EXPECT_EQ(frame.value("session_id", std::int64_t{0}), session.session_id)
    << frame;
  EXPECT_EQ(frame.value("resumed", false), true) << frame;
  EXPECT_EQ(frame.value("status", ""), "active")
    << "no human was asked for: " << frame;
}

// A replayed frame carries the same values as the original.
void expect_same_frame(const json& replayed, const json& original,
                       std::initializer_list<const char*> keys) {
  for (const char* key : keys)
    EXPECT_EQ(replayed.value(key, json{}), original.value(key, json{}))
      << "field " << key << " differs; replayed: " << replayed
      << "; original: " << original;
}

// Frames up to and including the pong of a ping sent now.
std::vector<json> drain_to_pong(ws_client& client,
                                std::chrono::milliseconds timeout) {
  client.send_json({{"type", "ping"}});
  return client.read_until_type("pong", timeout);
}

TEST_F(resume_e2e, resume_delivers_the_reply_missed_while_disconnected) {
  start_server();
  ws_client first;
  auto session = open_session(first);
  first.send_json({{"type", "message"}, {"text", "hello"}, {"id", "r-1"}});
  auto before = first.read_until_type("ack", frame_timeout);
  const auto& ack = before.back();
  auto acked_seq = seq_of(ack);
  auto message_id = ack["message_id"].get<std::int64_t>();
  EXPECT_FALSE(ack.contains("text")) << "a live ack: the client knows its "
                                        "text: "
                                     << ack;
  first.close(); // before the reply could be read
  ws_client second;
  expect_resumed(resume_session(second, session, acked_seq), session);
  auto frames = second.read_until_type("message", frame_timeout);
  for (const auto& frame : frames) {
    auto type = type_of(frame);
    if (type == "ack" || type == "message") {
      EXPECT_GT(seq_of(frame), acked_seq)
        << "only frames after last_seq are replayed:\n"
        << dump(frames);
    }
  }
  const auto& reply = frames.back();
  EXPECT_EQ(reply["reply_to"], message_id) << dump(frames);
  EXPECT_EQ(reply["role"], "assistant") << reply;
  auto rest = drain_to_pong(second, frame_timeout);
  for (const auto& frame : rest)
    EXPECT_NE(type_of(frame), "message") << "the reply came twice:\n"
                                         << dump(rest);
  // The resumed session goes on as before.
  auto next = send_message(second, "thanks", "r-2");
  EXPECT_GT(seq_of(next.ack), seq_of(reply));
  second.close();
  // A client that saw nothing gets everything again, with the seqs it would
  // have seen the first time.
  ws_client third;
  expect_resumed(resume_session(third, session, 0), session);
  auto replay = drain_to_pong(third, frame_timeout);
  std::vector<json> stored;
  for (const auto& frame : replay) {
    auto type = type_of(frame);
    if (type == "ack" || type == "message")
      stored.push_back(frame);
    else
      EXPECT_EQ(type, "pong") << "typing, pong and error frames are not "
                                 "replayed:\n"
                              << dump(replay);
  }
  ASSERT_EQ(stored.size(), 4u) << "two acks and two replies:\n"
                               << dump(replay);
  expect_same_frame(stored[0], ack, {"type", "seq", "id", "message_id"});
  expect_same_frame(stored[1], reply,
                    {"type", "seq", "id", "reply_to", "role", "text"});
  expect_same_frame(stored[2], next.ack, {"type", "seq", "id", "message_id"});
  expect_same_frame(stored[3], next.reply,
                    {"type", "seq", "id", "reply_to", "role", "text"});
  // Replayed acks carry the user's text and its time: the transcript can
  // be rebuilt from the server alone.
  EXPECT_EQ(stored[0].value("text", json{}), "hello") << stored[0];
  EXPECT_EQ(stored[2].value("text", json{}), "thanks") << stored[2];
  for (const auto* replayed_ack : {&stored[0], &stored[2]}) {
    auto created = replayed_ack->value("created_at", std::string{});
    EXPECT_EQ(created.size(), 27u) << *replayed_ack;
    EXPECT_EQ(created.back(), 'Z') << *replayed_ack;
  }
  EXPECT_LE(stored[0].value("created_at", std::string{}),
            stored[2].value("created_at", std::string{}));
  EXPECT_FALSE(next.ack.contains("text")) << next.ack;
}

TEST_F(resume_e2e, unanswered_message_is_answered_after_a_restart) {
  start_server();
  session_info session;
  exchange before;
  {
    ws_client client;
    session = open_session(client);
    before = send_message(client, "hello", "before-restart");
    client.close();
  }
  stop_server();
  auto last_seen = seq_of(before.reply);
  // As if the server had crashed right after committing (and acknowledging)
  // a message: a user row with a seq and no reply.
  std::int64_t message_id = 0;
  {
    parley::database_url url;
    url.backend = parley::db_backend::sqlite;
    url.path = db_path();
    parley::storage::database db{url};
    parley::storage::chat_repository repo{db};
    EXPECT_EQ(repo.max_seq(session.session_id), last_seen)
      << "the reply was the last frame stored";
    parley::storage::new_user_message msg;
    msg.session_id = session.session_id;
    msg.client_id = "offline-1";
    msg.content = "thank you";
    msg.seq = last_seen + 1;
    auto stored = repo.store_user_message(msg);
    ASSERT_FALSE(stored.duplicate);
    message_id = stored.message.id;
  }
  start_server();
  ws_client client;
  expect_resumed(resume_session(client, session, last_seen), session);
  auto frames = client.read_until_type("message", frame_timeout);
  std::vector<json> acks;
  for (const auto& frame : frames)
    if (type_of(frame) == "ack")
      acks.push_back(frame);
  ASSERT_EQ(acks.size(), 1u) << "the stored message's ack (seq "
                             << last_seen + 1 << ") is replayed:\n"
                             << dump(frames);
  EXPECT_EQ(acks[0]["message_id"], message_id) << dump(frames);
  EXPECT_EQ(acks[0]["id"], "offline-1") << dump(frames);
  EXPECT_EQ(acks[0]["text"], "thank you") << dump(frames);
  EXPECT_EQ(seq_of(acks[0]), last_seen + 1) << dump(frames);
  const auto& reply = frames.back();
  EXPECT_EQ(reply["reply_to"], message_id) << dump(frames);
  EXPECT_GT(seq_of(reply), last_seen + 1) << dump(frames);
  auto rest = drain_to_pong(client, frame_timeout);
  for (const auto& frame : rest)
    EXPECT_NE(type_of(frame), "message") << "a second reply:\n" << dump(rest);
  // The duplicate check survives the restart: it is in the database.
  client.send_json(
    {{"type", "message"}, {"text", "hello"}, {"id", "before-restart"}});
  auto again = client.read_until_type("message", frame_timeout);
  bool acked_again = false;
  for (const auto& frame : again)
    if (type_of(frame) == "ack") {
      acked_again = true;
      EXPECT_EQ(frame["message_id"], before.ack["message_id"]) << dump(again);
    }
  EXPECT_TRUE(acked_again) << dump(again);
  EXPECT_EQ(again.back()["id"], before.reply["id"]) << dump(again);
  EXPECT_EQ(again.back()["text"], before.reply["text"]) << dump(again);
  client.close();
  stop_server();
  db_probe db{db_path()};
  EXPECT_EQ(db.replies_to(message_id), 1);
  EXPECT_EQ(db.user_rows_with_client_id(session.session_id, "offline-1"), 1);
  EXPECT_EQ(db.user_rows_with_client_id(session.session_id, "before-restart"),
            1);
  EXPECT_EQ(db.replies_to(before.ack["message_id"].get<std::int64_t>()), 1);
  EXPECT_EQ(db.user_rows_in_session(session.session_id), 2);
}

TEST_F(resume_e2e, wrong_token_or_unknown_session_is_refused) {
  start_server();
  ws_client a;
  auto session_a = open_session(a);
  send_message(a, "hello", "secret-a");
  ws_client b;
  auto session_b = open_session(b);
  a.close();
  b.close();
  struct attempt {
    std::string name;
    std::string target;
  };
  std::vector<attempt> attempts{
    {"wrong token", resume_target(session_a.session_id, "not-the-token", 0)},
    {"another session's token",
     resume_target(session_a.session_id, session_b.resume_token, 0)},
    {"unknown session",
     resume_target(session_a.session_id + session_b.session_id + 1000,
                   session_a.resume_token, 0)},
  };
  for (const auto& bad : attempts) {
    SCOPED_TRACE(bad.name + ": " + bad.target);
    ws_client client;
    client.connect(host(), port(), bad.target);
    std::vector<json> frames;
    auto end = client.wait_closed(frame_timeout, &frames);
    ASSERT_FALSE(frames.empty()) << "no error frame before the close; "
                                 << end.describe();
    EXPECT_EQ(frames.size(), 1u) << "only the error frame:\n" << dump(frames);
    const auto& error = frames.front();
    EXPECT_EQ(type_of(error), "error") << error;
    EXPECT_EQ(error.value("code", ""), "invalid_resume") << error;
    EXPECT_EQ(error.value("seq", std::int64_t{-1}), 0) << error;
    EXPECT_FALSE(error.contains("session_id")) << error;
    EXPECT_FALSE(error.contains("resume_token")) << error;
    EXPECT_EQ(end.status, read_status::closed) << end.describe();
    EXPECT_EQ(end.close_code, 1008) << end.describe();
  }
}

} // namespace
