// The support agent without an LLM, end to end against the real server: the
// rule router answers from the knowledge base, fills slots across a
// reconnect and a restart, looks up orders, and hands off to a human who
// answers over REST while the customer watches the WebSocket.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/db_probe.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/rest_client.hpp"

namespace parley::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool contains(const json& frame, const std::string& needle) {
  return frame.value("text", std::string{}).find(needle) != std::string::npos;
}

class agent_e2e : public e2e_fixture {
protected:
  void SetUp() override {
    // The shipped knowledge base, copied: tests may change their copy.
    for (const auto& entry :
         fs::directory_iterator(PARLEY_SOURCE_DIR "/knowledge"))
      fs::copy(entry.path(), knowledge_dir() / entry.path().filename());
  }

  fs::path knowledge_dir() {
    return tmp_ / "knowledge";
  }

  rest_client rest() {
    return rest_client{host(), port()};
  }

  /// The frame's text, for failure messages.
  static std::string text_of(const json& frame) {
    return frame.value("text", std::string{});
  }
};

TEST_F(agent_e2e, answers_the_return_policy_from_the_knowledge_base) {
  start_server();
  ws_client client;
  open_session(client);
  auto reply = send_message(client, "What is your return policy?", "q1").reply;
  EXPECT_EQ(reply["source"], "fallback");
  EXPECT_TRUE(contains(reply, "30 days")) << text_of(reply);
  EXPECT_TRUE(contains(reply, "Return policy")) << text_of(reply);
}

TEST_F(agent_e2e, greets_and_says_goodbye_from_the_rules_file) {
  start_server();
  ws_client client;
  open_session(client);
  auto hello = send_message(client, "hi there", "g1").reply;
  EXPECT_TRUE(contains(hello, "Northwind Supply")) << text_of(hello);
  auto bye = send_message(client, "thanks, bye", "g2").reply;
  EXPECT_TRUE(contains(bye, "welcome")) << text_of(bye);
}

TEST_F(agent_e2e, order_lookup_asks_for_the_number_across_a_reconnect) {
  start_server();
  ws_client client;
  auto session = open_session(client);
  auto ask = send_message(client, "what's my order status?", "o1");
  EXPECT_TRUE(contains(ask.reply, "order number")) << text_of(ask.reply);
  auto last_seq = seq_of(ask.reply);
  client.close();
  // A new socket resumes the session: the agent still waits for the number.
  ws_client again;
  auto frame = resume_session(again, session, last_seq);
  ASSERT_EQ(type_of(frame), "session") << frame.dump();
  auto answer = send_message(again, "124", "o2").reply;
  EXPECT_TRUE(contains(answer, "UPS")) << text_of(answer);
  EXPECT_TRUE(contains(answer, "1Z999AA10123456784")) << text_of(answer);
  // The lookup is an event with its arguments and result.
  again.close();
  stop_server();
  db_probe db{db_path()};
  EXPECT_EQ(db.events(session.session_id, "tool_call"), 1);
  EXPECT_GE(db.events(session.session_id, "agent_state"), 2);
}

TEST_F(agent_e2e, a_restarted_server_remembers_the_question_it_asked) {
  start_server();
  ws_client client;
  auto session = open_session(client);
  auto ask = send_message(client, "I want a refund", "r1");
  EXPECT_TRUE(contains(ask.reply, "order number")) << text_of(ask.reply);
  auto last_seq = seq_of(ask.reply);
  client.close();
  stop_server();
  start_server();
  ws_client again;
  auto frame = resume_session(again, session, last_seq);
  ASSERT_EQ(type_of(frame), "session") << frame.dump();
  auto answer = send_message(again, "it's 555", "r2").reply;
  EXPECT_TRUE(contains(answer, "555")) << text_of(answer);
  EXPECT_TRUE(contains(answer, "cancel")) << text_of(answer);
}

TEST_F(agent_e2e, unknown_order_numbers_are_asked_for_again) {
  start_server();
  ws_client client;
  open_session(client);
  auto missing = send_message(client, "where is order 999?", "u1").reply;
  EXPECT_TRUE(contains(missing, "couldn't find")) << text_of(missing);
  // The agent still waits for a number: a bare one continues the lookup.
  auto found = send_message(client, "sorry, 777", "u2").reply;
  EXPECT_TRUE(contains(found, "DHL")) << text_of(found);
}

