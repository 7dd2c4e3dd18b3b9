// The support agent with an LLM, end to end against the real server and the
// real mock LLM in --agent mode (tools/mock_llm/README.md, "Agent mode"),
// over both LLM protocols: the LLM routes every message with a forced
// `route` call, the agent runs the tool the route names, the LLM's tool loop
// calls more tools, and the LLM's answer streams to the browser. The mock's
// answers are deterministic summaries of the real tool results, so the
// tests see what the real order database and knowledge base returned.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/db_probe.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/rest_client.hpp"
#include "tests/support/mock_llm_process.hpp"

namespace parley::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

bool contains(const json& frame, const std::string& needle) {
  return frame.value("text", std::string{}).find(needle) != std::string::npos;
}

/// What the mock counted between two /stats snapshots.
struct llm_activity {
  std::int64_t requests = 0;    // chat requests: route calls and answer rounds
  std::int64_t route_calls = 0; // forced routes answered
  std::int64_t tool_calls = 0;  // tool calls emitted, route calls included

  static llm_activity between(const json& before, const json& after) {
    auto diff = [&](const char* key) {
      return after[key].get<std::int64_t>() - before[key].get<std::int64_t>();
    };
    return {diff("requests"), diff("route_calls"), diff("tool_calls_emitted")};
  }
};

/// Parameter: the LLM protocol, "websocket" or "openai".
class agent_llm_e2e : public e2e_fixture,
                      public ::testing::WithParamInterface<std::string> {
protected:
  void SetUp() override {
    // The shipped knowledge base, copied as agent_e2e_test does.
    for (const auto& entry :
         fs::directory_iterator(PARLEY_SOURCE_DIR "/knowledge"))
      fs::copy(entry.path(), tmp_ / "knowledge" / entry.path().filename());
    mock_ = std::make_unique<mock_llm_process>(std::vector<std::string>{
      "--protocol", GetParam(), "--agent", "--chunks", "3", "--verbose"});
    auto url = GetParam() == "openai"
                 ? "http://127.0.0.1:" + std::to_string(mock_->port()) + "/v1"
                 : "ws://127.0.0.1:" + std::to_string(mock_->port()) + "/chat";
    std::vector<std::string> args{"--llm-url", url};
    if (GetParam() == "openai")
      args.insert(args.end(),
                  {"--llm-provider", "openai", "--llm-model", "mock-model"});
    // The LLM routes (the default, made explicit against the environment).
    start_server(args, {{"AGENT_ROUTER", "llm"}});
    ASSERT_TRUE(server().wait_for_line("LLM connected", 20000ms))
      << server().log();
  }

  void TearDown() override {
    if (HasFailure() && mock_)
      ADD_FAILURE() << "mock log:\n" << mock_->log();
    e2e_fixture::TearDown();
  }

  json mock_stats() {
    auto res = http_get("127.0.0.1", mock_->port(), "/stats");
    return json::parse(res.body);
  }

  /// Asks `text` and returns the exchange, with what the LLM did for it.
  exchange ask_llm(ws_client& client, const std::string& text,
                   const std::string& id, llm_activity& activity) {
    auto before = mock_stats();
    auto got = ask(client, text, id);
    activity = llm_activity::between(before, mock_stats());
    return got;
  }

  rest_client rest() {
    return rest_client{host(), port()};
  }

  /// The order_id slot's prompt, from the rules file the server runs with.
  static std::string order_number_prompt() {
    return "Sure, I can help with that. What is your order number? You'll "
           "find it in your order confirmation email.";
  }

  std::unique_ptr<mock_llm_process> mock_;
};

TEST_P(agent_llm_e2e, a_knowledge_question_is_answered_by_the_llm_from_the_search) {
  ws_client client;
  auto session = open_session(client);
  llm_activity llm;
  auto got = ask_llm(client, "What is your return policy?", "k1", llm);
  const auto& reply = got.reply;
  EXPECT_EQ(reply["source"], "llm") << dump(got.frames);
  EXPECT_EQ(reply["finish_reason"], "completed") << dump(got.frames);
  // The mock summarised the real knowledge_search result: its best match.
  EXPECT_TRUE(contains(reply, "Return policy")) << dump(got.frames);
  EXPECT_EQ(reply["text"], "LLM answer: see Return policy");
  // Streamed: the deltas came before the message and add up to it.
  std::size_t deltas = 0;
  std::size_t offset = 0;
  for (const auto& frame : got.frames) {
    if (type_of(frame) != "delta")
      continue;
    ++deltas;
    EXPECT_EQ(frame["offset"].get<std::size_t>(), offset) << dump(got.frames);
    offset += frame["text"].get<std::string>().size();
  }
  EXPECT_GE(deltas, 2u) << dump(got.frames);
  EXPECT_EQ(streamed_text(got.frames), reply["text"]) << dump(got.frames);
  // One forced route (KNOWLEDGE_QA, call_tool knowledge_search), the agent
  // ran the search, one answer round.
  EXPECT_EQ(llm.route_calls, 1);
  EXPECT_EQ(llm.tool_calls, 1) << "the route call, and no more";
  EXPECT_EQ(llm.requests, 2);
  client.close();
  stop_server();
  db_probe db{db_path()};
  EXPECT_EQ(db.events(session.session_id, "tool_call"), 1);
}

