#include "agent/rule_router.hpp"

#include <memory>

#include <gtest/gtest.h>

namespace parley::agent {
namespace {

/// The rules Parley ships: these tests pin down what `./tools/run` does.
std::shared_ptr<const agent_rules> shipped_rules() {
  static auto rules = std::make_shared<const agent_rules>(
    agent_rules::load(PARLEY_SOURCE_DIR "/config/agent.json"));
  return rules;
}

class rule_router_test : public ::testing::Test {
protected:
  rule_router router{shipped_rules()};

  route route_of(std::string_view text, routing_context ctx = {}) {
    return router.decide(text, ctx);
  }
};

TEST_F(rule_router_test, greetings_and_goodbyes_are_answered_directly) {
  for (auto text : {"hi", "Hello there!", "good morning"}) {
    auto r = route_of(text);
    EXPECT_EQ(r.intent, "GREETING") << text;
    EXPECT_EQ(r.action, next_action::respond) << text;
    EXPECT_EQ(r.origin, "rules");
  }
  for (auto text : {"bye", "Thanks, that's all", "thank you!"}) {
    auto r = route_of(text);
    EXPECT_EQ(r.intent, "GOODBYE") << text;
    EXPECT_EQ(r.action, next_action::respond) << text;
  }
}

TEST_F(rule_router_test, an_order_question_without_a_number_asks_for_it) {
  auto r = route_of("what's my order status?");
  EXPECT_EQ(r.intent, "GET_ORDER_INFORMATION");
  EXPECT_EQ(r.action, next_action::ask_for_slot);
  EXPECT_EQ(r.slot_to_request, "order_id");
  EXPECT_TRUE(r.tool_name.empty());
}

TEST_F(rule_router_test, an_order_question_with_a_number_calls_get_order) {
  auto r = route_of("Hi, where is my order #124?");
  EXPECT_EQ(r.intent, "GET_ORDER_INFORMATION");
  EXPECT_EQ(r.action, next_action::call_tool);
  EXPECT_EQ(r.tool_name, "get_order");
  EXPECT_EQ(r.tool_args, (nlohmann::json{{"order_id", "124"}}));
  EXPECT_GE(r.confidence, 0.8);
}

TEST_F(rule_router_test, a_refund_request_is_its_own_intent) {
  auto r = route_of("I want a refund for order 555");
  EXPECT_EQ(r.intent, "REFUND_ORDER");
  EXPECT_EQ(r.action, next_action::call_tool);
  EXPECT_EQ(r.tool_args["order_id"], "555");
  auto ask = route_of("can I get my money back?");
  EXPECT_EQ(ask.intent, "REFUND_ORDER");
  EXPECT_EQ(ask.action, next_action::ask_for_slot);
}

TEST_F(rule_router_test, the_answer_to_a_slot_question_continues_the_intent) {
  routing_context ctx{"REFUND_ORDER", "order_id"};
  auto r = route_of("124", ctx);
  EXPECT_EQ(r.intent, "REFUND_ORDER");
  EXPECT_EQ(r.action, next_action::call_tool);
  EXPECT_EQ(r.tool_name, "get_order");
  EXPECT_EQ(r.tool_args["order_id"], "124");
  // With words around it, too.
  auto wordy = route_of("sure, it's 555 I think", ctx);
  EXPECT_EQ(wordy.tool_args["order_id"], "555");
}

TEST_F(rule_router_test, no_value_and_no_new_topic_asks_again) {
  routing_context ctx{"GET_ORDER_INFORMATION", "order_id"};
  auto r = route_of("hmm let me see", ctx);
  EXPECT_EQ(r.intent, "GET_ORDER_INFORMATION");
  EXPECT_EQ(r.action, next_action::ask_for_slot);
  EXPECT_EQ(r.slot_to_request, "order_id");
}

TEST_F(rule_router_test, a_new_topic_leaves_the_pending_slot) {
  routing_context ctx{"GET_ORDER_INFORMATION", "order_id"};
  auto r = route_of("actually, what is your return policy?", ctx);
  EXPECT_EQ(r.intent, "KNOWLEDGE_QA");
  EXPECT_EQ(r.tool_name, "knowledge_search");
  // Asking for a person wins even when the message holds a number.
  auto human = route_of("just get me a human, order 124", ctx);
  EXPECT_EQ(human.intent, "ESCALATE_TO_HUMAN");
}

TEST_F(rule_router_test, knowledge_questions_search_with_the_whole_text) {
  auto r = route_of("What is your return policy?");
  EXPECT_EQ(r.intent, "KNOWLEDGE_QA");
  EXPECT_EQ(r.action, next_action::call_tool);
  EXPECT_EQ(r.tool_name, "knowledge_search");
  EXPECT_EQ(r.tool_args["query"], "What is your return policy?");
  EXPECT_EQ(r.tool_args["top_k"], 3);
}

TEST_F(rule_router_test, asking_for_a_person_hands_off) {
  for (auto text : {"I want to talk to a human", "representative please",
                    "can I speak to someone", "how do I reach a real person?",
                    "can I talk to a human please"}) {
    auto r = route_of(text);
    EXPECT_EQ(r.intent, "ESCALATE_TO_HUMAN") << text;
    EXPECT_EQ(r.action, next_action::respond) << text;
    EXPECT_TRUE(shipped_rules()->find_intent(r.intent)->handoff);
  }
}

TEST_F(rule_router_test, a_bare_order_number_is_an_order_question) {
  auto r = route_of("124");
  EXPECT_EQ(r.intent, "GET_ORDER_INFORMATION");
  EXPECT_EQ(r.tool_args["order_id"], "124");
}

TEST_F(rule_router_test, unmatched_questions_try_the_knowledge_base) {
  auto r = route_of("is the blue one any good?");
  EXPECT_EQ(r.intent, "KNOWLEDGE_QA");
  EXPECT_LT(r.confidence, 0.5);
  auto unknown = route_of("asdf");
  EXPECT_EQ(unknown.intent, "UNKNOWN");
  EXPECT_EQ(unknown.action, next_action::respond);
  EXPECT_LT(unknown.confidence, shipped_rules()->settings.low_confidence);
}

TEST(slot_extraction, numbers_stay_within_their_bounds) {
  slot_rule order{"order_id", slot_kind::number, 3, 6, "?", "?"};
  EXPECT_EQ(rule_router::extract_slot(order, "order #124."), "124");
  EXPECT_EQ(rule_router::extract_slot(order, "12 or 4567"), "4567");
  EXPECT_FALSE(rule_router::extract_slot(order, "12"));
  EXPECT_FALSE(rule_router::extract_slot(order, "1234567"));
  EXPECT_FALSE(rule_router::extract_slot(order, "A124 124b"));
  EXPECT_FALSE(rule_router::extract_slot(order, ""));
}

TEST(slot_extraction, email_or_phone) {
  slot_rule contact{"phone_or_email", slot_kind::email_or_phone, 1, 20, "?",
                    "?"};
  EXPECT_EQ(rule_router::extract_slot(contact, "it's jo.doe+x@example.com."),
            "jo.doe+x@example.com");
  EXPECT_EQ(rule_router::extract_slot(contact, "call +44 20 7946 0958 pls"),
            "+44 20 7946 0958");
  EXPECT_FALSE(rule_router::extract_slot(contact, "me@home"));
  EXPECT_FALSE(rule_router::extract_slot(contact, "order 124"));
  EXPECT_FALSE(rule_router::extract_slot(contact, "@@@ ..."));
}

} // namespace
} // namespace parley::agent