TEST_F(agent_e2e, handoff_to_a_human_and_back_over_websocket_and_rest) {
  start_server();
  ws_client client;
  auto session = open_session(client);
  auto handoff = send_message(client, "I want to talk to a human", "h1");
  EXPECT_TRUE(contains(handoff.reply, "human agent")) << text_of(handoff.reply);
  // Machine-readable: the page shows its banner from this flag.
  EXPECT_EQ(handoff.reply.value("handoff", json{}), true) << handoff.reply;

  // The support team sees the session waiting, with its transcript.
  auto waiting = rest().get("/api/handoffs");
  ASSERT_TRUE(is_success(waiting, 200));
  const auto& items = waiting.data()["items"];
  ASSERT_EQ(items.size(), 1u) << waiting.describe();
  EXPECT_EQ(items[0]["id"], session.session_id);
  EXPECT_EQ(items[0]["status"], "handoff");
  EXPECT_EQ(items[0]["messages"].size(), 2u) << waiting.describe();

  // While a human has the session the bot stays quiet: an ack, no answer.
  client.send_json({{"type", "message"}, {"text", "hello?"}, {"id", "h2"}});
  auto frames = client.read_until_type("ack", frame_timeout);
  auto quiet = ping_barrier(client);
  for (const auto& f : quiet)
    EXPECT_NE(type_of(f), "message") << dump(quiet);

  // The agent's reply arrives live on the customer's socket.
  auto posted = rest().post(
    "/api/sessions/" + std::to_string(session.session_id) + "/agent-message",
    {{"text", "Hi, this is Dana. How can I help?"}, {"agent_name", "Dana"}});
  ASSERT_TRUE(is_success(posted, 201));
  EXPECT_EQ(posted.data()["message"]["role"], "agent");
  auto live = client.read_until_type("message", frame_timeout).back();
  EXPECT_EQ(live["source"], "agent");
  EXPECT_EQ(live["agent_name"], "Dana");
  EXPECT_EQ(live["text"], "Hi, this is Dana. How can I help?");
  EXPECT_FALSE(live.contains("handoff"))
    << "the session was with a human already: " << live;
  // A reloaded page resumes (its socket replaces the old one) and learns
  // from the greeting alone that a human has the session.
  ws_client reloaded;
  auto greeting = resume_session(reloaded, session, seq_of(live));
  ASSERT_EQ(type_of(greeting), "session") << greeting;
  EXPECT_EQ(greeting.value("status", ""), "handoff") << greeting;

  // Released: the customer is told, and the bot answers again.
  auto released = rest().post(
    "/api/sessions/" + std::to_string(session.session_id) + "/release",
    json::object());
  ASSERT_TRUE(is_success(released, 200));
  auto notice = reloaded.read_until_type("message", frame_timeout).back();
  EXPECT_EQ(notice["source"], "system");
  EXPECT_EQ(notice.value("handoff", json{}), false) << notice;
  auto bot = send_message(reloaded, "hi", "h3").reply;
  EXPECT_EQ(bot["source"], "fallback");
  EXPECT_FALSE(bot.contains("handoff")) << bot;
  EXPECT_TRUE(is_success(rest().get("/api/handoffs"), 200));
  EXPECT_TRUE(rest().get("/api/handoffs").data()["items"].empty());
  // A second release has nothing to release.
  auto again = rest().post(
    "/api/sessions/" + std::to_string(session.session_id) + "/release",
    json::object());
  EXPECT_EQ(again.status, 409u) << again.describe();
}

TEST_F(agent_e2e, closing_a_handed_off_session_gives_the_customer_the_bot) {
  start_server();
  ws_client client;
  auto session = open_session(client);
  auto path = "/api/sessions/" + std::to_string(session.session_id);
  send_message(client, "I want to talk to a human", "c1");
  ASSERT_EQ(rest().get("/api/handoffs").data()["items"].size(), 1u);

  // The operator closes it from the console: the handoff ends with it, and
  // the customer's page learns so live (its banner goes).
  auto closed = rest().put(path, {{"status", "inactive"}});
  ASSERT_TRUE(is_success(closed, 200)) << closed.describe();
  EXPECT_EQ(closed.data()["status"], "inactive");
  auto notice = client.read_until_type("message", frame_timeout).back();
  EXPECT_EQ(notice["source"], "system");
  EXPECT_EQ(notice.value("handoff", json{}), false) << notice;
  EXPECT_TRUE(rest().get("/api/handoffs").data()["items"].empty());

  // The customer writes again: the bot answers, and the session is open
  // again.
  auto bot = send_message(client, "hi", "c2").reply;
  EXPECT_EQ(bot["source"], "fallback") << bot;
  auto reopened = rest().get(path);
  ASSERT_TRUE(is_success(reopened, 200));
  EXPECT_EQ(reopened.data()["status"], "active") << reopened.describe();
  // A new socket is told the same.
  ws_client again;
  auto greeting = resume_session(again, session, seq_of(bot));
  EXPECT_EQ(greeting.value("status", ""), "active") << greeting;
}

