// Parley answering through the custom WebSocket LLM (the mock LLM server in
// its place), switching to the fallback when the LLM goes away and back when
// it returns, without restarting.

#include <gtest/gtest.h>

#include <soci/soci.h>

#include "storage/database.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/mock_llm_process.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/ws_client.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class llm_e2e : public e2e_fixture {
protected:
  void TearDown() override {
    if (HasFailure() && mock_)
      ADD_FAILURE() << "mock log:\n" << mock_->log();
    e2e_fixture::TearDown();
  }

  /// Starts the mock LLM (on `port`, 0 = any) and returns its port.
  std::uint16_t start_mock(std::vector<std::string> args,
                           std::uint16_t port = 0,
                           const std::string& protocol = "websocket") {
    args.insert(args.end(), {"--protocol", protocol});
    mock_ = std::make_unique<mock_llm_process>(std::move(args), port);
    return mock_->port();
  }

  json mock_stats(std::uint16_t port) {
    auto res = http_get("127.0.0.1", port, "/stats");
    return json::parse(res.body);
  }

  /// Waits for the server to log that the LLM answers (after `from_line`).
  void await_llm(std::size_t from_line = 0) {
    ASSERT_TRUE(server().wait_for_line("LLM connected", 20000ms, from_line))
      << server().log();
  }

  /// These tests are about the LLM connection: the rules route, so each
  /// message is one LLM request (the LLM's own routing is tested in
  /// agent_llm_e2e_test).
  void start_parley(const std::vector<std::string>& args) {
    start_server(args, {{"AGENT_ROUTER", "rules"}});
  }

  std::unique_ptr<mock_llm_process> mock_;
};

TEST_F(llm_e2e, answers_stream_from_the_llm_over_one_connection) {
  auto port = start_mock({"--chunks", "3"});
  start_parley({"--llm-url",
                "ws://127.0.0.1:" + std::to_string(port) + "/chat"});
  await_llm();
  ws_client client;
  open_session(client);
  for (auto text : {"hello there", "and again"}) {
    auto got = ask(client, text, text);
    std::string streamed;
    for (const auto& frame : got.frames)
      if (type_of(frame) == "delta") {
        EXPECT_EQ(frame["offset"].get<std::size_t>(), streamed.size());
        streamed += frame["text"].get<std::string>();
      }
    EXPECT_EQ(got.reply["source"], "llm") << dump(got.frames);
    EXPECT_EQ(got.reply["text"], std::string{"Echo: "} + text);
    EXPECT_EQ(streamed, got.reply["text"]) << dump(got.frames);
  }
  auto stats = mock_stats(port);
  EXPECT_EQ(stats["connections"], 1) << stats.dump();
  EXPECT_EQ(stats["requests"], 2) << stats.dump();
  EXPECT_GE(stats["health_checks"].get<int>(), 1) << stats.dump();
  EXPECT_EQ(stats["authorized"]["present"], false)
    << "no key is configured, so no Authorization header";
  auto health = admin_get(host(), this->port(), "/api/llm/health");
  auto body = json::parse(health.body);
  EXPECT_EQ(body["success"], true) << health.body;
  EXPECT_EQ(body["llm_service"]["provider"], "websocket") << health.body;
  EXPECT_EQ(body["llm_service"]["status"], "healthy") << health.body;
  EXPECT_EQ(body["llm_service"]["connected"], true) << health.body;
  EXPECT_EQ(body["llm_service"]["model"], "custom-model") << health.body;
  EXPECT_EQ(body["llm_service"]["circuit"], "closed") << health.body;
  EXPECT_TRUE(body["llm_service"]["last_latency_ms"].is_number_integer())
    << "a health check has run: " << health.body;
}

