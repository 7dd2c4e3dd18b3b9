#include "actors/fallback_replies.hpp"

#include <gtest/gtest.h>

namespace parley {
namespace {

TEST(fallback_replies, classifies_by_whole_words) {
  EXPECT_EQ(classify_fallback_topic("Hi!"), fallback_topic::greeting);
  EXPECT_EQ(classify_fallback_topic("good MORNING"), fallback_topic::greeting);
  EXPECT_EQ(classify_fallback_topic("this is odd"), fallback_topic::unknown)
    << "'hi' inside 'this' is no greeting";
  EXPECT_EQ(classify_fallback_topic("thank you so much"),
            fallback_topic::thanks);
  EXPECT_EQ(classify_fallback_topic("hello, thanks!"), fallback_topic::thanks);
  EXPECT_EQ(classify_fallback_topic("ok bye"), fallback_topic::goodbye);
  EXPECT_EQ(classify_fallback_topic("can you help me?"), fallback_topic::help);
  EXPECT_EQ(classify_fallback_topic("¿qué?"), fallback_topic::unknown);
  EXPECT_EQ(classify_fallback_topic("where is my package?"),
            fallback_topic::order);
  EXPECT_EQ(classify_fallback_topic("status of 12345 please"),
            fallback_topic::order);
  EXPECT_EQ(classify_fallback_topic("what is your return policy"),
            fallback_topic::knowledge);
  EXPECT_EQ(classify_fallback_topic("I forgot my password"),
            fallback_topic::knowledge);
  EXPECT_EQ(classify_fallback_topic("call me at 12"), fallback_topic::unknown)
    << "two digits are no order number";
  EXPECT_EQ(classify_fallback_topic(""), fallback_topic::unknown);
}

TEST(fallback_replies, second_greeting_is_answered_as_one) {
  std::vector<chat_turn> none;
  auto first = fallback_reply("hello", none);
  std::vector<chat_turn> history{{"user", "hello"}, {"assistant", first}};
  auto again = fallback_reply("hello", history);
  EXPECT_NE(first, again);
  EXPECT_NE(again.find("again"), std::string::npos);
}

TEST(fallback_replies, repeated_misunderstanding_offers_a_human) {
  std::vector<chat_turn> history;
  auto first = fallback_reply("blorp", history);
  EXPECT_EQ(first.find("agent"), std::string::npos);
  history.push_back({"user", "blorp"});
  history.push_back({"assistant", first});
  auto second = fallback_reply("blorp", history);
  EXPECT_EQ(second.find("agent"), std::string::npos);
  history.push_back({"user", "blorp"});
  history.push_back({"assistant", second});
  auto third = fallback_reply("blorp", history);
  EXPECT_NE(third.find("agent"), std::string::npos) << third;
}

TEST(fallback_replies, limited_mode_is_said_plainly) {
  std::vector<chat_turn> none;
  auto normal = fallback_reply("where is order 555?", none);
  auto limited = fallback_reply("where is order 555?", none, true);
  EXPECT_EQ(normal.find("limited mode"), std::string::npos);
  EXPECT_NE(limited.find("limited mode"), std::string::npos) << limited;
  EXPECT_NE(normal.find("order"), std::string::npos) << normal;
  EXPECT_NE(fallback_reply("what is your warranty policy?", none), normal)
    << "order and knowledge questions get their own answers";
}

TEST(fallback_replies, token_estimate_grows_with_text) {
  EXPECT_EQ(estimate_tokens(""), 0);
  EXPECT_EQ(estimate_tokens("abcd"), 1);
  EXPECT_EQ(estimate_tokens("abcde"), 2);
}

} // namespace
} // namespace parley