TEST_F(agent_e2e, closing_a_handoff_over_rest_lets_the_bot_answer_again) {
  start_server();
  auto first = rest().post("/api/chat/send", {{"message", "I need a human"},
                                              {"user_email", "c@b.example"}});
  ASSERT_TRUE(is_success(first, 201));
  auto session_id = first.data()["session_id"].get<std::int64_t>();
  auto path = "/api/sessions/" + std::to_string(session_id);
  auto send = [&](const std::string& text) {
    return rest().post("/api/chat/send",
                       {{"message", text},
                        {"user_email", "c@b.example"},
                        {"session_id", session_id},
                        {"resume_token", first.data()["resume_token"]}});
  };
  auto waiting = send("hello?");
  ASSERT_TRUE(is_success(waiting, 201));
  EXPECT_EQ(waiting.data()["message"]["waiting_for_agent"], true);

  ASSERT_TRUE(is_success(rest().put(path, {{"status", "inactive"}}), 200));
  EXPECT_TRUE(rest().get("/api/handoffs").data()["items"].empty());
  auto answered = send("are you there?");
  ASSERT_TRUE(is_success(answered, 201));
  EXPECT_EQ(answered.data()["message"]["waiting_for_agent"], false)
    << answered.describe();
  EXPECT_TRUE(answered.data()["message"]["response"].is_string())
    << answered.describe();
  EXPECT_EQ(rest().get(path).data()["status"], "active");
  // The transcript shows where the human part ended.
  auto transcript = rest().get(path + "?include_messages=true");
  ASSERT_TRUE(is_success(transcript, 200));
  int notices = 0;
  for (const auto& m : transcript.data()["messages"])
    notices += m["source"] == "system" ? 1 : 0;
  EXPECT_EQ(notices, 1) << transcript.describe();
}

TEST_F(agent_e2e, websocket_sessions_are_named_and_dated_by_their_messages) {
  start_server();
  ws_client client;
  auto session = open_session(client);
  auto path = "/api/sessions/" + std::to_string(session.session_id);
  EXPECT_EQ(rest().get(path).data()["title"], "");
  send_message(client, "  I need a   human\nabout order 124", "t1");
  auto named = rest().get(path);
  ASSERT_TRUE(is_success(named, 200));
  EXPECT_EQ(named.data()["title"], "I need a human") << named.describe();
  // The list the console and the customer's history show has it too.
  auto listed = rest().get("/api/sessions?status=handoff");
  ASSERT_TRUE(is_success(listed, 200));
  ASSERT_EQ(listed.data().size(), 1u) << listed.describe();
  EXPECT_EQ(listed.data()[0]["id"], session.session_id);
  EXPECT_EQ(listed.data()[0]["title"], "I need a human");
  // A later message keeps the title, and moves updated_at to its own time,
  // handed off or not.
  client.send_json({{"type", "message"}, {"text", "hello?"}, {"id", "t2"}});
  client.read_until_type("ack", frame_timeout);
  auto details = rest().get(path + "?include_messages=true");
  ASSERT_TRUE(is_success(details, 200));
  const auto& data = details.data();
  EXPECT_EQ(data["title"], "I need a human");
  ASSERT_EQ(data["messages"].size(), 3u) << details.describe();
  EXPECT_EQ(data["messages"][2]["message"], "hello?");
  EXPECT_EQ(data["updated_at"], data["messages"][2]["created_at"])
    << details.describe();
}

