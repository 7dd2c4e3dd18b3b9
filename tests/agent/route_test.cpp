#include "agent/route.hpp"

#include <gtest/gtest.h>

#include "agent/tool_catalog.hpp"

namespace parley::agent {
namespace {

const agent_rules& rules() {
  static auto loaded = agent_rules::load(PARLEY_SOURCE_DIR "/config/agent.json");
  return loaded;
}

TEST(llm_route, a_complete_route_is_taken) {
  auto r = parse_llm_route(R"({"intent":"GET_ORDER_INFORMATION",
    "confidence":0.93,"next_action":"call_tool","slot_to_request":null,
    "tool_name":"get_order","tool_args":{"order_id":"124"}})",
                           rules());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->intent, "GET_ORDER_INFORMATION");
  EXPECT_DOUBLE_EQ(r->confidence, 0.93);
  EXPECT_EQ(r->action, next_action::call_tool);
  EXPECT_EQ(r->tool_name, "get_order");
  EXPECT_EQ(r->tool_args["order_id"], "124");
  EXPECT_EQ(r->origin, "llm");
  EXPECT_TRUE(r->slot_to_request.empty());
}

TEST(llm_route, a_slot_question_needs_a_known_slot) {
  auto ok = parse_llm_route(R"({"intent":"REFUND_ORDER","confidence":0.8,
    "next_action":"ask_for_slot","slot_to_request":"order_id"})",
                            rules());
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->slot_to_request, "order_id");
  std::string why;
  EXPECT_FALSE(parse_llm_route(R"({"intent":"REFUND_ORDER","confidence":0.8,
    "next_action":"ask_for_slot","slot_to_request":"shoe_size"})",
                               rules(), &why));
  EXPECT_EQ(why, "ask_for_slot without a known slot");
}

TEST(llm_route, malformed_routes_are_refused_with_a_reason) {
  struct bad_case {
    const char* arguments;
    const char* why;
  };
  for (auto [arguments, reason] : std::initializer_list<bad_case>{
         {"not json", "not a JSON object"},
         {"[1,2]", "not a JSON object"},
         {R"({"intent":"DANCE","confidence":1,"next_action":"respond"})",
          "unknown intent"},
         {R"({"intent":"GREETING","next_action":"respond"})",
          "no confidence"},
         {R"({"intent":"GREETING","confidence":"high","next_action":"respond"})",
          "no confidence"},
         {R"({"intent":"GREETING","confidence":1,"next_action":"dance"})",
          "unknown next_action"},
         {R"({"intent":"GREETING","confidence":1,"next_action":"call_tool"})",
          "call_tool without a tool"},
         {R"({"intent":"GREETING","confidence":1,"next_action":"respond",
             "tool_args":[1]})",
          "tool_args must be an object"},
         {R"({"intent":"GREETING","confidence":1,"next_action":"respond",
             "tool_name":7})",
          "slot_to_request and tool_name must be strings"}}) {
    std::string why;
    EXPECT_FALSE(parse_llm_route(arguments, rules(), &why)) << arguments;
    EXPECT_EQ(why, reason) << arguments;
  }
}

TEST(llm_route, low_confidence_goes_to_the_rules) {
  std::string why;
  EXPECT_FALSE(parse_llm_route(
    R"({"intent":"GREETING","confidence":0.2,"next_action":"respond"})",
    rules(), &why));
  EXPECT_EQ(why, "confidence below min_llm_confidence");
  // Out-of-range confidence is clamped, not trusted beyond 1.
  auto high = parse_llm_route(
    R"({"intent":"GREETING","confidence":7,"next_action":"respond"})",
    rules());
  ASSERT_TRUE(high);
  EXPECT_DOUBLE_EQ(high->confidence, 1.0);
}

TEST(llm_route, the_route_schema_accepts_what_to_json_writes) {
  tool_catalog catalog;
  catalog.add({"route", "routes a message", route_tool_parameters()});
  route r;
  r.intent = "REFUND_ORDER";
  r.confidence = 0.7;
  r.action = next_action::ask_for_slot;
  r.slot_to_request = "order_id";
  auto doc = to_json(r);
  doc.erase("origin"); // ours, not the tool's
  EXPECT_EQ(catalog.check("route", doc), std::nullopt) << doc.dump();
  doc["intent"] = "DANCE";
  EXPECT_NE(catalog.check("route", doc), std::nullopt);
}

} // namespace
} // namespace parley::agent
