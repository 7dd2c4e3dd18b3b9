// The mock LLM's protocol helpers (tools/mock_llm/wire.hpp) and its --agent
// decisions (agent_mode.hpp), without sockets.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tools/mock_llm/agent_mode.hpp"
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

TEST(mock_llm_wire, tool_context_of_an_openai_request) {
  auto req = parse_chat_request(R"({"messages":[
    {"role":"user","content":"a"},
    {"role":"assistant","content":null,"tool_calls":[
      {"id":"c0","type":"function","function":{"name":"old","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"c0","content":"before the last user"},
    {"role":"user","content":"b"},
    {"role":"assistant","content":null,"tool_calls":[
      {"id":"c1","type":"function","function":{"name":"get_order","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"c1","content":"one"},
    {"role":"tool","tool_call_id":"unknown","name":"named","content":"two"}],
    "tools":[{"type":"function","function":{"name":"get_order"}},{"name":"bare"}],
    "tool_choice":{"type":"function","function":{"name":"route"}}})");
  ASSERT_TRUE(req.error.empty()) << req.error;
  EXPECT_EQ(req.tools.offered, (std::vector<std::string>{"get_order", "bare"}));
  EXPECT_EQ(req.tools.choice, "route");
  ASSERT_EQ(req.tools.outputs.size(), 2u);
  EXPECT_EQ(req.tools.outputs[0].name, "get_order");
  EXPECT_EQ(req.tools.outputs[0].content, "one");
  EXPECT_EQ(req.tools.outputs[1].name, "named");
  EXPECT_EQ(parse_chat_request(R"({"messages":[{"role":"user","content":"x"}]})")
              .tools.choice,
            "auto");
}

TEST(mock_llm_wire, tool_context_of_a_websocket_request) {
  auto req = parse_ws_request(R"({"id":1,"message":"m","metadata":{
    "tools":[{"type":"function","function":{"name":"route"}}],
    "tool_choice":"none",
    "tool_results":[{"tool_call_id":"c","name":"get_order","content":"x"},
                    {"name":"knowledge_search","content":{"matches":[]}},
                    "junk"]}})");
  ASSERT_TRUE(req.error.empty()) << req.error;
  EXPECT_EQ(req.tools.offered, (std::vector<std::string>{"route"}));
  EXPECT_EQ(req.tools.choice, "none");
  ASSERT_EQ(req.tools.outputs.size(), 3u);
  EXPECT_EQ(req.tools.outputs[1].name, "knowledge_search");
  EXPECT_EQ(req.tools.outputs[1].content, R"({"matches":[]})");
  EXPECT_EQ(req.tools.outputs[2].name, "");
}

TEST(mock_llm_agent, summaries_of_tool_results) {
  auto summary = [](std::string name, std::string content) {
    return agent_summary(tool_output{std::move(name), std::move(content)});
  };
  EXPECT_EQ(summary("get_order", R"({"order_id":"555","status":"processing",)"
                                 R"("carrier":null})"),
            "order 555 is processing");
  EXPECT_EQ(summary("get_order", R"({"error":"the tool timed out"})"),
            "get_order failed: the tool timed out");
  EXPECT_EQ(summary("knowledge_search", R"({"matches":[]})"),
            "no help article matched");
  EXPECT_EQ(summary("other", "plain text"), "other returned plain text");
  // Unnamed results are recognised by their shape.
  EXPECT_EQ(summary("", R"({"order_id":"777","status":"delivered",)"
                        R"("carrier":"DHL"})"),
            "order 777 is delivered via DHL");
  EXPECT_EQ(agent_output_tool({"", R"({"matches":[{"section":"S"}]})"}),
            "knowledge_search");
}

TEST(mock_llm_agent, keywords_match_word_starts_and_greetings_whole_words) {
  EXPECT_EQ(agent_route("returns?")["intent"], "KNOWLEDGE_QA");
  EXPECT_EQ(agent_route("history lesson")["intent"], "UNKNOWN");
  EXPECT_EQ(agent_route("12 34")["intent"], "UNKNOWN");
  auto needed = agent_needed_tools("order 12 then 98765, shipping?");
  ASSERT_EQ(needed.size(), 2u);
  EXPECT_EQ(json::parse(needed[0].arguments), json({{"order_id", "98765"}}));
  EXPECT_EQ(needed[1].name, "knowledge_search");
  // No tools offered: text, even when the message needs one.
  EXPECT_EQ(agent_answer("order 124", tool_context{}).text,
            "LLM answer: order 124");
  tool_context only_search;
  only_search.offered = {"knowledge_search"};
  EXPECT_FALSE(agent_answer("order 124", only_search).call)
    << "get_order is needed but not offered";
}

} // namespace