TEST_F(agent_e2e, an_agent_can_reply_to_a_session_nobody_is_connected_to) {
  start_server();
  ws_client client;
  auto session = open_session(client);
  auto handoff = send_message(client, "representative please", "a1");
  auto last_seq = seq_of(handoff.reply);
  client.close();
  auto posted = rest().post(
    "/api/sessions/" + std::to_string(session.session_id) + "/agent-message",
    {{"text", "Sorry for the wait!"}});
  ASSERT_TRUE(is_success(posted, 201));
  EXPECT_EQ(posted.data()["message"]["agent_name"], "Support agent");
  // The customer finds it on resuming.
  ws_client again;
  auto greeting = resume_session(again, session, last_seq);
  EXPECT_EQ(greeting.value("status", ""), "handoff") << greeting;
  auto frames = again.read_until_type("message", frame_timeout);
  EXPECT_EQ(frames.back()["text"], "Sorry for the wait!") << dump(frames);
  // An unknown session is a 404 that says so in plain words.
  auto unknown = rest().post("/api/sessions/999999/agent-message",
                             {{"text", "hi"}});
  EXPECT_TRUE(is_error(unknown, 404));
  EXPECT_EQ(unknown.json.value("error", ""), "no session 999999")
    << unknown.describe();
  auto release = rest().post("/api/sessions/999999/release", json::object());
  EXPECT_TRUE(is_error(release, 404));
  EXPECT_EQ(release.json.value("error", ""), "no session 999999")
    << release.describe();
  EXPECT_EQ(rest()
              .post("/api/sessions/"
                      + std::to_string(session.session_id) + "/agent-message",
                    {{"text", "   "}})
              .status,
            400u);
}

TEST_F(agent_e2e, rest_chat_waits_for_the_human_during_a_handoff) {
  start_server();
  auto first = rest().post("/api/chat/send", {{"message", "I need a human"},
                                              {"user_email", "a@b.example"}});
  ASSERT_TRUE(is_success(first, 201));
  auto session_id = first.data()["session_id"].get<std::int64_t>();
  auto second = rest().post("/api/chat/send",
                            {{"message", "hello?"},
                             {"user_email", "a@b.example"},
                             {"session_id", session_id},
                             {"resume_token", first.data()["resume_token"]}});
  ASSERT_TRUE(is_success(second, 201));
  EXPECT_TRUE(second.data()["message"]["response"].is_null())
    << second.describe();
  EXPECT_EQ(second.data()["message"]["waiting_for_agent"], true);
}

TEST_F(agent_e2e, knowledge_search_and_reload_over_rest) {
  start_server();
  auto found = rest().get("/api/knowledge/search?q=return%20policy&top_k=2");
  ASSERT_TRUE(is_success(found, 200));
  const auto& data = found.data();
  EXPECT_EQ(data["query"], "return policy");
  EXPECT_EQ(data["top_k"], 2);
  ASSERT_FALSE(data["matches"].empty()) << found.describe();
  EXPECT_EQ(data["matches"][0]["source"], "returns-and-refunds.md");
  EXPECT_EQ(rest().get("/api/knowledge/search").status, 400u);
  EXPECT_EQ(rest().get("/api/knowledge/search?q=x&top_k=9").status, 400u);

  // A new document and a broken one: the first becomes searchable, the
  // second is reported, the rest stays.
  std::ofstream{knowledge_dir() / "loyalty.md"}
    << "# Loyalty programme\n\n## Zebra points\nEvery order earns zebra "
       "points.\n";
  std::ofstream{knowledge_dir() / "broken.md"} << "# Bad\n\xff\xfe\n";
  auto reloaded = rest().post("/api/knowledge/reload", json::object());
  ASSERT_TRUE(is_success(reloaded, 200));
  EXPECT_NE(reloaded.data()["added"].dump().find("loyalty.md"),
            std::string::npos)
    << reloaded.describe();
  EXPECT_NE(reloaded.data()["problems"].dump().find("broken.md"),
            std::string::npos)
    << reloaded.describe();
  auto zebra = rest().get("/api/knowledge/search?q=zebra");
  ASSERT_TRUE(is_success(zebra, 200));
  EXPECT_EQ(zebra.data()["matches"][0]["source"], "loyalty.md");
  EXPECT_EQ(rest()
              .get("/api/knowledge/search?q=return%20policy")
              .data()["matches"][0]["source"],
            "returns-and-refunds.md");
}

TEST_F(agent_e2e, changed_files_are_picked_up_without_a_restart) {
  start_server({}, {{"PARLEY_KNOWLEDGE_POLL_MS", "100"}});
  std::ofstream{knowledge_dir() / "quokka.md"}
    << "# Pets\n\n## Quokka policy\nQuokkas travel free of charge.\n";
  // Polled by the server on its own: wait (bounded) until it shows up.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  json matches;
  while (std::chrono::steady_clock::now() < deadline) {
    matches = rest().get("/api/knowledge/search?q=quokka").data()["matches"];
    if (!matches.empty())
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  ASSERT_FALSE(matches.empty()) << "never indexed";
  EXPECT_EQ(matches[0]["source"], "quokka.md");
}

} // namespace
} // namespace parley::test