TEST_F(llm_e2e, the_fallback_answers_while_the_llm_is_gone) {
  auto port = start_mock({});
  start_parley({"--llm-url",
                "ws://127.0.0.1:" + std::to_string(port) + "/chat"});
  await_llm();
  ws_client client;
  open_session(client);
  EXPECT_EQ(ask(client, "hi", "a").reply["source"], "llm");
  auto mark = server().line_count();
  mock_->kill();
  mock_->wait_exit(5000ms);
  ASSERT_TRUE(server().wait_for_line("the fallback answers", 10000ms, mark))
    << server().log();
  auto during = ask(client, "thanks", "b");
  EXPECT_EQ(during.reply["source"], "fallback") << dump(during.frames);
  auto health = json::parse(
    admin_get(host(), this->port(), "/api/llm/health").body);
  EXPECT_EQ(health["success"], false) << health.dump();
  EXPECT_NE(health["llm_service"]["status"], "healthy") << health.dump();
  EXPECT_EQ(health["llm_service"]["connected"], false) << health.dump();
  EXPECT_NE(health["llm_service"]["circuit"], "closed") << health.dump();
  // The LLM comes back on the same port: Parley reconnects on its own.
  mark = server().line_count();
  start_mock({}, port);
  await_llm(mark);
  auto after = ask(client, "welcome back", "c");
  EXPECT_EQ(after.reply["source"], "llm") << dump(after.frames);
  EXPECT_EQ(after.reply["text"], "Echo: welcome back");
  // Each switch is on record: up at start, down, up again.
  client.close();
  stop_server();
  parley::database_url url;
  url.path = db_path();
  storage::database db{url};
  auto server_wide = [&db](const std::string& type) {
    long long count = -1;
    db.sql() << "SELECT COUNT(*) FROM chat_events WHERE session_id IS NULL "
                "AND event_type = :t",
      soci::use(type), soci::into(count);
    return count;
  };
  EXPECT_EQ(server_wide("llm_fallback_off"), 2);
  EXPECT_EQ(server_wide("llm_fallback_on"), 1);
}

TEST_F(llm_e2e, cancel_stops_the_llm_and_keeps_the_text_so_far) {
  auto port = start_mock({"--chunks", "20", "--chunk-delay-ms", "100"});
  start_parley({"--llm-url",
                "ws://127.0.0.1:" + std::to_string(port) + "/chat"});
  await_llm();
  ws_client client;
  open_session(client);
  client.send_text(R"({"type":"message","text":"a long story","id":"s"})");
  auto ack = client.read_until_type("ack", frame_timeout).back();
  auto first = client.read_until_type("delta", frame_timeout).back();
  client.send_text(json{{"type", "cancel"}, {"reply_to", ack["message_id"]}}
                     .dump());
  auto frames = client.read_until_type("message", frame_timeout);
  std::string streamed = first["text"];
  for (const auto& f : frames)
    if (type_of(f) == "delta")
      streamed += f["text"].get<std::string>();
  const auto& reply = frames.back();
  EXPECT_EQ(reply["finish_reason"], "cancelled") << dump(frames);
  EXPECT_EQ(reply["text"], streamed);
  EXPECT_LT(reply["text"].get<std::string>().size(),
            std::string{"Echo: a long story"}.size());
}

// A page reloaded while an answer is in the making shows it as typing at
// once (with the message to stop), then the text streamed so far.
TEST_F(llm_e2e, a_resume_mid_answer_gets_typing_then_the_text_so_far) {
  auto port = start_mock({"--latency-ms", "1500", "--chunks", "6",
                          "--chunk-delay-ms", "300"});
  start_parley({"--llm-url",
                "ws://127.0.0.1:" + std::to_string(port) + "/chat"});
  await_llm();
  ws_client first;
  auto session = open_session(first);
  first.send_json({{"type", "message"}, {"text", "a long story"}, {"id", "s"}});
  auto frames = first.read_until_type("typing", frame_timeout);
  ASSERT_EQ(type_of(frames.front()), "ack") << dump(frames);
  auto message_id = frames.front()["message_id"];
  EXPECT_EQ(frames.back()["reply_to"], message_id) << dump(frames);
  first.close();
  // Before the first delta (the LLM waits 1.5 s): typing anyway, with a seq
  // the client has not seen.
  ws_client second;
  auto greeting = resume_session(second, session, seq_of(frames.back()));
  ASSERT_EQ(type_of(greeting), "session") << greeting;
  auto typing = second.read_json(frame_timeout);
  EXPECT_EQ(type_of(typing), "typing") << typing;
  EXPECT_EQ(typing["reply_to"], message_id) << typing;
  EXPECT_GT(seq_of(typing), seq_of(frames.back())) << typing;
  // After a delta: typing first, then everything streamed so far.
  auto seen = second.read_until_type("delta", frame_timeout).back();
  second.close();
  ws_client third;
  greeting = resume_session(third, session, seq_of(seen));
  ASSERT_EQ(type_of(greeting), "session") << greeting;
  auto rest = third.read_until_type("message", frame_timeout);
  ASSERT_GE(rest.size(), 3u) << dump(rest);
  EXPECT_EQ(type_of(rest[0]), "typing") << dump(rest);
  EXPECT_EQ(rest[0]["reply_to"], message_id) << dump(rest);
  EXPECT_GT(seq_of(rest[0]), seq_of(seen)) << dump(rest);
  EXPECT_EQ(type_of(rest[1]), "delta") << dump(rest);
  EXPECT_EQ(rest[1]["offset"], 0) << dump(rest);
  const auto& reply = rest.back();
  EXPECT_EQ(reply["text"], "Echo: a long story") << dump(rest);
  EXPECT_EQ(streamed_text(rest), reply["text"].get<std::string>())
    << "the catch-up and the later deltas make the whole answer:\n"
    << dump(rest);
}

