#include "agent/answer_composer.hpp"

#include <gtest/gtest.h>

namespace parley::agent {
namespace {

using nlohmann::json;

class answer_composer_test : public ::testing::Test {
protected:
  std::shared_ptr<const agent_rules> rules = std::make_shared<agent_rules>(
    agent_rules::load(PARLEY_SOURCE_DIR "/config/agent.json"));
  answer_composer composer{rules};
};

TEST_F(answer_composer_test, a_shipped_order_names_carrier_and_tracking) {
  auto text = composer.order_answer(
    "GET_ORDER_INFORMATION",
    {{"order_id", "124"},
     {"status", "shipped"},
     {"carrier", "UPS"},
     {"tracking", "1Z999AA10123456784"},
     {"items", {{{"name", "Desk lamp"}, {"quantity", 2}}}}});
  EXPECT_NE(text.find("124"), std::string::npos) << text;
  EXPECT_NE(text.find("UPS"), std::string::npos) << text;
  EXPECT_NE(text.find("1Z999AA10123456784"), std::string::npos) << text;
  EXPECT_NE(text.find("2 × Desk lamp"), std::string::npos) << text;
  EXPECT_EQ(text.find('{'), std::string::npos) << "unfilled: " << text;
}

TEST_F(answer_composer_test, unknown_orders_and_refunds) {
  auto missing = composer.order_answer(
    "GET_ORDER_INFORMATION", {{"order_id", "999"}, {"error", "not found"}});
  EXPECT_NE(missing.find("999"), std::string::npos) << missing;
  EXPECT_NE(missing.find("couldn't find"), std::string::npos) << missing;
  auto processing = composer.order_answer(
    "REFUND_ORDER", {{"order_id", "555"}, {"status", "processing"}});
  EXPECT_NE(processing.find("555"), std::string::npos) << processing;
  EXPECT_NE(processing.find("cancel"), std::string::npos) << processing;
  auto shipped = composer.order_answer(
    "REFUND_ORDER", {{"order_id", "124"}, {"status", "shipped"}});
  EXPECT_NE(shipped.find("30 days"), std::string::npos) << shipped;
}

TEST_F(answer_composer_test, knowledge_answers_quote_the_best_section) {
  json result{{"query", "returns"},
              {"top_k", 3},
              {"matches",
               {{{"source", "returns.md"},
                 {"title", "Returns and refunds"},
                 {"section", "Return policy"},
                 {"content", "You can return items within 30 days."},
                 {"score", 7.5}},
                {{"source", "shipping.md"},
                 {"title", "Shipping"},
                 {"section", "Return shipping"},
                 {"content", "..."},
                 {"score", 2.0}},
                {{"source", "misc.md"},
                 {"title", "Misc"},
                 {"section", "Weak"},
                 {"content", "..."},
                 {"score", 0.1}}}}};
  bool found = false;
  auto text = composer.knowledge_answer(result, found);
  EXPECT_TRUE(found);
  EXPECT_NE(text.find("Returns and refunds"), std::string::npos) << text;
  EXPECT_NE(text.find("within 30 days"), std::string::npos) << text;
  EXPECT_NE(text.find("Shipping › Return shipping"), std::string::npos)
    << text;
  EXPECT_EQ(text.find("Weak"), std::string::npos) << text;
}

TEST_F(answer_composer_test, related_entries_are_named_once_and_never_twice) {
  // An introduction's heading is its document's title: named once, and
  // listed once though two files and two ranks have it; the quoted section
  // is not listed again.
  auto match = [](const char* source, const char* title, const char* section,
                  double score) {
    return json{{"source", source},
                {"title", title},
                {"section", section},
                {"content", "Text."},
                {"score", score}};
  };
  json result{
    {"matches",
     {match("returns.md", "Returns and Refunds", "Return policy", 7.5),
      match("returns.md", "Returns and Refunds", "Returns and Refunds", 3.0),
      match("copy/returns.md", "Returns and Refunds", "returns and refunds",
            2.5),
      match("old/returns.md", "Returns and Refunds", "Return policy", 2.0),
      match("shipping.md", "Shipping", "Return shipping", 1.5)}}};
  bool found = false;
  auto text = composer.knowledge_answer(result, found);
  ASSERT_TRUE(found);
  EXPECT_NE(text.find("**Returns and Refunds** (Return policy)"),
            std::string::npos)
    << text;
  EXPECT_NE(text.find("Related: Returns and Refunds, Shipping › Return "
                      "shipping."),
            std::string::npos)
    << text;
  EXPECT_EQ(text.find("Refunds › "), std::string::npos) << text;
}

TEST_F(answer_composer_test, an_introduction_is_quoted_under_its_title_alone) {
  json result{{"matches",
               {{{"source", "returns.md"},
                 {"title", "Returns and Refunds"},
                 {"section", "Returns and Refunds"},
                 {"content", "Changed your mind?"},
                 {"score", 4.0}}}}};
  bool found = false;
  auto text = composer.knowledge_answer(result, found);
  ASSERT_TRUE(found);
  EXPECT_EQ(text, "Here's what I found in **Returns and Refunds**:\n\n"
                  "Changed your mind?");
}

TEST_F(answer_composer_test, weak_or_no_matches_say_so) {
  bool found = true;
  auto none = composer.knowledge_answer({{"matches", json::array()}}, found);
  EXPECT_FALSE(found);
  EXPECT_EQ(none, rules->reply("knowledge_none"));
  found = true;
  composer.knowledge_answer(
    {{"matches", {{{"title", "t"}, {"section", "s"}, {"score", 0.01}}}}},
    found);
  EXPECT_FALSE(found);
}

TEST_F(answer_composer_test, intents_reply_with_their_own_text) {
  route greeting;
  greeting.intent = "GREETING";
  EXPECT_EQ(composer.reply_for(greeting),
            rules->find_intent("GREETING")->reply);
  route unknown;
  EXPECT_EQ(composer.reply_for(unknown), rules->unknown_reply);
  EXPECT_EQ(composer.slot_prompt("order_id", false),
            rules->find_slot("order_id")->prompt);
  EXPECT_EQ(composer.slot_prompt("order_id", true),
            rules->find_slot("order_id")->reprompt);
}

} // namespace
} // namespace parley::agent
