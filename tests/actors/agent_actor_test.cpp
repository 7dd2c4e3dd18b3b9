#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/actors/agent_test_base.hpp"

namespace parley::test {
namespace {

using nlohmann::json;

/// The stand-in for an LLM provider (outside the project): answers each
/// request with `script`, optionally streaming `stream` first, and keeps
/// every request it saw.
struct scripted_llm {
  std::function<reply_result(const reply_request&)> script;
  std::vector<reply_request> seen;
  std::vector<std::string> stream; // deltas sent before each answer
  bool fail = false;
};

responder_actor::behavior_type
scripted_llm_fun(responder_actor::pointer self,
                 std::shared_ptr<scripted_llm> llm) {
  return {
    [self, llm](generate_atom,
                reply_request& request) -> caf::result<reply_result> {
      llm->seen.push_back(request);
      if (llm->fail)
        return make_error(errc::responder_failed, "provider down");
      auto requester = caf::actor_cast<agent_actor>(self->current_sender());
      for (const auto& piece : llm->stream)
        self->send(requester, delta_atom_v, request.request_id, piece);
      return llm->script(request);
    },
    [](cancel_atom, std::uint64_t) {},
  };
}

reply_result text_answer(std::string text) {
  reply_result r;
  r.text = std::move(text);
  r.source = "llm";
  r.finish_reason = "stop";
  return r;
}

reply_result tool_answer(std::string id, std::string name, json args) {
  reply_result r;
  r.source = "llm";
  r.finish_reason = "tool_calls";
  r.tool_calls.push_back(tool_call_info{std::move(id), std::move(name),
                                        args.dump()});
  return r;
}

/// What a session sees: the answer and the pieces streamed before it.
struct session_view {
  std::vector<std::string> deltas;
  std::optional<reply_result> result;
  caf::error error;
};

class agent_actor_test : public agent_test_base {
protected:
  void start_agent(bool llm_active, bool llm_configured = false) {
    agent_actor_settings settings;
    settings.rules = rules;
    settings.llm_configured = llm_configured;
    auto svc = *directory->get();
    svc.llm_active = llm_active;
    if (llm_active)
      svc.responder = sys->spawn(scripted_llm_fun, llm);
    svc.agent = sys->spawn(agent_fun, directory, settings);
    directory->set(svc);
    agent = svc.agent;
    run();
  }

  /// Asks the agent like a session does (deltas included) and runs.
  std::shared_ptr<session_view> generate(reply_request request) {
    auto view = std::make_shared<session_view>();
    auto dest = agent;
    request.session_id = session_id;
    request.request_id = ++next_request;
    sys->spawn([=](caf::event_based_actor* self) -> caf::behavior {
      self->request(dest, caf::infinite, generate_atom_v, request)
        .then([=](reply_result& r) { view->result = std::move(r); },
              [=](caf::error& err) { view->error = std::move(err); });
      return {[=](delta_atom, std::uint64_t, std::string& text) {
        view->deltas.push_back(std::move(text));
      }};
    });
    run();
    return view;
  }

  reply_request message(std::string text, std::string intent = {},
                        std::string slot = {}, std::int32_t streak = 0) {
    reply_request r;
    r.text = std::move(text);
    r.intent = std::move(intent);
    r.pending_slot = std::move(slot);
    r.low_confidence_streak = streak;
    return r;
  }