TEST_P(agent_llm_e2e, the_llm_asks_for_the_order_number_then_looks_it_up) {
  ws_client client;
  auto session = open_session(client);
  llm_activity llm;
  // The LLM's route says ask_for_slot: the rules' prompt, no answer round.
  auto ask_number = ask_llm(client, "where is my order?", "o1", llm);
  EXPECT_EQ(ask_number.reply["text"], order_number_prompt())
    << "the rules' prompt, and no limited-mode note while the LLM is up:\n"
    << dump(ask_number.frames);
  EXPECT_EQ(llm.route_calls, 1);
  EXPECT_EQ(llm.requests, 1);
  // A bare number answers the slot: the route looks the order up.
  auto answer = ask_llm(client, "124", "o2", llm);
  EXPECT_EQ(answer.reply["source"], "llm") << dump(answer.frames);
  EXPECT_TRUE(contains(answer.reply, "shipped")) << dump(answer.frames);
  EXPECT_TRUE(contains(answer.reply, "UPS")) << dump(answer.frames);
  EXPECT_EQ(answer.reply["text"], "LLM answer: order 124 is shipped via UPS");
  EXPECT_EQ(streamed_text(answer.frames), answer.reply["text"]);
  EXPECT_EQ(llm.route_calls, 1);
  EXPECT_EQ(llm.requests, 2);
  client.close();
  stop_server();
  db_probe db{db_path()};
  EXPECT_EQ(db.events(session.session_id, "tool_call"), 1);
}

TEST_P(agent_llm_e2e, the_tool_loop_calls_a_second_tool_before_answering) {
  ws_client client;
  auto session = open_session(client);
  llm_activity llm;
  // The route looks the order up; in the answer round the LLM calls
  // knowledge_search itself; then it answers from both results.
  auto got = ask_llm(client,
                     "where is order 124 and what is your return policy?",
                     "m1", llm);
  EXPECT_EQ(got.reply["source"], "llm") << dump(got.frames);
  EXPECT_EQ(got.reply["text"],
            "LLM answer: order 124 is shipped via UPS; see Return policy")
    << dump(got.frames);
  EXPECT_EQ(streamed_text(got.frames), got.reply["text"]);
  EXPECT_EQ(llm.tool_calls, 2) << "route, then knowledge_search";
  EXPECT_EQ(llm.route_calls, 1);
  EXPECT_EQ(llm.requests, 3) << "route, a round with a call, the answer";
  client.close();
  stop_server();
  db_probe db{db_path()};
  EXPECT_EQ(db.events(session.session_id, "tool_call"), 2);
}

TEST_P(agent_llm_e2e, asking_for_a_human_hands_the_session_off) {
  ws_client client;
  auto session = open_session(client);
  llm_activity llm;
  auto got = ask_llm(client, "I want a human", "h1", llm);
  EXPECT_TRUE(contains(got.reply, "human agent")) << dump(got.frames);
  EXPECT_EQ(got.reply.value("handoff", json{}), true)
    << "an LLM-routed handoff is flagged like the rules' one:\n"
    << dump(got.frames);
  EXPECT_EQ(llm.route_calls, 1);
  EXPECT_EQ(llm.requests, 1) << "a handoff needs no answer round";
  auto waiting = rest().get("/api/handoffs");
  ASSERT_TRUE(is_success(waiting, 200));
  const auto& items = waiting.data()["items"];
  ASSERT_EQ(items.size(), 1u) << waiting.describe();
  EXPECT_EQ(items[0]["id"], session.session_id);
  EXPECT_EQ(items[0]["status"], "handoff");
}

TEST_P(agent_llm_e2e, a_malformed_route_falls_back_to_the_rules) {
  ws_client client;
  open_session(client);
  auto mark = server().line_count();
  llm_activity llm;
  auto got = ask_llm(client, "garbage-route where is my order?", "g1", llm);
  // The rules routed it: they ask for the order number.
  EXPECT_EQ(got.reply["text"], order_number_prompt()) << dump(got.frames);
  EXPECT_EQ(llm.route_calls, 1);
  EXPECT_EQ(llm.requests, 1);
  EXPECT_TRUE(server().wait_for_line("LLM route refused", 5000ms, mark))
    << server().log();
  // The conversation goes on through the LLM.
  auto answer = ask_llm(client, "777", "g2", llm);
  EXPECT_EQ(answer.reply["source"], "llm") << dump(answer.frames);
  EXPECT_EQ(answer.reply["text"], "LLM answer: order 777 is delivered via DHL");
}

INSTANTIATE_TEST_SUITE_P(protocols, agent_llm_e2e,
                         ::testing::Values("websocket", "openai"),
                         [](const auto& info) { return info.param; });

} // namespace
} // namespace parley::test
