#include "agent/agent_rules.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/config_error.hpp"

namespace parley::agent {
namespace {

using nlohmann::json;

json minimal() {
  return json::parse(R"({
    "slots": {"order_id": {"kind": "number", "min_digits": 3,
                           "prompt": "Which order?"}},
    "intents": [
      {"name": "GREETING", "phrases": ["hi", "Good Morning"],
       "action": "respond", "reply": "Hello"},
      {"name": "GET_ORDER_INFORMATION", "phrases": ["order"],
       "action": "call_tool", "tool": "get_order", "slot": "order_id"}
    ],
    "unknown": {"reply": "Sorry?", "handoff_notice": "Getting a human."}
  })");
}

/// The config_error message for `doc`, or "" if it loads.
std::string error_of(const json& doc) {
  try {
    agent_rules::parse(doc);
    return {};
  } catch (const config_error& err) {
    return err.what();
  }
}

TEST(agent_rules, the_shipped_file_loads) {
  auto rules = agent_rules::load(PARLEY_SOURCE_DIR "/config/agent.json");
  for (const char* name : known_intents) {
    if (std::string{name} != "UNKNOWN") {
      EXPECT_NE(rules.find_intent(name), nullptr) << name;
    }
  }
  EXPECT_NE(rules.find_slot("order_id"), nullptr);
  EXPECT_NE(rules.find_slot("phone_or_email"), nullptr);
  EXPECT_FALSE(rules.reply("order_not_found").empty());
  EXPECT_FALSE(rules.unknown_reply.empty());
}

TEST(agent_rules, phrases_become_lower_case_words) {
  auto rules = agent_rules::parse(minimal());
  const auto* greeting = rules.find_intent("GREETING");
  ASSERT_NE(greeting, nullptr);
  ASSERT_EQ(greeting->phrases.size(), 2u);
  EXPECT_EQ(greeting->phrases[1], (std::vector<std::string>{"good", "morning"}));
  EXPECT_EQ(rules.find_slot("order_id")->reprompt, "Which order?");
  EXPECT_EQ(rules.settings.max_tool_rounds, 3); // the default
}

TEST(agent_rules, mistakes_name_the_field) {
  auto doc = minimal();
  doc["intents"][1]["slot"] = "parcel";
  EXPECT_NE(error_of(doc).find("intents[1].slot"), std::string::npos);
  doc = minimal();
  doc["intents"][0]["name"] = "DANCE";
  EXPECT_NE(error_of(doc).find("intents[0].name"), std::string::npos);
  doc = minimal();
  doc["intents"][1].erase("tool");
  EXPECT_NE(error_of(doc).find("\"tool\""), std::string::npos);
  doc = minimal();
  doc["settings"] = {{"min_llm_confidence", 2}};
  EXPECT_NE(error_of(doc).find("settings.min_llm_confidence"),
            std::string::npos);
  doc = minimal();
  doc["slots"]["order_id"]["kind"] = "colour";
  EXPECT_NE(error_of(doc).find("slots.order_id.kind"), std::string::npos);
  doc = minimal();
  doc["intents"].push_back(doc["intents"][0]);
  EXPECT_NE(error_of(doc).find("twice"), std::string::npos);
  doc = minimal();
  doc.erase("unknown");
  EXPECT_NE(error_of(doc).find("unknown"), std::string::npos);
  EXPECT_EQ(error_of(minimal()), "");
}

TEST(agent_rules, a_missing_or_broken_file_is_one_clear_error) {
  try {
    agent_rules::load("/nonexistent/agent.json");
    FAIL() << "loaded a file that does not exist";
  } catch (const config_error& err) {
    EXPECT_NE(std::string{err.what()}.find("/nonexistent/agent.json"),
              std::string::npos);
  }
}

TEST(words_of, splits_like_the_phrases) {
  EXPECT_EQ(words_of("Hasn't ARRIVED, order#124!"),
            (std::vector<std::string>{"hasn", "t", "arrived", "order", "124"}));
  EXPECT_EQ(words_of("Größe"), (std::vector<std::string>{"größe"}));
  EXPECT_TRUE(words_of(" ,.!? ").empty());
}

TEST(fill_template, fills_known_names_and_keeps_the_rest) {
  EXPECT_EQ(fill_template("Order {id} is {status}; {other} {", {{"id", "124"},
                                                             {"status", "ok"}}),
            "Order 124 is ok; {other} {");
  EXPECT_EQ(fill_template("", {}), "");
}

} // namespace
} // namespace parley::agent
