// REST contract: POST /api/chat/send and POST /api/messages, and
// GET /api/llm/health, on every test backend.

#include <string>

#include <gtest/gtest.h>

#include "tests/e2e/rest_fixture.hpp"
#include "tests/support/ws_client.hpp"

using namespace parley::test;
using json = nlohmann::json;

namespace {

class rest_chat : public rest_fixture {
protected:
  static constexpr std::chrono::milliseconds frame_timeout{10000};

  /// Checks data of a 201 from chat/send; returns data.message.
  static ::testing::AssertionResult is_send_result(const json& data) {
    auto fail = [&](const std::string& why) {
      return ::testing::AssertionFailure() << why << " in " << data.dump();
    };
    if (!data.is_object())
      return fail("data is not an object");
    for (const char* key : {"session_id", "user_id"})
      if (!data.contains(key) || !data[key].is_number_integer()
          || data[key].get<std::int64_t>() <= 0)
        return fail(std::string{"data."} + key + " is not a positive integer");
    if (!data.contains("advanced_ai_enabled")
        || !data["advanced_ai_enabled"].is_boolean())
      return fail("data.advanced_ai_enabled is not a boolean");
    if (!data.contains("message") || !data["message"].is_object())
      return fail("data.message is not an object");
    const auto& m = data["message"];
    for (const char* key : {"id", "session_id", "user_id", "response_id"})
      if (!m.contains(key) || !m[key].is_number_integer()
          || m[key].get<std::int64_t>() <= 0)
        return fail(std::string{"message."} + key
                    + " is not a positive integer");
    if (m["id"] == m["response_id"])
      return fail("message.id equals message.response_id");
    if (m["session_id"] != data["session_id"])
      return fail("message.session_id differs from data.session_id");
    if (m["user_id"] != data["user_id"])
      return fail("message.user_id differs from data.user_id");
    for (const char* key : {"message", "response", "message_type", "source",
                            "created_at"})
      if (!m.contains(key) || !m[key].is_string()
          || m[key].get<std::string>().empty())
        return fail(std::string{"message."} + key
                    + " is not a non-empty string");
    if (!m.contains("tokens_used") || !m["tokens_used"].is_number_integer()
        || m["tokens_used"].get<std::int64_t>() < 0)
      return fail("message.tokens_used is not an integer >= 0");
    if (!m.contains("response_time") || !m["response_time"].is_number()
        || m["response_time"].get<double>() < 0)
      return fail("message.response_time is not a number >= 0");
    if (m["source"] != "fallback")
      return fail("message.source is not \"fallback\"");
    return ::testing::AssertionSuccess();
  }

