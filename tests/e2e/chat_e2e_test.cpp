// End-to-end tests of the chat protocol: the real server binary, a real
// WebSocket client, the real SQLite file.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/db_probe.hpp"
#include "tests/e2e/e2e_fixture.hpp"

using namespace parley::test;
using json = nlohmann::json;

namespace {

class chat_e2e : public e2e_fixture {};

bool is_nonempty_string(const json& frame, const char* key) {
  return frame.contains(key) && frame[key].is_string()
         && !frame[key].get<std::string>().empty();
}

TEST_F(chat_e2e, round_trip_orders_session_ack_typing_message) {
  start_server();
  ws_client client;
  client.connect(host(), port(), "/ws");
  auto greeting = client.read_json(frame_timeout);
  ASSERT_EQ(type_of(greeting), "session") << greeting;
  EXPECT_EQ(greeting.value("status", ""), "active")
    << "a new session is the bot's: " << greeting;
  session_info session;
  session.session_id = greeting.value("session_id", std::int64_t{0});
  session.seq = seq_of(greeting);
  client.send_json({{"type", "message"}, {"text", "hello"}, {"id", "c-1"}});
  auto frames = client.read_until_type("message", frame_timeout);
  ASSERT_EQ(frames.size(), 3u) << "expected ack, typing, message:\n"
                               << dump(frames);
  const auto& ack = frames[0];
  const auto& typing = frames[1];
  const auto& reply = frames[2];
  EXPECT_EQ(type_of(ack), "ack") << ack;
  EXPECT_EQ(type_of(typing), "typing") << typing;
  EXPECT_LT(session.seq, seq_of(ack));
  EXPECT_LT(seq_of(ack), seq_of(typing));
  EXPECT_LT(seq_of(typing), seq_of(reply));
  EXPECT_EQ(ack["id"], "c-1") << ack;
  ASSERT_TRUE(ack.contains("message_id") && ack["message_id"].is_number_integer())
    << ack;
  auto message_id = ack["message_id"].get<std::int64_t>();
  EXPECT_EQ(typing["reply_to"], message_id)
    << "typing names the message being answered: " << typing;
  EXPECT_EQ(reply["reply_to"], message_id) << reply;
  EXPECT_FALSE(reply.contains("handoff")) << reply;
  ASSERT_TRUE(reply.contains("id") && reply["id"].is_number_integer()) << reply;
  auto reply_id = reply["id"].get<std::int64_t>();
  EXPECT_NE(reply_id, message_id);
  EXPECT_EQ(reply["role"], "assistant") << reply;
  EXPECT_TRUE(is_nonempty_string(reply, "text")) << reply;
  EXPECT_EQ(reply["source"], "fallback") << reply;
  EXPECT_TRUE(reply.contains("tokens_used")
              && reply["tokens_used"].is_number_integer()
              && reply["tokens_used"].get<std::int64_t>() >= 0)
    << reply;
  EXPECT_TRUE(reply.contains("response_time")
              && reply["response_time"].is_number()
              && reply["response_time"].get<double>() >= 0)
    << reply;
  EXPECT_TRUE(is_nonempty_string(reply, "created_at")) << reply;
  client.close();
  stop_server();
  db_probe db{db_path()};
  auto user_row = db.message(message_id);
  ASSERT_TRUE(user_row.has_value()) << "no row for message_id " << message_id;
  EXPECT_TRUE(user_row->is_user);
  EXPECT_EQ(user_row->role, "user");
  EXPECT_EQ(user_row->content, "hello");
  EXPECT_EQ(user_row->client_id, "c-1");
  EXPECT_EQ(user_row->session_id, session.session_id);
  EXPECT_EQ(user_row->seq, seq_of(ack));
  auto reply_row = db.message(reply_id);
  ASSERT_TRUE(reply_row.has_value()) << "no row for reply id " << reply_id;
  EXPECT_FALSE(reply_row->is_user);
  EXPECT_EQ(reply_row->role, "assistant");
  EXPECT_EQ(reply_row->content, reply["text"].get<std::string>());
  EXPECT_EQ(reply_row->reply_to, message_id);
  EXPECT_EQ(reply_row->source, "fallback");
  EXPECT_EQ(reply_row->seq, seq_of(reply));
  EXPECT_EQ(db.replies_to(message_id), 1);
  EXPECT_EQ(db.events(session.session_id, "session_started"), 1);
}

TEST_F(chat_e2e, plain_text_frame_is_a_message) {
  start_server();
  ws_client client;
  open_session(client);
  for (std::string text : {"hi there", "[1, 2, 3]", "thank you"}) {
    SCOPED_TRACE("plain text frame: " + text);
    client.send_text(text);
    auto frames = client.read_until_type("message", frame_timeout);
    ASSERT_GE(frames.size(), 2u) << dump(frames);
    EXPECT_EQ(type_of(frames[0]), "ack") << dump(frames);
    EXPECT_TRUE(frames[0].contains("id") && frames[0]["id"].is_null())
      << "an ack of a message without client id has \"id\":null: "
      << frames[0];
    EXPECT_EQ(frames.back()["reply_to"], frames[0]["message_id"])
      << dump(frames);
    EXPECT_TRUE(is_nonempty_string(frames.back(), "text")) << dump(frames);
  }
}

TEST_F(chat_e2e, messages_sent_back_to_back_are_answered_in_order) {
  start_server();
  ws_client client;
  auto session = open_session(client);
  constexpr int count = 5;
  const char* texts[] = {"hello", "Where is my order?", "thanks", "hi",
                         "How do I change my password?"};
  for (int i = 0; i < count; ++i)
    client.send_json({{"type", "message"},
                      {"text", texts[i]},
                      {"id", "fifo-" + std::to_string(i)}});
  std::vector<json> frames;
  std::vector<std::string> ack_ids;
  std::vector<std::int64_t> ack_message_ids;
  std::vector<std::int64_t> reply_to;
  auto last_seq = session.seq;
  auto deadline = std::chrono::steady_clock::now() + frame_timeout * 2;
  while (reply_to.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto frame = client.read_json(frame_timeout);
    frames.push_back(frame);
    auto seq = seq_of(frame);
    EXPECT_GT(seq, last_seq) << "seqs must increase:\n" << dump(frames);
    last_seq = seq;
    auto type = type_of(frame);
    if (type == "ack") {
      ack_ids.push_back(frame["id"].get<std::string>());
      ack_message_ids.push_back(frame["message_id"].get<std::int64_t>());
    } else if (type == "message") {
      auto answered = frame["reply_to"].get<std::int64_t>();
      // FIFO: the reply answers a message whose ack came already.
      EXPECT_GT(ack_message_ids.size(), reply_to.size()) << dump(frames);
      reply_to.push_back(answered);
    } else {
      EXPECT_EQ(type, "typing") << dump(frames);
    }
  }
  ASSERT_EQ(reply_to.size(), std::size_t{count}) << dump(frames);
  std::vector<std::string> expected_ids;
  for (int i = 0; i < count; ++i)
    expected_ids.push_back("fifo-" + std::to_string(i));
  EXPECT_EQ(ack_ids, expected_ids) << dump(frames);
  EXPECT_EQ(reply_to, ack_message_ids)
    << "replies must answer the messages in the order they were sent:\n"
    << dump(frames);
  EXPECT_TRUE(std::is_sorted(ack_message_ids.begin(), ack_message_ids.end()))
    << dump(frames);
  // No sixth reply, no second ack: nothing but (maybe) typing up to the pong.
  auto rest = ping_barrier(client);
  for (const auto& frame : rest)
    EXPECT_TRUE(type_of(frame) == "pong" || type_of(frame) == "typing")
      << "after all replies:\n"
      << dump(rest);
}

TEST_F(chat_e2e, same_client_id_is_processed_once) {
  start_server();
  ws_client client;
  auto session = open_session(client);
  // Sequential duplicate: the original ack and reply are sent again.
  auto first = send_message(client, "hello", "dup-1");
  auto message_id = first.ack["message_id"].get<std::int64_t>();
  client.send_json({{"type", "message"}, {"text", "hello"}, {"id", "dup-1"}});
  auto again = client.read_until_type("message", frame_timeout);
  std::vector<json> acks;
  for (const auto& frame : again)
    if (type_of(frame) == "ack")
      acks.push_back(frame);
  ASSERT_EQ(acks.size(), 1u) << dump(again);
  EXPECT_EQ(acks[0]["message_id"], message_id) << dump(again);
  EXPECT_EQ(acks[0]["id"], "dup-1") << dump(again);
  EXPECT_EQ(again.back()["id"], first.reply["id"]) << dump(again);
  EXPECT_EQ(again.back()["text"], first.reply["text"]) << dump(again);
  EXPECT_EQ(again.back()["reply_to"], message_id) << dump(again);
  auto rest = ping_barrier(client);
  for (const auto& frame : rest)
    EXPECT_TRUE(type_of(frame) == "pong" || type_of(frame) == "typing")
      << dump(rest);
  // Back-to-back duplicate: the second copy may arrive before the reply is
  // stored; still one stored message, one stored reply, one message_id.
  json dup2{{"type", "message"}, {"text", "thanks"}, {"id", "dup-2"}};
  client.send_json(dup2);
  client.send_json(dup2);
  std::vector<json> frames;
  std::set<std::int64_t> dup2_ids;
  std::size_t dup2_acks = 0;
  std::size_t dup2_replies = 0;
  auto deadline = std::chrono::steady_clock::now() + frame_timeout;
  while ((dup2_acks < 2 || dup2_replies < 1)
         && std::chrono::steady_clock::now() < deadline) {
    auto frame = client.read_json(frame_timeout);
    frames.push_back(frame);
    if (type_of(frame) == "ack") {
      ++dup2_acks;
      EXPECT_EQ(frame["id"], "dup-2") << dump(frames);
      dup2_ids.insert(frame["message_id"].get<std::int64_t>());
    } else if (type_of(frame) == "message") {
      ++dup2_replies;
    }
  }
  ASSERT_EQ(dup2_acks, 2u) << "each copy is acknowledged:\n" << dump(frames);
  ASSERT_EQ(dup2_ids.size(), 1u) << dump(frames);
  auto message_id2 = *dup2_ids.begin();
  auto tail = ping_barrier(client);
  frames.insert(frames.end(), tail.begin(), tail.end());
  std::set<std::string> reply_texts;
  std::set<std::int64_t> reply_ids;
  for (const auto& frame : frames) {
    if (type_of(frame) != "message")
      continue;
    EXPECT_EQ(frame["reply_to"], message_id2) << dump(frames);
    reply_ids.insert(frame["id"].get<std::int64_t>());
    reply_texts.insert(frame["text"].get<std::string>());
  }
  EXPECT_EQ(reply_ids.size(), 1u) << "one reply, maybe sent twice:\n"
                                  << dump(frames);
  EXPECT_EQ(reply_texts.size(), 1u) << dump(frames);
  client.close();
  stop_server();
  db_probe db{db_path()};
  EXPECT_EQ(db.user_rows_with_client_id(session.session_id, "dup-1"), 1);
  EXPECT_EQ(db.replies_to(message_id), 1);
  EXPECT_EQ(db.user_rows_with_client_id(session.session_id, "dup-2"), 1);
  EXPECT_EQ(db.replies_to(message_id2), 1);
  EXPECT_EQ(db.user_rows_in_session(session.session_id), 2);
}

TEST_F(chat_e2e, ping_gets_pong) {
  start_server();
  ws_client client;
  auto session = open_session(client);
  auto last = session.seq;
  for (int i = 0; i < 2; ++i) {
    client.send_json({{"type", "ping"}});
    auto pong = client.read_json(frame_timeout);
    EXPECT_EQ(type_of(pong), "pong") << pong;
    EXPECT_GT(seq_of(pong), last) << pong;
    last = seq_of(pong);
  }
}

struct bad_input {
  std::string name;
  std::string payload;
  bool binary;
  std::string code;
  std::string client_id = {}; // the error names the refused message
};

TEST_F(chat_e2e, bad_input_gets_an_error_and_the_connection_stays_usable) {
  start_server();
  ws_client client;
  auto session = open_session(client);
  std::vector<bad_input> cases{
    {"text is a number", R"({"type":"message","text":42})", false,
     "invalid_frame"},
    {"text is null", R"({"type":"message","text":null})", false,
     "invalid_frame"},
    {"text is missing", R"({"type":"message"})", false, "invalid_frame"},
    {"id is an object", R"({"type":"message","text":"hi","id":{"a":1}})",
     false, "invalid_frame"},
    {"id is an array", R"({"type":"message","text":"hi","id":[1]})", false,
     "invalid_frame"},
    {"id is too long",
     json{{"type", "message"}, {"text", "hi"}, {"id", std::string(129, 'x')}}
       .dump(),
     false, "invalid_frame"},
    {"type is missing", R"({"text":"hi"})", false, "invalid_frame"},
    {"type is a number", R"({"type":7,"text":"hi"})", false, "invalid_frame"},
    {"type is unknown", R"({"type":"dance"})", false, "unknown_type"},
    {"text is empty", R"({"type":"message","text":""})", false,
     "empty_message"},
    {"text is whitespace", "{\"type\":\"message\",\"text\":\" \\t\\n \"}",
     false, "empty_message"},
    {"plain text frame of spaces", "   ", false, "empty_message"},
    {"empty text frame", "", false, "empty_message"},
    {"text is 16 KiB + 1",
     json{{"type", "message"}, {"text", std::string(16 * 1024 + 1, 'a')}}
       .dump(),
     false, "message_too_long"},
    {"binary frame", "hello", true, "binary_not_supported"},
    {"text is a number, with an id",
     R"({"type":"message","text":42,"id":"bad-1"})", false, "invalid_frame",
     "bad-1"},
    {"text is missing, with an id", R"({"type":"message","id":"bad-2"})",
     false, "invalid_frame", "bad-2"},
    {"text is empty, with an id", R"({"type":"message","text":"","id":"bad-3"})",
     false, "empty_message", "bad-3"},
    {"text is too long, with an integer id",
     json{{"type", "message"}, {"text", std::string(16 * 1024 + 1, 'a')},
          {"id", 44}}
       .dump(),
     false, "message_too_long", "44"},
  };
  auto last = session.seq;
  for (const auto& bad : cases) {
    SCOPED_TRACE(bad.name);
    if (bad.binary)
      client.send_binary(bad.payload);
    else
      client.send_text(bad.payload);
    auto frame = client.read_json(frame_timeout);
    EXPECT_EQ(type_of(frame), "error") << frame;
    EXPECT_EQ(frame.value("code", ""), bad.code) << frame;
    EXPECT_TRUE(is_nonempty_string(frame, "message")) << frame;
    if (bad.client_id.empty())
      EXPECT_FALSE(frame.contains("client_id")) << frame;
    else
      EXPECT_EQ(frame.value("client_id", ""), bad.client_id) << frame;
    EXPECT_GT(seq_of(frame), last) << frame;
    last = seq_of(frame);
    // Still usable, and the bad frame was not taken as a message.
    auto rest = ping_barrier(client);
    EXPECT_EQ(rest.size(), 1u) << "expected only the pong:\n" << dump(rest);
    last = seq_of(rest.back());
  }
  // The limit is "over 16 KiB": exactly 16 KiB is a message.
  auto at_limit = send_message(client, std::string(16 * 1024, 'b'), "limit");
  EXPECT_EQ(at_limit.ack["id"], "limit");
  auto normal = send_message(client, "hello", "after-errors");
  EXPECT_GT(seq_of(normal.ack), last);
  client.close();
  stop_server();
  db_probe db{db_path()};
  EXPECT_EQ(db.user_rows_in_session(session.session_id), 2)
    << "only the two valid messages are stored";
}

TEST_F(chat_e2e, max_message_bytes_flag_sets_the_limit) {
  start_server({"--max-message-bytes", "64"});
  ws_client client;
  open_session(client);
  client.send_json({{"type", "message"}, {"text", std::string(65, 'a')}});
  auto frame = client.read_json(frame_timeout);
  EXPECT_EQ(frame.value("code", ""), "message_too_long") << frame;
  client.send_text(std::string(65, 'p'));
  frame = client.read_json(frame_timeout);
  EXPECT_EQ(frame.value("code", ""), "message_too_long") << frame;
  auto ok = send_message(client, std::string(64, 'a'), "at-limit");
  EXPECT_EQ(ok.ack["id"], "at-limit");
}

TEST_F(chat_e2e, invalid_utf8_fails_the_connection_with_1007) {
  start_server();
  ws_client client;
  open_session(client);
  client.send_text("caf\xC3\x28 \xFF\xFE broken");
  std::vector<json> frames;
  auto end = client.wait_closed(frame_timeout, &frames);
  EXPECT_EQ(end.status, read_status::closed) << end.describe();
  EXPECT_EQ(end.close_code, 1007) << end.describe() << "\nframes before:\n"
                                  << dump(frames);
  // Only that connection failed.
  ws_client other;
  open_session(other);
  ping_barrier(other);
}

TEST_F(chat_e2e, health_and_not_found) {
  start_server();
  auto health = http_get(host(), port(), "/health");
  EXPECT_EQ(health.status, 200u) << health.body;
  EXPECT_NE(health.header("Content-Type").find("application/json"),
            std::string::npos)
    << health.header("Content-Type");
  auto body = json::parse(health.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << health.body;
  EXPECT_EQ(body.value("status", ""), "healthy") << health.body;
  EXPECT_EQ(body.value("database", ""), "connected") << health.body;
  EXPECT_TRUE(is_nonempty_string(body, "timestamp")) << health.body;
  auto missing = http_get(host(), port(), "/no/such/path");
  EXPECT_EQ(missing.status, 404u) << missing.body;
  auto error = json::parse(missing.body, nullptr, false);
  ASSERT_TRUE(error.is_object()) << missing.body;
  EXPECT_EQ(error.value("success", true), false) << missing.body;
  EXPECT_TRUE(is_nonempty_string(error, "error")) << missing.body;
}

} // namespace
