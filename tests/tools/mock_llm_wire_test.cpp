// The mock LLM's protocol helpers (tools/mock_llm/wire.hpp), without sockets.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tools/mock_llm/wire.hpp"

using namespace parley::mock_llm;
using json = nlohmann::json;

namespace {

std::string joined(const std::vector<std::string>& pieces) {
  std::string text;
  for (const auto& piece : pieces)
    text += piece;
  return text;
}

TEST(mock_llm_wire, split_chunks_concatenates_to_the_text) {
  auto pieces = split_chunks("Echo: hello there", 4);
  EXPECT_EQ(pieces.size(), 4u);
  EXPECT_EQ(joined(pieces), "Echo: hello there");
  for (const auto& piece : pieces)
    EXPECT_FALSE(piece.empty());
}

TEST(mock_llm_wire, split_chunks_never_cuts_a_utf8_sequence) {
  std::string text = "h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93\xF0\x9F\x98\x80";
  for (std::size_t n = 1; n <= 20; ++n) {
    auto pieces = split_chunks(text, n);
    EXPECT_EQ(joined(pieces), text);
    for (const auto& piece : pieces) {
      ASSERT_FALSE(piece.empty());
      EXPECT_NE(static_cast<unsigned char>(piece[0]) & 0xC0, 0x80) << n;
      // Valid UTF-8 on its own, or nlohmann would refuse to dump it strictly.
      EXPECT_NO_THROW(json(piece).dump()) << n;
    }
  }
}

TEST(mock_llm_wire, split_chunks_gives_fewer_pieces_for_short_text) {
  EXPECT_EQ(split_chunks("ab", 5), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(split_chunks("", 3).empty());
}

TEST(mock_llm_wire, count_tokens_counts_words) {
  EXPECT_EQ(count_tokens(""), 0u);
  EXPECT_EQ(count_tokens("  one two\tthree\n"), 3u);
}

TEST(mock_llm_wire, odd_websocket_frames_do_not_throw) {
  for (auto text : {"[]", "{\"cancel\":1}", "{\"message\":3}",
                    "{\"metadata\":{\"health_check\":\"yes\"}}"}) {
    ws_request req;
    EXPECT_NO_THROW(req = parse_ws_request(text)) << text;
    EXPECT_FALSE(req.error.empty()) << text;
  }
  // Fields of the wrong type are ignored, not fatal.
  for (auto text :
       {R"({"id":1,"message":"m","metadata":[],"settings":{"stream":"yes"}})",
        R"({"id":1,"message":"m","metadata":{"tool_results":null},"settings":5})"}) {
    auto ok = parse_ws_request(text);
    EXPECT_TRUE(ok.error.empty()) << ok.error;
    EXPECT_FALSE(ok.stream);
    EXPECT_TRUE(ok.tool_results.is_null());
    EXPECT_EQ(ok.model, "mock-model");
  }
}

TEST(mock_llm_wire, tool_result_counts_only_after_the_last_user_message) {
  auto req = parse_chat_request(R"({"messages":[
    {"role":"user","content":"a"},
    {"role":"tool","tool_call_id":"c","content":"old result"},
    {"role":"user","content":[{"type":"text","text":"b"}]}],
    "tools":[{"type":"function"}]})");
  ASSERT_TRUE(req.error.empty()) << req.error;
  EXPECT_EQ(req.user_text, "b");
  EXPECT_FALSE(req.tool_result);
  EXPECT_TRUE(req.tools_offered);
  EXPECT_FALSE(req.stream);
}

TEST(mock_llm_wire, tool_results_text_joins_contents) {
  EXPECT_EQ(tool_results_text(json::parse(
              R"([{"content":"one"},{"result":{"n":2}}])")),
            "one\n{\"n\":2}");
  EXPECT_EQ(tool_results_text(json::parse(R"({"x":1})")), "{\"x\":1}");
}

} // namespace