  /// data.resume_token is a non-empty string.
  static bool has_token(const json& data) {
    return data.contains("resume_token") && data["resume_token"].is_string()
           && !data["resume_token"].get<std::string>().empty();
  }
};

PARLEY_REST_SUITE(rest_chat);

TEST_P(rest_chat, send_creates_user_session_and_two_rows) {
  auto token = unique("new");
  auto email = token + "@example.com";
  auto reply = api().post("/api/chat/send",
                          {{"message", "Hello, how can you help me?"},
                           {"user_email", email}});
  ASSERT_TRUE(is_success(reply, 201));
  const auto& data = reply.data();
  ASSERT_TRUE(is_send_result(data)) << reply.describe();
  const auto& m = data["message"];
  EXPECT_EQ(m["message"], "Hello, how can you help me?");
  EXPECT_EQ(m["message_type"], "text");
  EXPECT_TRUE(has_token(data)) << "a new session comes with its resume_token: "
                               << reply.describe();

  // The user was created, named after the email's local part.
  auto user = api().get("/api/users/" + data["user_id"].dump());
  ASSERT_TRUE(is_success(user, 200));
  EXPECT_EQ(user.data()["email"], email) << user.describe();
  EXPECT_EQ(user.data()["name"], token) << user.describe();

  // The session exists and belongs to the user.
  auto session = api().get("/api/sessions/" + data["session_id"].dump());
  ASSERT_TRUE(is_success(session, 200));
  ASSERT_TRUE(is_session_object(session.data())) << session.describe();
  EXPECT_EQ(session.data()["user_id"], data["user_id"]) << session.describe();
  EXPECT_EQ(session.data()["message_count"], 2) << session.describe();

  // Two rows: the user's message and the answer.
  auto rows = api().get("/api/messages?session_id=" + data["session_id"].dump());
  ASSERT_TRUE(is_success(rows, 200));
  ASSERT_EQ(rows.data().size(), 2u) << rows.describe();
  const auto& user_row = rows.data()[0];
  const auto& answer_row = rows.data()[1];
  EXPECT_EQ(user_row["id"], m["id"]);
  EXPECT_EQ(user_row["is_user"], true);
  EXPECT_EQ(user_row["message"], m["message"]);
  EXPECT_EQ(user_row["user_id"], data["user_id"]);
  EXPECT_EQ(answer_row["id"], m["response_id"]);
  EXPECT_EQ(answer_row["is_user"], false);
  EXPECT_EQ(answer_row["role"], "assistant");
  EXPECT_EQ(answer_row["message"], m["response"]);
  EXPECT_EQ(answer_row["reply_to"], m["id"]);
  EXPECT_EQ(answer_row["source"], "fallback");
  EXPECT_EQ(answer_row["tokens_used"], m["tokens_used"]);
}

TEST_P(rest_chat, send_into_an_existing_session_reuses_user_and_session) {
  auto email = unique_email("again");
  auto first = chat_send({{"message", "hello"},
                          {"user_email", email},
                          {"user_name", "Given Name"}});
  ASSERT_TRUE(is_send_result(first));
  auto user = api().get("/api/users/" + first["user_id"].dump());
  ASSERT_TRUE(is_success(user, 200));
  EXPECT_EQ(user.data()["name"], "Given Name") << user.describe();

  auto reply = api().post("/api/chat/send",
                          {{"message", "second"},
                           {"user_email", email},
                           {"user_name", "Another Name"},
                           {"session_id", first["session_id"]},
                           {"resume_token", first["resume_token"]}});
  ASSERT_TRUE(is_success(reply, 201));
  const auto& second = reply.data();
  ASSERT_TRUE(is_send_result(second)) << reply.describe();
  EXPECT_EQ(second["session_id"], first["session_id"]);
  EXPECT_EQ(second["user_id"], first["user_id"]);
  EXPECT_FALSE(second.contains("resume_token"))
    << "no token when the session already existed: " << reply.describe();
  EXPECT_GT(second["message"]["id"].get<std::int64_t>(),
            first["message"]["response_id"].get<std::int64_t>());
  // An existing user keeps its name.
  auto after = api().get("/api/users/" + first["user_id"].dump());
  ASSERT_TRUE(is_success(after, 200));
  EXPECT_EQ(after.data()["name"], "Given Name") << after.describe();

  // Without session_id, the same user gets a new session.
  auto third = chat_send({{"message", "new topic"}, {"user_email", email}});
  EXPECT_NE(third["session_id"], first["session_id"]);
  EXPECT_EQ(third["user_id"], first["user_id"]);
  EXPECT_TRUE(has_token(third)) << third;
}

TEST_P(rest_chat, post_api_messages_is_the_same_endpoint) {
  auto email = unique_email("alias");
  auto reply = api().post("/api/messages",
                          {{"message", "via the alias"}, {"user_email", email}});
  ASSERT_TRUE(is_success(reply, 201));
  ASSERT_TRUE(is_send_result(reply.data())) << reply.describe();
  EXPECT_TRUE(has_token(reply.data())) << reply.describe();
  auto rows = api().get("/api/messages?session_id="
                        + reply.data()["session_id"].dump());
  ASSERT_TRUE(is_success(rows, 200));
  EXPECT_EQ(rows.data().size(), 2u) << rows.describe();
  // Errors are the same too.
  EXPECT_TRUE(is_error(api().post("/api/messages", {{"user_email", email}}), 400));
}

TEST_P(rest_chat, advanced_ai_enabled_follows_the_setting) {
  auto email = unique_email("adv");
  auto original = api().get("/api/settings/enable_advanced_ai");
  ASSERT_TRUE(is_success(original, 200));
  auto restore = original.data()["value"];
  for (const char* value : {"false", "true"}) {
    SCOPED_TRACE(std::string{"enable_advanced_ai="} + value);
    ASSERT_TRUE(is_success(
      api().put("/api/settings/enable_advanced_ai", {{"value", value}}), 200));
    auto data = chat_send({{"message", "hi"}, {"user_email", email}});
    EXPECT_EQ(data["advanced_ai_enabled"], std::string{value} == "true")
      << data;
  }
  EXPECT_TRUE(is_success(
    api().put("/api/settings/enable_advanced_ai", {{"value", restore}}), 200));
}

TEST_P(rest_chat, a_retry_with_the_same_client_id_is_stored_once) {
  auto email = unique_email("retry");
  auto opened = chat_send({{"message", "open"}, {"user_email", email}});
  auto sid = opened["session_id"];
  auto cid = "retry-" + unique();
  json body{{"message", "Where is my order?"},
            {"user_email", email},
            {"session_id", sid},
            {"resume_token", opened["resume_token"]},
            {"client_id", cid}};
  auto first = api().post("/api/chat/send", body);
  ASSERT_TRUE(is_success(first, 201));
  auto retry = api().post("/api/chat/send", body);
  ASSERT_TRUE(is_success(retry, 201)) << "a retry is answered like the first";
  const auto& a = first.data()["message"];
  const auto& b = retry.data()["message"];
  EXPECT_EQ(b["id"], a["id"]) << retry.describe();
  EXPECT_EQ(b["response_id"], a["response_id"]) << retry.describe();
  EXPECT_EQ(b["response"], a["response"]) << retry.describe();
  EXPECT_EQ(b["created_at"], a["created_at"]) << retry.describe();

  auto rows = api().get("/api/messages?session_id=" + sid.dump());
  ASSERT_TRUE(is_success(rows, 200));
  EXPECT_TRUE(has_pagination(rows, 1, 50, 4, 1))
    << "open + answer, the message + answer, nothing twice";
  int with_cid = 0;
  for (const auto& m : rows.data())
    with_cid += m["client_id"] == cid;
  EXPECT_EQ(with_cid, 1) << rows.describe();

  // The same client_id in another session is another message.
  auto elsewhere = chat_send({{"message", "Where is my order?"},
                              {"user_email", email},
                              {"client_id", cid}});
  EXPECT_NE(elsewhere["session_id"], sid);
  EXPECT_NE(elsewhere["message"]["id"], a["id"]);
}

TEST_P(rest_chat, message_size_limit_is_16_kib) {
  auto email = unique_email("big");
  auto at_limit = api().post("/api/chat/send",
                             {{"message", std::string(16 * 1024, 'a')},
                              {"user_email", email}});
  ASSERT_TRUE(is_success(at_limit, 201));
  EXPECT_EQ(at_limit.data()["message"]["message"].get<std::string>().size(),
            16u * 1024);
  // The limit counts bytes: 8192 two-byte characters are 16 KiB.
  std::string two_byte;
  for (int i = 0; i < 8 * 1024; ++i)
    two_byte += "\xC3\xA9"; // é
  EXPECT_TRUE(is_success(api().post("/api/chat/send", {{"message", two_byte},
                                                       {"user_email", email}}),
                         201));
  EXPECT_TRUE(is_error(api().post("/api/chat/send",
                                  {{"message", std::string(16 * 1024 + 1, 'a')},
                                   {"user_email", email}}),
                       400));
  EXPECT_TRUE(is_error(api().post("/api/chat/send",
                                  {{"message", two_byte + "x"},
                                   {"user_email", email}}),
                       400));
}

TEST_P(rest_chat, bad_input_is_400_and_stores_nothing) {
  auto email = unique_email("bad");
  auto good = chat_send({{"message", "ok"}, {"user_email", email}});
  auto sid = good["session_id"];
  const json bodies[] = {
    json::object(),
    {{"user_email", email}},                          // no message
    {{"message", ""}, {"user_email", email}},
    {{"message", 42}, {"user_email", email}},
    {{"message", nullptr}, {"user_email", email}},
    {{"message", json::array({"a"})}, {"user_email", email}},
    {{"message", "hi"}},                               // no user_email
    {{"message", "hi"}, {"user_email", "nobody"}},
    {{"message", "hi"}, {"user_email", ""}},
    {{"message", "hi"}, {"user_email", 7}},
    {{"message", "hi"}, {"user_email", email}, {"user_name", 7}},
    {{"message", "hi"}, {"user_email", email}, {"session_id", "abc"}},
    {{"message", "hi"}, {"user_email", email}, {"session_id", "1"}},
    {{"message", "hi"}, {"user_email", email}, {"session_id", 1.5}},
    {{"message", "hi"}, {"user_email", email}, {"message_type", 3}},
    {{"message", "hi"}, {"user_email", email}, {"metadata", "x"}},
    {{"message", "hi"}, {"user_email", email}, {"metadata", json::array()}},
    {{"message", "hi"}, {"user_email", email}, {"session_id", sid},
     {"client_id", json::object()}},
  };
  for (const auto& body : bodies) {
    SCOPED_TRACE(body.dump());
    EXPECT_TRUE(is_error(api().post("/api/chat/send", body), 400));
  }
  auto rows = api().get("/api/messages?session_id=" + sid.dump());
  ASSERT_TRUE(is_success(rows, 200));
  EXPECT_TRUE(has_pagination(rows, 1, 50, 2, 1)) << "nothing was stored";
}

// An unknown session gets the answer a wrong token gets (403), so that a
// caller without the token cannot tell whether a session exists; the
// ownership tests are in security_e2e_test.cpp.
TEST_P(rest_chat, unknown_session_is_403) {
  auto email = unique_email("nosess");
  auto reply = api().post("/api/chat/send", {{"message", "hi"},
                                             {"user_email", email},
                                             {"session_id", 987654321},
                                             {"resume_token", "x"}});
  EXPECT_TRUE(is_error(reply, 403));
}

TEST_P(rest_chat, metadata_and_message_type_are_accepted) {
  auto data = chat_send({{"message", "with extras"},
                         {"user_email", unique_email("meta")},
                         {"message_type", "text"},
                         {"metadata", {{"page", "/checkout"}, {"n", 3}}}});
  ASSERT_TRUE(is_send_result(data));
  EXPECT_EQ(data["message"]["message_type"], "text");
}

TEST_P(rest_chat, a_websocket_on_the_session_sees_the_rest_message) {
  ws_client client;
  client.connect(server().host(), server().port(), "/ws");
  auto greeting = client.read_json(frame_timeout);
  ASSERT_EQ(greeting.value("type", ""), "session") << greeting;
  auto sid = greeting["session_id"].get<std::int64_t>();

  auto reply = api().post("/api/chat/send",
                          {{"message", "sent over REST"},
                           {"user_email", unique_email("ws")},
                           {"session_id", sid},
                           {"resume_token", greeting["resume_token"]},
                           {"client_id", "rest-1"}});
  ASSERT_TRUE(is_success(reply, 201));
  ASSERT_TRUE(is_send_result(reply.data())) << reply.describe();
  const auto& m = reply.data()["message"];
  EXPECT_EQ(reply.data()["session_id"], sid);

  auto frames = client.read_until_type("message", frame_timeout);
  std::vector<std::string> types;
  for (const auto& f : frames)
    types.push_back(f.value("type", "?"));
  ASSERT_EQ(types, (std::vector<std::string>{"ack", "typing", "message"}))
    << "frames: " << json(frames).dump();
  const auto& ack = frames[0];
  const auto& answer = frames[2];
  EXPECT_EQ(ack["message_id"], m["id"]) << ack;
  EXPECT_EQ(ack["id"], "rest-1") << ack;
  EXPECT_EQ(answer["id"], m["response_id"]) << answer;
  EXPECT_EQ(answer["reply_to"], m["id"]) << answer;
  EXPECT_EQ(answer["text"], m["response"]) << answer;
  EXPECT_EQ(answer["source"], "fallback") << answer;
  auto last_seq = greeting["seq"].get<std::int64_t>();
  for (const auto& f : frames) {
    EXPECT_GT(f["seq"].get<std::int64_t>(), last_seq) << json(frames).dump();
    last_seq = f["seq"].get<std::int64_t>();
  }

  // The socket still chats, and its next message comes after the REST one.
  client.send_json({{"type", "message"}, {"text", "and over the socket"}});
  auto more = client.read_until_type("message", frame_timeout);
  ASSERT_FALSE(more.empty());
  EXPECT_GT(more.front()["message_id"].get<std::int64_t>(),
            m["response_id"].get<std::int64_t>())
    << json(more).dump();
  auto rows = api().get("/api/messages?session_id=" + std::to_string(sid));
  ASSERT_TRUE(is_success(rows, 200));
  EXPECT_TRUE(has_pagination(rows, 1, 50, 4, 1));
  client.close();
}

TEST_P(rest_chat, llm_health_reports_the_fallback) {
  auto reply = api().get("/api/llm/health");
  ASSERT_EQ(reply.status, 200u) << reply.describe();
  ASSERT_TRUE(reply.json.is_object()) << reply.describe();
  EXPECT_TRUE(reply.json.contains("success") && reply.json["success"] == true)
    << reply.describe();
  ASSERT_TRUE(reply.json.contains("llm_service")) << reply.describe();
  EXPECT_EQ(reply.json["llm_service"],
            json({{"provider", "fallback"},
                  {"status", "fallback"},
                  {"connected", false},
                  {"url", nullptr},
                  {"model", "fallback"}}))
    << reply.describe();
  ASSERT_TRUE(reply.json.contains("timestamp")
              && reply.json["timestamp"].is_string())
    << reply.describe();
  EXPECT_FALSE(reply.json["timestamp"].get<std::string>().empty());
  EXPECT_TRUE(is_error(api().post("/api/llm/health", json::object()), 405));
}

} // namespace
