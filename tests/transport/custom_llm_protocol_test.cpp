#include "transport/custom_llm_protocol.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <string>

using namespace parley::llm;
using namespace parley::llm::custom;
using json = nlohmann::json;

namespace {

json parsed(const std::string& text) {
  auto doc = json::parse(text, nullptr, false);
  EXPECT_TRUE(doc.is_object()) << text;
  return doc;
}

template <class T>
T as(const frame& f) {
  if (auto value = std::get_if<T>(&f))
    return *value;
  if (auto bad = std::get_if<malformed>(&f))
    ADD_FAILURE() << "got malformed: " << bad->reason;
  else if (auto err = std::get_if<error_reply>(&f))
    ADD_FAILURE() << "got error reply: " << err->message;
  else
    ADD_FAILURE() << "got alternative " << f.index();
  return {};
}

std::string malformed_reason(std::string_view text) {
  auto f = parse_frame(text);
  if (auto bad = std::get_if<malformed>(&f))
    return bad->reason;
  ADD_FAILURE() << text << ": expected malformed, got alternative "
                << f.index();
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

// -- requests -----------------------------------------------------------------

TEST(custom_llm_request, shape_of_a_request) {
  request req;
  req.id = "r-1";
  req.message = "Where is order A-17?";
  req.model = "support-7b";
  req.sql_mode = true;
  req.session_context = {{"session_id", 42}, {"intent", "order_status"}};
  req.settings.max_tokens = 800;
  req.settings.temperature = 0.2;
  req.settings.stream = true;
  auto doc = parsed(build_request(req));
  EXPECT_EQ(doc,
            json({{"id", "r-1"},
                  {"message", "Where is order A-17?"},
                  {"model", "support-7b"},
                  {"metadata",
                   {{"sql_mode", true},
                    {"advanced_ai", false},
                    {"session_context",
                     {{"session_id", 42}, {"intent", "order_status"}}}}},
                  {"settings",
                   {{"max_tokens", 800},
                    {"temperature", 0.2},
                    {"stream", true}}}}));
}

TEST(custom_llm_request, defaults_match_the_seed) {
  request req;
  req.id = "r-2";
  req.message = "hi";
  req.model = "custom-model";
  auto doc = parsed(build_request(req));
  // The seed's example: max_tokens 4000, temperature 0.7, stream false,
  // session_context {}.
  EXPECT_EQ(doc["settings"]["max_tokens"], 4000);
  EXPECT_DOUBLE_EQ(doc["settings"]["temperature"].get<double>(), 0.7);
  EXPECT_EQ(doc["settings"]["stream"], false);
  EXPECT_EQ(doc["metadata"]["session_context"], json::object());
  EXPECT_FALSE(doc["metadata"].contains("tool_results"));
  EXPECT_FALSE(doc["metadata"].contains("health_check"));
}

TEST(custom_llm_request, tool_results) {
  request req;
  req.id = "r-3";
  req.message = "";
  req.tool_results.push_back(
    {"call_0", "get_order", R"({"status":"shipped"})"});
  auto doc = parsed(build_request(req));
  EXPECT_EQ(doc["metadata"]["tool_results"],
            json::array({{{"tool_call_id", "call_0"},
                          {"name", "get_order"},
                          {"content", R"({"status":"shipped"})"}}}));
}

TEST(custom_llm_request, tools_go_out_as_given) {
  json tools = json::array(
    {{{"type", "function"},
      {"function",
       {{"name", "get_order"},
        {"description", "Looks up an order \"as is\""},
        {"parameters",
         {{"type", "object"},
          {"properties", {{"order_id", {{"type", "string"}}}}}}}}}}});
  request req;
  req.id = "r-4";
  req.message = "where is A-17";
  req.model = "m";
  req.session_context = {{"session_id", 7}};
  req.tools = tools.dump();
  req.tool_choice = "route";
  req.system_prompt = "Route it.";
  req.tool_results.push_back({"call_0", "get_order", "{}"});
  auto text = build_request(req);
  // The spliced text is exactly what dumping the whole document gives.
  json whole = {{"id", "r-4"},
                {"message", "where is A-17"},
                {"model", "m"},
                {"metadata",
                 {{"sql_mode", false},
                  {"advanced_ai", false},
                  {"session_context", {{"session_id", 7}}},
                  {"tool_results",
                   json::array({{{"tool_call_id", "call_0"},
                                 {"name", "get_order"},
                                 {"content", "{}"}}})},
                  {"tool_choice", "route"},
                  {"system_prompt", "Route it."},
                  {"tools", tools}}},
                {"settings", {{"max_tokens", 4000},
                              {"temperature", 0.7},
                              {"stream", false}}}};
  EXPECT_EQ(text, whole.dump());
  // No tools, or an empty array: neither tools nor tool_choice.
  for (const char* none : {"", "[]"}) {
    req.tools = none;
    auto doc = parsed(build_request(req));
    EXPECT_FALSE(doc["metadata"].contains("tools")) << none;
    EXPECT_FALSE(doc["metadata"].contains("tool_choice")) << none;
  }
}

TEST(custom_llm_request, health_check) {
  auto doc = parsed(build_health_request("h-1", "support-7b"));
  EXPECT_EQ(doc["id"], "h-1");
  EXPECT_EQ(doc["message"], "ping");
  EXPECT_EQ(doc["model"], "support-7b");
  EXPECT_EQ(doc["metadata"]["health_check"], true);
  EXPECT_EQ(doc["settings"]["stream"], false);
}

TEST(custom_llm_request, cancel) {
  EXPECT_EQ(parsed(build_cancel("r-9")),
            json({{"id", "r-9"}, {"cancel", true}}));
}

TEST(custom_llm_request, invalid_utf8_and_bad_numbers_do_not_throw) {
  request req;
  req.id = "r-\xC3";
  req.message = "caf\xE9";
  req.settings.temperature = std::nan("");
  auto doc = parsed(build_request(req));
  EXPECT_EQ(doc["message"], "caf\xEF\xBF\xBD");
  EXPECT_FALSE(doc["settings"].contains("temperature"));
}

// -- replies ------------------------------------------------------------------

TEST(custom_llm_reply, seed_final_reply) {
  auto reply = as<final_reply>(parse_frame(
    R"({"id":"r-1","response":"LLM generated response","tokens_used":150,)"
    R"("model":"your-model-name","finish_reason":"completed","metadata":{}})"));
  EXPECT_EQ(reply.id, "r-1");
  EXPECT_EQ(reply.response, "LLM generated response");
  EXPECT_EQ(reply.tokens_used, 150);
  EXPECT_EQ(reply.model, "your-model-name");
  EXPECT_EQ(reply.finish_reason, "completed");
  EXPECT_EQ(reply.metadata, "{}");
  EXPECT_TRUE(reply.tool_calls.empty());
}

TEST(custom_llm_reply, defaults) {
  auto reply = as<final_reply>(parse_frame(R"({"id":"r","response":"ok"})"));
  EXPECT_EQ(reply.tokens_used, 0);
  EXPECT_EQ(reply.model, "");
  EXPECT_EQ(reply.finish_reason, "completed");
  EXPECT_EQ(reply.metadata, "{}");
  // Nulls are absent fields.
  reply = as<final_reply>(parse_frame(
    R"({"id":"r","response":"ok","tokens_used":null,"model":null,)"
    R"("finish_reason":null,"metadata":null,"error":null})"));
  EXPECT_EQ(reply.finish_reason, "completed");
  EXPECT_EQ(reply.response, "ok");
  reply = as<final_reply>(parse_frame(
    R"({"id":"r","response":"ok","finish_reason":"","error":false})"));
  EXPECT_EQ(reply.finish_reason, "completed");
}

TEST(custom_llm_reply, legacy_content_and_usage) {
  auto reply = as<final_reply>(parse_frame(
    R"({"id":"r","content":"legacy text","usage":{"total_tokens":77}})"));
  EXPECT_EQ(reply.response, "legacy text");
  EXPECT_EQ(reply.tokens_used, 77);
  // `response` and `tokens_used` win when both spellings are there.
  reply = as<final_reply>(parse_frame(
    R"({"id":"r","response":"new","content":"old","tokens_used":5,)"
    R"("usage":{"total_tokens":77}})"));
  EXPECT_EQ(reply.response, "new");
  EXPECT_EQ(reply.tokens_used, 5);
  // Usage without a total.
  reply = as<final_reply>(parse_frame(
    R"({"id":"r","response":"x","usage":{"prompt_tokens":3}})"));
  EXPECT_EQ(reply.tokens_used, 0);
  // A Python server's float.
  reply = as<final_reply>(parse_frame(
    R"({"id":"r","response":"x","tokens_used":150.0})"));
  EXPECT_EQ(reply.tokens_used, 150);
}

TEST(custom_llm_reply, integer_ids_become_text) {
  EXPECT_EQ(as<final_reply>(parse_frame(R"({"id":42,"response":"x"})")).id,
            "42");
  EXPECT_EQ(as<delta>(parse_frame(R"({"id":-7,"delta":"x"})")).id, "-7");
  EXPECT_EQ(as<final_reply>(parse_frame(
                              R"({"id":18446744073709551615,"response":"x"})"))
              .id,
            "18446744073709551615");
  EXPECT_EQ(as<error_reply>(parse_frame(R"({"id":3,"error":"no"})")).id, "3");
}

TEST(custom_llm_reply, metadata_is_kept_as_json_text) {
  auto reply = as<final_reply>(parse_frame(
    R"({"id":"r","response":"x",)"
    R"("metadata":{"sources":["faq.md"],"score":0.5}})"));
  EXPECT_EQ(json::parse(reply.metadata),
            json({{"sources", {"faq.md"}}, {"score", 0.5}}));
}

TEST(custom_llm_reply, tool_calls_in_metadata) {
  auto reply = as<final_reply>(parse_frame(R"({
    "id": "r", "response": "", "finish_reason": "tool_calls",
    "metadata": {"tool_calls": [
      {"id": "t1", "name": "get_order", "arguments": {"order_id": "A-17"}},
      {"name": "knowledge_search", "arguments": "{\"query\":\"refund\"}"},
      {"id": 9, "type": "function",
       "function": {"name": "ping", "arguments": ""}}
    ]}})"));
  EXPECT_EQ(reply.finish_reason, "tool_calls");
  ASSERT_EQ(reply.tool_calls.size(), 3u);
  EXPECT_EQ(reply.tool_calls[0].id, "t1");
  EXPECT_EQ(reply.tool_calls[0].name, "get_order");
  EXPECT_EQ(json::parse(reply.tool_calls[0].arguments),
            json({{"order_id", "A-17"}}));
  EXPECT_EQ(reply.tool_calls[1].id, "call_1");
  EXPECT_EQ(reply.tool_calls[1].arguments, R"({"query":"refund"})");
  EXPECT_EQ(reply.tool_calls[2].id, "9");
  EXPECT_EQ(reply.tool_calls[2].name, "ping");
  EXPECT_EQ(reply.tool_calls[2].arguments, "{}");
  // With tool calls, the text may be missing altogether.
  reply = as<final_reply>(parse_frame(
    R"({"id":"r","metadata":{"tool_calls":[{"name":"f"}]}})"));
  EXPECT_EQ(reply.response, "");
  ASSERT_EQ(reply.tool_calls.size(), 1u);
}

TEST(custom_llm_reply, deltas) {
  auto piece = as<delta>(parse_frame(R"({"id":"r-1","delta":"Hel"})"));
  EXPECT_EQ(piece.id, "r-1");
  EXPECT_EQ(piece.text, "Hel");
  EXPECT_EQ(as<delta>(parse_frame(R"({"id":"r-1","delta":""})")).text, "");
}

TEST(custom_llm_reply, errors) {
  auto err = as<error_reply>(
    parse_frame(R"({"id":"r","error":"model overloaded"})"));
  EXPECT_EQ(err.id, "r");
  EXPECT_EQ(err.message, "model overloaded");
  err = as<error_reply>(parse_frame(
    R"({"id":"r","error":{"message":"context too long","code":"ctx"}})"));
  EXPECT_EQ(err.message, "context too long");
  err = as<error_reply>(parse_frame(R"({"id":"r","error":{"code":"ctx"}})"));
  EXPECT_EQ(err.message, "ctx");
  err = as<error_reply>(parse_frame(R"({"id":"r","error":true})"));
  EXPECT_FALSE(err.message.empty());
  // An error wins over a response in the same frame.
  err = as<error_reply>(
    parse_frame(R"({"id":"r","response":"x","error":"e"})"));
  EXPECT_EQ(err.message, "e");
  // An error about no request in particular.
  err = as<error_reply>(parse_frame(R"({"error":"invalid JSON received"})"));
  EXPECT_EQ(err.id, "");
  EXPECT_EQ(err.message, "invalid JSON received");
  // Long messages are cut.
  json long_error = {{"id", "r"}, {"error", std::string(5000, 'e')}};
  err = as<error_reply>(parse_frame(long_error.dump()));
  EXPECT_LE(err.message.size(), max_failure_message_bytes + 3);
}

TEST(custom_llm_reply, round_trip_of_ids) {
  // What Parley sends, a server echoes; the parsed id matches the sent one.
  request req;
  req.id = "parley-17-3";
  req.message = "hello";
  auto sent = parsed(build_request(req));
  json reply = {{"id", sent["id"]}, {"response", "hi"}, {"tokens_used", 3}};
  EXPECT_EQ(as<final_reply>(parse_frame(reply.dump())).id, req.id);
  json piece = {{"id", sent["id"]}, {"delta", "h"}};
  EXPECT_EQ(as<delta>(parse_frame(piece.dump())).id, req.id);
  auto cancel = parsed(build_cancel(req.id));
  json cancelled = {{"id", cancel["id"]}, {"error", "cancelled"}};
  EXPECT_EQ(as<error_reply>(parse_frame(cancelled.dump())).id, req.id);
}

TEST(custom_llm_reply, malformed_frames) {
  struct row {
    const char* text;
    const char* reason_part;
  };
  const row rows[] = {
    {"", "not valid JSON"},
    {"LLM generated response", "not valid JSON"},
    {"{\"id\":\"r\",", "not valid JSON"},
    {"[\"r\",\"x\"]", "not a JSON object"},
    {"42", "not a JSON object"},
    {"null", "not a JSON object"},
    {"{\"response\":\"x\"}", "'id' is missing"},
    {"{\"id\":null,\"response\":\"x\"}", "'id' is missing"},
    {"{\"id\":1.5,\"response\":\"x\"}", "'id'"},
    {"{\"id\":true,\"response\":\"x\"}", "'id'"},
    {"{\"id\":[\"r\"],\"response\":\"x\"}", "'id'"},
    {"{\"id\":{},\"error\":\"x\"}", "'id'"},
    {"{\"id\":\"\",\"response\":\"x\"}", "'id' is empty"},
    {"{\"id\":\"r\"}", "neither"},
    {"{\"id\":\"r\",\"tokens_used\":5}", "neither"},
    {"{\"id\":\"r\",\"response\":5}", "'response'"},
    {"{\"id\":\"r\",\"response\":{\"text\":\"x\"}}", "'response'"},
    {"{\"id\":\"r\",\"content\":[\"x\"]}", "'content'"},
    {"{\"id\":\"r\",\"delta\":5}", "'delta'"},
    {"{\"id\":\"r\",\"response\":\"x\",\"tokens_used\":-1}", "'tokens_used'"},
    {"{\"id\":\"r\",\"response\":\"x\",\"tokens_used\":\"150\"}",
     "'tokens_used'"},
    {"{\"id\":\"r\",\"response\":\"x\",\"tokens_used\":1.5}", "'tokens_used'"},
    {"{\"id\":\"r\",\"response\":\"x\",\"tokens_used\":1e400}",
     "not valid JSON"},
    {"{\"id\":\"r\",\"response\":\"x\",\"usage\":3}", "'usage'"},
    {"{\"id\":\"r\",\"response\":\"x\",\"usage\":{\"total_tokens\":\"3\"}}",
     "'usage.total_tokens'"},
    {"{\"id\":\"r\",\"response\":\"x\",\"model\":1}", "'model'"},
    {"{\"id\":\"r\",\"response\":\"x\",\"finish_reason\":{}}",
     "'finish_reason'"},
    {"{\"id\":\"r\",\"response\":\"x\",\"metadata\":\"{}\"}", "'metadata'"},
    {"{\"id\":\"r\",\"response\":\"x\",\"metadata\":{\"tool_calls\":{}}}",
     "'metadata.tool_calls'"},
    {"{\"id\":\"r\",\"response\":\"x\",\"metadata\":{\"tool_calls\":[1]}}",
     "tool_calls[0]"},
    {"{\"id\":\"r\",\"metadata\":{\"tool_calls\":[{\"arguments\":{}}]}}",
     "tool_calls[0].name"},
    {"{\"id\":\"r\",\"metadata\":{\"tool_calls\":[{\"name\":\"f\","
     "\"arguments\":\"[1]\"}]}}",
     "not a JSON object"},
    {"{\"id\":\"r\",\"metadata\":{\"tool_calls\":[{\"name\":\"f\","
     "\"arguments\":\"{\\\"a\\\":\"}]}}",
     "not valid JSON"},
    {"{\"id\":\"r\",\"metadata\":{\"tool_calls\":[{\"name\":\"f\","
     "\"arguments\":7}]}}",
     ".arguments"},
    {"{\"id\":\"r\",\"metadata\":{\"tool_calls\":[{\"name\":\"f\","
     "\"function\":3}]}}",
     ".function"},
    {"{\"id\":\"r\",\"metadata\":{\"tool_calls\":[{\"id\":[],"
     "\"name\":\"f\"}]}}",
     ".id"},
  };
  for (const auto& r : rows) {
    auto reason = malformed_reason(r.text);
    EXPECT_TRUE(contains(reason, r.reason_part))
      << r.text << " gave: " << reason;
  }
}

TEST(custom_llm_reply, overlong_id_is_malformed) {
  json frame = {{"id", std::string(max_id_bytes + 1, 'i')}, {"response", "x"}};
  EXPECT_TRUE(contains(malformed_reason(frame.dump()), "longer than"));
  frame["id"] = std::string(max_id_bytes, 'i');
  EXPECT_EQ(as<final_reply>(parse_frame(frame.dump())).id.size(), max_id_bytes);
}

TEST(custom_llm_reply, deep_nesting_is_refused) {
  std::string deep = "{\"id\":\"r\",\"response\":\"x\",\"metadata\":{\"a\":"
                     + std::string(200000, '[') + std::string(200000, ']')
                     + "}}";
  EXPECT_TRUE(contains(malformed_reason(deep), "nests deeper"));
  // Nesting within the bound is fine.
  std::string ok = "{\"id\":\"r\",\"response\":\"x\",\"metadata\":{\"a\":"
                   + std::string(50, '[') + std::string(50, ']') + "}}";
  EXPECT_EQ(json::parse(as<final_reply>(parse_frame(ok)).metadata)["a"].size(),
            1u);
}

TEST(custom_llm_reply, invalid_utf8_frame_is_malformed) {
  EXPECT_TRUE(contains(malformed_reason("{\"id\":\"r\",\"response\":\"\xFF\"}"),
                       "not valid JSON"));
}

TEST(custom_llm_reply, a_bad_frame_names_its_request_when_it_can) {
  // The actor gives that request up at once instead of waiting for it.
  auto bad_delta = parse_frame(R"({"id":"r7","delta":42})");
  ASSERT_TRUE(std::holds_alternative<malformed>(bad_delta));
  EXPECT_EQ(std::get<malformed>(bad_delta).id, "r7");
  auto bad_final = parse_frame(R"({"id":9,"response":[]})");
  ASSERT_TRUE(std::holds_alternative<malformed>(bad_final));
  EXPECT_EQ(std::get<malformed>(bad_final).id, "9");
  auto no_id = parse_frame(R"({"response":"hi"})");
  ASSERT_TRUE(std::holds_alternative<malformed>(no_id));
  EXPECT_TRUE(std::get<malformed>(no_id).id.empty());
  auto not_json = parse_frame("garbage");
  ASSERT_TRUE(std::holds_alternative<malformed>(not_json));
  EXPECT_TRUE(std::get<malformed>(not_json).id.empty());
}