// A request the LLM refuses is sent again (LLM_MAX_RETRIES) before the
// fallback is asked.
TEST_F(llm_e2e, a_refused_request_is_tried_again) {
  auto port = start_mock({"--fail-nth", "1"});
  start_parley({"--llm-url",
                "ws://127.0.0.1:" + std::to_string(port) + "/chat"});
  await_llm();
  ws_client client;
  open_session(client);
  auto got = ask(client, "hello", "f1");
  EXPECT_EQ(got.reply["source"], "llm") << dump(got.frames);
  EXPECT_EQ(got.reply["text"], "Echo: hello");
  EXPECT_EQ(mock_stats(port)["requests"], 2) << "one refused, one answered";
}

// A burst of messages larger than LLM_MAX_IN_FLIGHT waits in Parley, not on
// the connection: the LLM never has more than that many requests at once,
// the connection stays up, and every message gets the LLM's answer.
TEST_F(llm_e2e, requests_beyond_max_in_flight_wait_their_turn) {
  auto port = start_mock({"--latency-ms", "300"});
  start_server({"--llm-url", "ws://127.0.0.1:" + std::to_string(port) + "/chat"},
               {{"AGENT_ROUTER", "rules"}, {"LLM_MAX_IN_FLIGHT", "2"}});
  await_llm();
  constexpr int sessions = 7;
  std::vector<std::unique_ptr<ws_client>> clients;
  for (int i = 0; i < sessions; ++i) {
    clients.push_back(std::make_unique<ws_client>());
    open_session(*clients.back());
  }
  // All at once, then every answer.
  for (int i = 0; i < sessions; ++i)
    clients[i]->send_json({{"type", "message"},
                           {"id", "b" + std::to_string(i)},
                           {"text", "burst " + std::to_string(i)}});
  for (int i = 0; i < sessions; ++i) {
    auto frames = clients[i]->read_until_type("message", 10000ms);
    const auto& reply = frames.back();
    EXPECT_EQ(reply["source"], "llm") << dump(frames);
    EXPECT_EQ(reply["text"], "Echo: burst " + std::to_string(i));
  }
  auto stats = mock_stats(port);
  EXPECT_EQ(stats["requests"], sessions) << stats.dump();
  EXPECT_EQ(stats["max_in_flight"], 2) << stats.dump();
  EXPECT_EQ(stats["connections"], 1) << "the connection stayed up";
}

// An LLM that stays connected but fails request after request is treated as
// down once LLM_CIRCUIT_FAILURES fail in a row: the fallback takes over and
// the connection is made anew after backoff.
TEST_F(llm_e2e, consecutive_failures_open_the_circuit) {
  auto port = start_mock({"--fail-nth", "1", "--fail-nth", "2"});
  server_process parley{
    server_process::default_executable(),
    {"--host", "127.0.0.1", "--port", "0", "--database-url", database_url(),
     "--llm-url", "ws://127.0.0.1:" + std::to_string(port) + "/chat"},
    {{"LLM_CIRCUIT_FAILURES", "2"},
     {"LLM_MAX_RETRIES", "0"},
     {"LLM_BACKOFF_BASE", "0.05"},
     {"LLM_BACKOFF_CAP", "0.1"}},
    tmp_.path().string()};
  ASSERT_TRUE(parley.wait_until_listening(start_timeout)) << parley.log();
  ASSERT_TRUE(parley.wait_for_line("LLM connected", 10000ms)) << parley.log();
  auto first_connect = parley.line_count();
  ws_client client;
  client.connect(parley.host(), parley.port(), "/ws");
  ASSERT_EQ(type_of(client.read_json(frame_timeout)), "session");
  for (auto id : {"x1", "x2"}) {
    client.send_text(json{{"type", "message"}, {"text", "hi"}, {"id", id}}
                       .dump());
    auto frames = client.read_until_type("message", frame_timeout);
    EXPECT_EQ(frames.back()["source"], "fallback") << dump(frames);
  }
  EXPECT_TRUE(parley.wait_for_line("requests in a row", 10000ms))
    << parley.log();
  // A new connection after the backoff; the LLM answers again.
  ASSERT_TRUE(parley.wait_for_line("LLM connected", 10000ms, first_connect))
    << parley.log();
  client.send_text(R"({"type":"message","text":"back?","id":"x3"})");
  auto frames = client.read_until_type("message", frame_timeout);
  EXPECT_EQ(frames.back()["source"], "llm") << dump(frames);
  EXPECT_EQ(mock_stats(port)["connections"], 2) << "reconnected once";
  client.close();
  parley.terminate();
  EXPECT_TRUE(parley.wait_exit(10000ms).is_exit(0));
}