  std::shared_ptr<const agent::agent_rules> rules
    = std::make_shared<const agent::agent_rules>(
      agent::agent_rules::load(PARLEY_SOURCE_DIR "/config/agent.json"));
  std::shared_ptr<scripted_llm> llm = std::make_shared<scripted_llm>();
  agent_actor agent;
  std::uint64_t next_request = 0;
};

// -- without an LLM -----------------------------------------------------------

TEST_F(agent_actor_test, asks_for_the_order_number_then_looks_it_up) {
  start_agent(false);
  auto ask = generate(message("where is my order?"));
  ASSERT_TRUE(ask->result) << describe(ask->error);
  EXPECT_EQ(ask->result->text, rules->find_slot("order_id")->prompt);
  EXPECT_TRUE(ask->result->has_state);
  EXPECT_EQ(ask->result->intent, "GET_ORDER_INFORMATION");
  EXPECT_EQ(ask->result->pending_slot, "order_id");
  EXPECT_EQ(ask->result->source, "fallback");
  auto answer = generate(message("124", "GET_ORDER_INFORMATION", "order_id"));
  ASSERT_TRUE(answer->result);
  EXPECT_NE(answer->result->text.find("UPS"), std::string::npos)
    << answer->result->text;
  EXPECT_EQ(answer->result->pending_slot, "");
  EXPECT_EQ(answer->result->intent, "");
  EXPECT_EQ(events("tool_call"), 1);
}

TEST_F(agent_actor_test, answers_questions_from_the_knowledge_base) {
  start_agent(false);
  auto view = generate(message("what is your return policy?"));
  ASSERT_TRUE(view->result);
  EXPECT_NE(view->result->text.find("30 days"), std::string::npos)
    << view->result->text;
  EXPECT_EQ(view->result->low_confidence_streak, 0);
}

TEST_F(agent_actor_test, asking_for_a_person_hands_off) {
  start_agent(false);
  auto view = generate(message("can I talk to a human please"));
  ASSERT_TRUE(view->result);
  EXPECT_EQ(view->result->session_status, "handoff");
  EXPECT_EQ(view->result->text,
            rules->find_intent("ESCALATE_TO_HUMAN")->reply);
}

TEST_F(agent_actor_test, a_streak_of_doubtful_routes_hands_off) {
  start_agent(false);
  auto first = generate(message("asdf"));
  ASSERT_TRUE(first->result);
  EXPECT_EQ(first->result->low_confidence_streak, 1);
  EXPECT_EQ(first->result->session_status, "");
  EXPECT_EQ(first->result->text, rules->unknown_reply);
  auto third = generate(message("qwerty", "", "", 2));
  ASSERT_TRUE(third->result);
  EXPECT_EQ(third->result->session_status, "handoff");
  EXPECT_EQ(third->result->text, rules->handoff_notice);
  // A confident route ends the streak.
  auto hello = generate(message("hello", "", "", 2));
  EXPECT_EQ(hello->result->low_confidence_streak, 0);
}

TEST_F(agent_actor_test, says_once_that_it_is_in_limited_mode) {
  start_agent(false, true); // an LLM is configured but not connected
  auto first = generate(message("hello"));
  ASSERT_TRUE(first->result);
  const auto& note = rules->reply("limited_mode");
  EXPECT_EQ(first->result->text.rfind(note, 0), 0u) << first->result->text;
  auto next = message("thanks");
  next.history = {chat_turn{"user", "hello"},
                  chat_turn{"assistant", first->result->text}};
  auto second = generate(next);
  EXPECT_EQ(second->result->text.find(note), std::string::npos);
}

// -- with an LLM --------------------------------------------------------------

TEST_F(agent_actor_test, the_llm_routes_and_answers_from_the_tool_result) {
  llm->stream = {"Your order ", "has shipped."};
  llm->script = [](const reply_request& r) {
    if (r.tool_choice == "route")
      return tool_answer("route_1", "route",
                         {{"intent", "GET_ORDER_INFORMATION"},
                          {"confidence", 0.95},
                          {"next_action", "call_tool"},
                          {"tool_name", "get_order"},
                          {"tool_args", {{"order_id", "124"}}}});
    return text_answer("Your order has shipped.");
  };
  start_agent(true);
  auto view = generate(message("where is order 124?"));
  ASSERT_TRUE(view->result) << describe(view->error);
  EXPECT_EQ(view->result->source, "llm");
  EXPECT_EQ(view->result->text, "Your order has shipped.");
  EXPECT_EQ(view->result->finish_reason, "stop");
  // Only the answer round streams to the session.
  EXPECT_EQ(view->deltas,
            (std::vector<std::string>{"Your order ", "has shipped."}));
  ASSERT_EQ(llm->seen.size(), 2u);
  const auto& route = llm->seen[0];
  EXPECT_FALSE(route.system_prompt.empty());
  EXPECT_NE(route.tools.find("\"route\""), std::string::npos);
  const auto& answer = llm->seen[1];
  EXPECT_EQ(answer.tool_choice, "auto");
  EXPECT_NE(answer.tools.find("get_order"), std::string::npos);
  ASSERT_EQ(answer.rounds.size(), 1u);
  ASSERT_EQ(answer.rounds[0].calls.size(), 1u);
  EXPECT_EQ(answer.rounds[0].calls[0].name, "get_order");
  ASSERT_EQ(answer.rounds[0].outputs.size(), 1u);
  EXPECT_EQ(answer.rounds[0].outputs[0].tool_call_id,
            answer.rounds[0].calls[0].id);
  EXPECT_EQ(json::parse(answer.rounds[0].outputs[0].content)["carrier"], "UPS");
}

TEST_F(agent_actor_test, the_tool_loop_runs_the_llms_calls_round_by_round) {
  llm->script = [](const reply_request& r) {
    if (r.tool_choice == "route")
      return tool_answer("route_1", "route",
                         {{"intent", "KNOWLEDGE_QA"},
                          {"confidence", 0.9},
                          {"next_action", "respond"}});
    if (r.rounds.empty())
      return tool_answer("c1", "knowledge_search", {{"query", "returns"}});
    if (r.rounds.size() == 1)
      return tool_answer("c2", "get_order", {{"order_id", "555"}});
    return text_answer("Done after two rounds.");
  };
  start_agent(true);
  auto view = generate(message("tell me about returns for my order 555"));
  ASSERT_TRUE(view->result) << describe(view->error);
  EXPECT_EQ(view->result->text, "Done after two rounds.");
  ASSERT_EQ(llm->seen.size(), 4u); // route + three answer rounds
  const auto& last = llm->seen.back();
  ASSERT_EQ(last.rounds.size(), 2u);
  EXPECT_EQ(last.rounds[0].calls[0].name, "knowledge_search");
  EXPECT_EQ(json::parse(last.rounds[0].outputs[0].content)["matches"][0]
                                                            ["source"],
            "returns.md");
  EXPECT_EQ(json::parse(last.rounds[1].outputs[0].content)["status"],
            "processing");
  EXPECT_EQ(events("tool_call"), 2);
}

TEST_F(agent_actor_test, the_loop_stops_after_max_tool_rounds) {
  llm->script = [](const reply_request& r) {
    if (r.tool_choice == "route")
      return tool_answer("route_1", "route",
                         {{"intent", "UNKNOWN"},
                          {"confidence", 0.9},
                          {"next_action", "respond"}});
    if (r.tool_choice == "none")
      return text_answer("I have to answer now.");
    return tool_answer("c" + std::to_string(r.rounds.size()),
                       "knowledge_search", {{"query", "again"}});
  };
  start_agent(true);
  auto view = generate(message("loop forever"));
  ASSERT_TRUE(view->result);
  EXPECT_EQ(view->result->text, "I have to answer now.");
  auto rounds = static_cast<std::size_t>(rules->settings.max_tool_rounds);
  ASSERT_EQ(llm->seen.size(), rounds + 2); // route, rounds, final
  EXPECT_EQ(llm->seen.back().tool_choice, "none");
  EXPECT_EQ(llm->seen.back().rounds.size(), rounds);
}

TEST_F(agent_actor_test, bad_tool_arguments_go_back_to_the_llm_as_an_error) {
  llm->script = [](const reply_request& r) {
    if (r.tool_choice == "route")
      return tool_answer("route_1", "route",
                         {{"intent", "GET_ORDER_INFORMATION"},
                          {"confidence", 0.9},
                          {"next_action", "call_tool"},
                          {"tool_name", "get_order"},
                          {"tool_args", {{"order_id", 124}}}});
    return text_answer("Sorry, which order?");
  };
  start_agent(true);
  auto view = generate(message("order 124"));
  ASSERT_TRUE(view->result);
  const auto& output = llm->seen.back().rounds.at(0).outputs.at(0);
  EXPECT_NE(json::parse(output.content)["error"].get<std::string>().find(
              "invalid arguments"),
            std::string::npos)
    << output.content;
}

TEST_F(agent_actor_test, an_unusable_llm_route_falls_back_to_the_rules) {
  llm->script = [](const reply_request& r) {
    if (r.tool_choice == "route")
      return text_answer("I think this is about an order."); // no tool call
    return text_answer("unused");
  };
  start_agent(true);
  auto view = generate(message("where is my order?"));
  ASSERT_TRUE(view->result);
  // The rules asked for the number; the LLM was not asked to phrase it.
  EXPECT_EQ(view->result->pending_slot, "order_id");
  EXPECT_EQ(llm->seen.size(), 1u);
}

// The rules' prompt while the LLM works is no "limited mode" answer: the
// note is for an LLM that is configured but down.
TEST_F(agent_actor_test, a_slot_prompt_while_the_llm_works_is_not_limited) {
  llm->script = [](const reply_request&) {
    return tool_answer("route_1", "route",
                       {{"intent", "GET_ORDER_INFORMATION"},
                        {"confidence", 0.9},
                        {"next_action", "ask_for_slot"},
                        {"slot_to_request", "order_id"}});
  };
  start_agent(true, true); // configured and connected
  auto view = generate(message("where is my order?"));
  ASSERT_TRUE(view->result) << describe(view->error);
  EXPECT_EQ(view->result->text, rules->find_slot("order_id")->prompt);
  EXPECT_EQ(view->result->pending_slot, "order_id");
}

TEST_F(agent_actor_test, a_failing_llm_leaves_the_answer_to_the_rules) {
  llm->fail = true;
  start_agent(true, true);
  auto view = generate(message("where is order 124?"));
  ASSERT_TRUE(view->result) << describe(view->error);
  EXPECT_EQ(view->result->source, "fallback");
  EXPECT_NE(view->result->text.find("UPS"), std::string::npos)
    << view->result->text;
}

} // namespace
} // namespace parley::test
