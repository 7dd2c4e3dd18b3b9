#include <nlohmann/json.hpp>

#include "tests/actors/agent_test_base.hpp"

namespace parley::test {
namespace {

using nlohmann::json;

class tool_actor_test : public agent_test_base {
protected:
  /// Runs one tool call through the scheduler and returns its outcome.
  tool_outcome call(const std::string& name, const std::string& arguments) {
    auto result = ask<tool_outcome>(
      tools, tool_atom_v,
      tool_invocation{session_id, "call_1", name, arguments});
    run();
    EXPECT_TRUE(result->value) << "no outcome";
    return result->value.value_or(tool_outcome{});
  }

  static json content(const tool_outcome& out) {
    return json::parse(out.content);
  }

  /// The tool actor's state: the deadlines of its requests.
  const tool_state& state() {
    auto* ptr = caf::actor_cast<caf::abstract_actor*>(tools);
    return static_cast<tool_actor::stateful_pointer<tool_state>>(ptr)->state;
  }
};

TEST_F(tool_actor_test, an_answered_call_leaves_no_deadline_behind) {
  // Each call's deadline is the tool actor's own (timed_request.hpp): an
  // answer removes it, and nothing waits in CAF's clock for the timeout.
  EXPECT_TRUE(call("get_order", R"({"order_id":"124"})").ok);
  EXPECT_TRUE(state().deadlines.empty());
  EXPECT_TRUE(call("knowledge_search", R"({"query":"returns"})").ok);
  EXPECT_TRUE(state().deadlines.empty());
  // The wake-up asked for with the first call comes and finds nothing due.
  sched->advance_time(tool_options.call_timeout);
  run();
  EXPECT_TRUE(state().deadlines.empty());
}

TEST_F(tool_actor_test, get_order_reads_the_orders_table) {
  auto out = call("get_order", R"({"order_id":"124"})");
  EXPECT_TRUE(out.ok);
  EXPECT_EQ(out.name, "get_order");
  auto order = content(out);
  EXPECT_EQ(order["order_id"], "124");
  EXPECT_EQ(order["status"], "shipped");
  EXPECT_EQ(order["carrier"], "UPS");
  EXPECT_TRUE(order["items"].is_array());
  EXPECT_EQ(content(call("get_order", R"({"order_id":"555"})"))["status"],
            "processing");
}

TEST_F(tool_actor_test, unknown_orders_answer_not_found) {
  auto out = call("get_order", R"({"order_id":"999"})");
  EXPECT_TRUE(out.ok);
  EXPECT_EQ(content(out), (json{{"error", "not found"}, {"order_id", "999"}}));
}

TEST_F(tool_actor_test, bad_arguments_are_an_error_the_llm_can_read) {
  auto wrong_type = call("get_order", R"({"order_id":124})");
  EXPECT_FALSE(wrong_type.ok);
  auto message = content(wrong_type)["error"].get<std::string>();
  EXPECT_NE(message.find("invalid arguments"), std::string::npos) << message;
  EXPECT_NE(message.find("order_id"), std::string::npos) << message;
  EXPECT_FALSE(call("get_order", "{}").ok);
  EXPECT_FALSE(call("get_order", R"({"order_id":"1","x":2})").ok);
  EXPECT_FALSE(call("knowledge_search", R"({"query":"a","top_k":9})").ok);
  auto broken = call("get_order", "{not json");
  EXPECT_FALSE(broken.ok);
  EXPECT_EQ(content(broken)["error"], "the arguments are not valid JSON");
  auto unknown = call("launch_rocket", "{}");
  EXPECT_FALSE(unknown.ok);
  EXPECT_NE(content(unknown)["error"].get<std::string>().find("unknown tool"),
            std::string::npos);
}

TEST_F(tool_actor_test, knowledge_search_ranks_the_folder) {
  auto out = call("knowledge_search", R"({"query":"return policy"})");
  ASSERT_TRUE(out.ok) << out.content;
  auto result = content(out);
  EXPECT_EQ(result["top_k"], 3);
  ASSERT_FALSE(result["matches"].empty());
  EXPECT_EQ(result["matches"][0]["source"], "returns.md");
  EXPECT_EQ(result["matches"][0]["section"], "Return policy");
  auto one = content(call("knowledge_search",
                          R"({"query":"shipping days","top_k":1})"));
  EXPECT_EQ(one["matches"].size(), 1u);
  EXPECT_EQ(one["matches"][0]["source"], "shipping.md");
}

TEST_F(tool_actor_test, every_call_is_an_event_with_arguments_and_result) {
  call("get_order", R"({"order_id":"124"})");
  call("get_order", R"({"order_id":124})");
  run(); // the events are fire-and-forget
  EXPECT_EQ(events("tool_call"), 2);
  std::string payload;
  long long id = session_id;
  probe().sql() << "SELECT payload FROM chat_events WHERE session_id = :s AND "
                   "event_type = 'tool_call' ORDER BY id LIMIT 1",
    soci::use(id), soci::into(payload);
  auto doc = json::parse(payload);
  EXPECT_EQ(doc["name"], "get_order");
  EXPECT_EQ(doc["arguments"]["order_id"], "124");
  EXPECT_EQ(doc["result"]["carrier"], "UPS");
  EXPECT_EQ(doc["ok"], true);
  EXPECT_TRUE(doc["duration_ms"].is_number_integer());
}

TEST_F(tool_actor_test, a_tool_that_does_not_answer_in_time_times_out) {
  auto result = ask<tool_outcome>(
    tools, tool_atom_v,
    tool_invocation{session_id, "call_1", "knowledge_search",
                    R"({"query":"returns"})"});
  // The knowledge actor is stuck (it runs nothing): the call's timeout fires.
  auto knowledge = directory->get()->knowledge;
  run_all_but(knowledge);
  EXPECT_FALSE(result->done());
  EXPECT_EQ(state().deadlines.size(), 1u);
  // Not a moment early.
  sched->advance_time(tool_options.call_timeout - std::chrono::milliseconds{1});
  run_all_but(knowledge);
  EXPECT_FALSE(result->done());
  sched->advance_time(std::chrono::milliseconds{1});
  run_all_but(knowledge);
  EXPECT_TRUE(state().deadlines.empty());
  ASSERT_TRUE(result->value);
  EXPECT_FALSE(result->value->ok);
  EXPECT_EQ(json::parse(result->value->content)["error"], "the tool timed out");
  run(); // the late answer is dropped
}

TEST_F(tool_actor_test, an_order_lookup_that_hangs_times_out) {
  auto result = ask<tool_outcome>(
    tools, tool_atom_v,
    tool_invocation{session_id, "call_1", "get_order",
                    R"({"order_id":"124"})"});
  auto persistence = directory->get()->persistence;
  run_all_but(persistence);
  sched->advance_time(tool_options.call_timeout);
  run_all_but(persistence);
  ASSERT_TRUE(result->value);
  EXPECT_FALSE(result->value->ok);
  EXPECT_EQ(json::parse(result->value->content)["error"], "the tool timed out");
  run();
}

} // namespace
} // namespace parley::test