// An LLM that does not answer within LLM_TIMEOUT: the fallback answers that
// message instead of leaving the user waiting or with an error.
TEST_F(llm_e2e, a_slow_llm_is_answered_by_the_fallback_in_time) {
  auto port = start_mock({"--latency-ms", "5000"});
  server_process parley{
    server_process::default_executable(),
    {"--host", "127.0.0.1", "--port", "0", "--database-url", database_url(),
     "--llm-url", "ws://127.0.0.1:" + std::to_string(port) + "/chat"},
    {{"LLM_TIMEOUT", "0.3"}},
    tmp_.path().string()};
  ASSERT_TRUE(parley.wait_until_listening(start_timeout)) << parley.log();
  ASSERT_TRUE(parley.wait_for_line("LLM connected", 10000ms)) << parley.log();
  ws_client client;
  client.connect(parley.host(), parley.port(), "/ws");
  ASSERT_EQ(type_of(client.read_json(frame_timeout)), "session");
  auto started = std::chrono::steady_clock::now();
  client.send_text(R"({"type":"message","text":"hello","id":"slow"})");
  auto frames = client.read_until_type("message", frame_timeout);
  auto waited = std::chrono::steady_clock::now() - started;
  const auto& reply = frames.back();
  EXPECT_EQ(reply["source"], "fallback") << dump(frames);
  EXPECT_EQ(reply["finish_reason"], "completed") << dump(frames);
  EXPECT_LT(waited, 3s) << "answered after the LLM's timeout, not its reply";
  for (const auto& frame : frames)
    EXPECT_NE(type_of(frame), "error") << dump(frames);
  client.close();
  parley.terminate();
  EXPECT_TRUE(parley.wait_exit(10000ms).is_exit(0));
}

// The same through an OpenAI-compatible server (the mock in openai mode):
// Server-Sent Events streamed as deltas, one kept-alive connection, a 429
// retried, the fallback while the server is gone.
TEST_F(llm_e2e, answers_from_an_openai_compatible_server) {
  auto port = start_mock({"--chunks", "3", "--status", "429",
                          "--status-count", "1"},
                         0, "openai");
  start_parley({"--llm-provider", "openai", "--llm-url",
                "http://127.0.0.1:" + std::to_string(port) + "/v1",
                "--llm-model", "mock-model"});
  await_llm();
  ws_client client;
  open_session(client);
  auto first = ask(client, "hello there", "o1");
  EXPECT_EQ(first.reply["source"], "llm") << dump(first.frames);
  EXPECT_EQ(first.reply["text"], "Echo: hello there") << "the 429 was retried";
  EXPECT_EQ(streamed_text(first.frames), "Echo: hello there")
    << dump(first.frames);
  auto second = ask(client, "again", "o2");
  EXPECT_EQ(second.reply["text"], "Echo: again");
  auto stats = mock_stats(port);
  EXPECT_EQ(stats["requests"], 3) << "two answers and one 429";
  EXPECT_EQ(stats["authorized"]["present"], false) << stats.dump();
  auto mark = server().line_count();
  mock_->kill();
  mock_->wait_exit(5000ms);
  auto during = ask(client, "thanks", "o3");
  EXPECT_EQ(during.reply["source"], "fallback") << dump(during.frames);
  EXPECT_TRUE(server().wait_for_line("the fallback answers", 10000ms, mark))
    << server().log();
}

} // namespace
} // namespace parley::test
