#include "agent/conversation_state.hpp"

#include <gtest/gtest.h>

namespace parley::agent {
namespace {

TEST(conversation_state, round_trips) {
  conversation_state state{"REFUND_ORDER", "order_id", 2};
  auto back = conversation_state::parse(state.to_json_text());
  EXPECT_EQ(back.intent, "REFUND_ORDER");
  EXPECT_EQ(back.pending_slot, "order_id");
  EXPECT_EQ(back.low_confidence_streak, 2);
}

TEST(conversation_state, bad_payloads_read_as_empty) {
  for (auto text : {"", "null", "[1]", "{", R"({"intent":7})"}) {
    auto state = conversation_state::parse(text);
    EXPECT_EQ(state.intent, "") << text;
    EXPECT_EQ(state.pending_slot, "") << text;
    EXPECT_EQ(state.low_confidence_streak, 0) << text;
  }
  EXPECT_EQ(conversation_state::parse(R"({"low_confidence_streak":-4})")
              .low_confidence_streak,
            0);
  EXPECT_EQ(conversation_state::parse(R"({"low_confidence_streak":1e9})")
              .low_confidence_streak,
            0); // not an integer
  EXPECT_EQ(conversation_state::parse(R"({"low_confidence_streak":99999})")
              .low_confidence_streak,
            1000);
}

} // namespace
} // namespace parley::agent
