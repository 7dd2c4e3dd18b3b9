#include "transport/openai_protocol.hpp"
#include "transport/sse_parser.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace parley;
using namespace parley::llm;
using namespace parley::llm::openai;
using json = nlohmann::json;

namespace {

json request_json(const chat_request& request) {
  auto text = build_chat_request(request);
  auto doc = json::parse(text, nullptr, false);
  EXPECT_TRUE(doc.is_object()) << text;
  return doc;
}

chat_request minimal_request() {
  chat_request request;
  request.model = "gpt-4o-mini";
  request.history.push_back({"user", "Where is my order?", {}, {}});
  return request;
}

stream_chunk as_chunk(const stream_item& item) {
  if (auto chunk = std::get_if<stream_chunk>(&item))
    return *chunk;
  if (auto bad = std::get_if<malformed>(&item))
    ADD_FAILURE() << "expected a chunk, got malformed: " << bad->reason;
  else
    ADD_FAILURE() << "expected a chunk, got index " << item.index();
  return {};
}

std::string malformed_reason(const stream_item& item) {
  if (auto bad = std::get_if<malformed>(&item))
    return bad->reason;
  ADD_FAILURE() << "expected malformed, got index " << item.index();
  return {};
}

completion as_completion(const completion_result& result) {
  if (auto done = std::get_if<completion>(&result))
    return *done;
  if (auto bad = std::get_if<malformed>(&result))
    ADD_FAILURE() << "expected a completion, got malformed: " << bad->reason;
  else
    ADD_FAILURE() << "expected a completion, got an api error";
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A chunk as OpenAI sends it, around a `delta`.
std::string chunk_data(const json& delta, const json& finish_reason = nullptr) {
  json doc = {{"id", "chatcmpl-1"},
              {"object", "chat.completion.chunk"},
              {"created", 1700000000},
              {"model", "gpt-4o-mini-2024-07-18"},
              {"choices", json::array({{{"index", 0},
                                        {"delta", delta},
                                        {"logprobs", nullptr},
                                        {"finish_reason", finish_reason}}})},
              {"usage", nullptr}};
  return doc.dump();
}

json tool_delta(int index, const char* id, const char* name,
                const char* arguments) {
  json function = {{"arguments", arguments}};
  if (name != nullptr)
    function["name"] = name;
  json call = {{"index", index}, {"function", function}};
  if (id != nullptr) {
    call["id"] = id;
    call["type"] = "function";
  }
  return call;
}

} // namespace

// -- building requests --------------------------------------------------------

TEST(openai_request, minimal_streaming_request) {
  auto doc = request_json(minimal_request());
  EXPECT_EQ(doc["model"], "gpt-4o-mini");
  ASSERT_EQ(doc["messages"].size(), 1u);
  EXPECT_EQ(doc["messages"][0],
            json({{"role", "user"}, {"content", "Where is my order?"}}));
  EXPECT_EQ(doc["stream"], true);
  EXPECT_EQ(doc["stream_options"], json({{"include_usage", true}}));
  // Nothing that was not asked for.
  for (const char* key : {"tools", "tool_choice", "max_tokens", "temperature"})
    EXPECT_FALSE(doc.contains(key)) << key;
}

TEST(openai_request, not_streaming_has_no_stream_options) {
  auto request = minimal_request();
  request.stream = false;
  auto doc = request_json(request);
  EXPECT_EQ(doc["stream"], false);
  EXPECT_FALSE(doc.contains("stream_options"));
}

TEST(openai_request, system_prompt_comes_first) {
  auto request = minimal_request();
  request.system_prompt = "You are Parley's support assistant.";
  auto doc = request_json(request);
  ASSERT_EQ(doc["messages"].size(), 2u);
  EXPECT_EQ(doc["messages"][0],
            json({{"role", "system"},
                  {"content", "You are Parley's support assistant."}}));
  EXPECT_EQ(doc["messages"][1]["role"], "user");
}

TEST(openai_request, max_tokens_and_temperature) {
  auto request = minimal_request();
  request.max_tokens = 512;
  request.temperature = 0.25;
  auto doc = request_json(request);
  EXPECT_EQ(doc["max_tokens"], 512);
  EXPECT_DOUBLE_EQ(doc["temperature"].get<double>(), 0.25);
  request.temperature = std::nan("");
  EXPECT_FALSE(request_json(request).contains("temperature"));
  request.temperature = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(request_json(request).contains("temperature"));
}

TEST(openai_request, tool_call_round_trip_in_history) {
  auto request = minimal_request();
  chat_message call;
  call.role = "assistant";
  call.tool_calls.push_back({"call_1", "get_order", R"({"order_id":"A-17"})"});
  call.tool_calls.push_back(
    {"call_2", "knowledge_search", R"({"query":"refund"})"});
  request.history.push_back(call);
  chat_message result;
  result.role = "tool";
  result.tool_call_id = "call_1";
  result.content = R"({"status":"shipped"})";
  request.history.push_back(result);
  auto doc = request_json(request);
  ASSERT_EQ(doc["messages"].size(), 3u);
  const auto& assistant = doc["messages"][1];
  EXPECT_TRUE(assistant["content"].is_null()); // not ""
  ASSERT_EQ(assistant["tool_calls"].size(), 2u);
  EXPECT_EQ(assistant["tool_calls"][0],
            json({{"id", "call_1"},
                  {"type", "function"},
                  {"function", {{"name", "get_order"},
                                {"arguments", R"({"order_id":"A-17"})"}}}}));
  EXPECT_FALSE(assistant.contains("tool_call_id"));
  EXPECT_EQ(doc["messages"][2],
            json({{"role", "tool"},
                  {"tool_call_id", "call_1"},
                  {"content", R"({"status":"shipped"})"}}));
}

TEST(openai_request, assistant_text_beside_tool_calls_is_kept) {
  auto request = minimal_request();
  chat_message call;
  call.role = "assistant";
  call.content = "Let me check.";
  call.tool_calls.push_back({"call_1", "get_order", "{}"});
  request.history.push_back(call);
  EXPECT_EQ(request_json(request)["messages"][1]["content"], "Let me check.");
}

TEST(openai_request, tools_and_tool_choice_modes) {
  auto request = minimal_request();
  json schema = {{"type", "object"},
                 {"properties", {{"order_id", {{"type", "string"}}}}},
                 {"required", {"order_id"}}};
  request.tools.push_back({"get_order", "Looks up an order", schema});
  request.tools.push_back({"ping", "", nullptr});
  auto doc = request_json(request);
  ASSERT_EQ(doc["tools"].size(), 2u);
  EXPECT_EQ(doc["tools"][0],
            json({{"type", "function"},
                  {"function", {{"name", "get_order"},
                                {"description", "Looks up an order"},
                                {"parameters", schema}}}}));
  // No description, no parameters: both left out.
  EXPECT_EQ(doc["tools"][1],
            json({{"type", "function"}, {"function", {{"name", "ping"}}}}));
  EXPECT_EQ(doc["tool_choice"], "auto");

  request.tool_choice.mode = tool_choice_mode::none;
  EXPECT_EQ(request_json(request)["tool_choice"], "none");
  request.tool_choice.mode = tool_choice_mode::required;
  EXPECT_EQ(request_json(request)["tool_choice"], "required");
  request.tool_choice = tool_choice::forced("get_order");
  EXPECT_EQ(request_json(request)["tool_choice"],
            json({{"type", "function"},
                  {"function", {{"name", "get_order"}}}}));
}

TEST(openai_request, tool_choice_without_tools_is_not_sent) {
  auto request = minimal_request();
  request.tool_choice = tool_choice::forced("get_order");
  auto doc = request_json(request);
  EXPECT_FALSE(doc.contains("tools"));
  EXPECT_FALSE(doc.contains("tool_choice"));
}

TEST(openai_request, invalid_utf8_is_replaced_not_thrown) {
  auto request = minimal_request();
  request.history[0].content = "bad \xFF byte";
  auto doc = request_json(request);
  EXPECT_EQ(doc["messages"][0]["content"], "bad \xEF\xBF\xBD byte");
}

TEST(openai_request, messages_from_chat_history) {
  std::vector<chat_turn> history = {{"user", "hi"},
                                    {"assistant", "hello"},
                                    {"agent", "a human here"}};
  auto messages = messages_from(history);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].role, "user");
  EXPECT_EQ(messages[1].role, "assistant");
  EXPECT_EQ(messages[2].role, "assistant");
  EXPECT_EQ(messages[2].content, "a human here");
  EXPECT_FALSE(messages[2].tool_call_id);
}

// -- streamed chunks ----------------------------------------------------------

TEST(openai_stream, text_deltas_through_the_sse_parser) {
  std::string body;
  for (const auto& data :
       {chunk_data({{"role", "assistant"}, {"content", ""}}),
        chunk_data({{"content", "Your order "}}),
        chunk_data({{"content", "ships "}}),
        chunk_data({{"content", "today. \xE2\x9C\x85"}}),
        chunk_data(json::object(), "stop")})
    body += "data: " + data + "\n\n";
  body += "data: [DONE]\n\n";
  // Cut the body into small pieces, as a socket would.
  sse_parser parser;
  std::string text;
  std::string finish_reason;
  int done = 0;
  for (std::size_t at = 0; at < body.size(); at += 7) {
    auto piece = std::string_view{body}.substr(at, 7);
    for (const auto& event : parser.feed(piece)) {
      auto item = parse_stream_data(event.data);
      if (std::holds_alternative<stream_done>(item)) {
        ++done;
        continue;
      }
      auto chunk = as_chunk(item);
      EXPECT_EQ(chunk.model, "gpt-4o-mini-2024-07-18");
      EXPECT_TRUE(chunk.tool_calls.empty());
      text += chunk.text;
      if (!chunk.finish_reason.empty())
        finish_reason = chunk.finish_reason;
    }
  }
  EXPECT_EQ(text, "Your order ships today. \xE2\x9C\x85");
  EXPECT_EQ(finish_reason, "stop");
  EXPECT_EQ(done, 1);
}

TEST(openai_stream, done_marker) {
  EXPECT_TRUE(std::holds_alternative<stream_done>(parse_stream_data("[DONE]")));
  EXPECT_TRUE(
    std::holds_alternative<stream_done>(parse_stream_data(" [DONE]\n")));
  EXPECT_FALSE(
    std::holds_alternative<stream_done>(parse_stream_data("[DONE")));
  EXPECT_FALSE(
    std::holds_alternative<stream_done>(parse_stream_data("[done]")));
}

TEST(openai_stream, usage_chunk) {
  auto chunk = as_chunk(parse_stream_data(
    R"({"id":"c","object":"chat.completion.chunk","model":"m","choices":[],)"
    R"("usage":{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150,)"
    R"("prompt_tokens_details":{"cached_tokens":0}}})"));
  ASSERT_TRUE(chunk.usage);
  EXPECT_EQ(chunk.usage->prompt_tokens, 120);
  EXPECT_EQ(chunk.usage->completion_tokens, 30);
  EXPECT_EQ(chunk.usage->total_tokens, 150);
  EXPECT_TRUE(chunk.text.empty());
  EXPECT_TRUE(chunk.finish_reason.empty());
}

TEST(openai_stream, usage_total_defaults_to_the_sum) {
  auto chunk = as_chunk(parse_stream_data(
    R"({"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5}})"));
  ASSERT_TRUE(chunk.usage);
  EXPECT_EQ(chunk.usage->total_tokens, 12);
}

TEST(openai_stream, null_usage_and_content_are_absent) {
  auto chunk = as_chunk(parse_stream_data(
    R"({"choices":[{"index":0,"delta":{"content":null,"refusal":null},)"
    R"("finish_reason":null}],"usage":null})"));
  EXPECT_FALSE(chunk.usage);
  EXPECT_EQ(chunk.text, "");
  // Azure's first chunk: no choices at all, only filter results.
  chunk = as_chunk(parse_stream_data(
    R"({"choices":[],"prompt_filter_results":[{"prompt_index":0}]})"));
  EXPECT_TRUE(chunk.text.empty());
}

TEST(openai_stream, refusal_delta) {
  auto chunk = as_chunk(parse_stream_data(
    chunk_data({{"refusal", "I can't help with that."}})));
  EXPECT_EQ(chunk.refusal, "I can't help with that.");
}

TEST(openai_stream, error_inside_the_stream) {
  auto item = parse_stream_data(
    R"({"error":{"message":"The server had an error","type":"server_error",)"
    R"("param":null,"code":null}})");
  auto error = std::get_if<api_error>(&item);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message, "The server had an error");
  EXPECT_EQ(error->type, "server_error");
  EXPECT_EQ(error->code, "");
  auto failure = classify_api_error(*error);
  EXPECT_EQ(failure.kind, failure_kind::server_error);
  EXPECT_TRUE(failure.retryable);
}

TEST(openai_stream, two_parallel_tool_calls_in_fragments) {
  // Two calls, arguments in 3+ fragments each, interleaved; id and name come
  // only in each call's first delta.
  std::vector<json> deltas = {
    {{"role", "assistant"}, {"content", nullptr},
     {"tool_calls", {tool_delta(0, "call_A", "get_order", "")}}},
    {{"tool_calls", {tool_delta(0, nullptr, nullptr, "{\"ord")}}},
    {{"tool_calls", {tool_delta(1, "call_B", "knowledge_search", "{\"qu")}}},
    {{"tool_calls", {tool_delta(0, nullptr, nullptr, "er_id\": \"A")}}},
    {{"tool_calls", {tool_delta(1, nullptr, nullptr, "ery\": \"refund")}}},
    {{"tool_calls", {tool_delta(1, nullptr, nullptr, " policy\", \"top")}}},
    {{"tool_calls", {tool_delta(0, nullptr, nullptr, "-17\"}")}}},
    {{"tool_calls", {tool_delta(1, nullptr, nullptr, "_k\": 3}")}}},
  };
  tool_call_assembler assembler;
  EXPECT_TRUE(assembler.empty());
  for (const auto& delta : deltas)
    ASSERT_TRUE(assembler.add(as_chunk(parse_stream_data(chunk_data(delta)))))
      << assembler.error();
  auto last = as_chunk(parse_stream_data(chunk_data(json::object(),
                                                    "tool_calls")));
  EXPECT_EQ(last.finish_reason, "tool_calls");
  auto result = assembler.finish();
  auto calls = std::get_if<std::vector<tool_call>>(&result);
  ASSERT_TRUE(calls) << std::get<malformed>(result).reason;
  ASSERT_EQ(calls->size(), 2u);
  EXPECT_EQ((*calls)[0].id, "call_A");
  EXPECT_EQ((*calls)[0].name, "get_order");
  EXPECT_EQ((*calls)[0].arguments, R"({"order_id": "A-17"})");
  EXPECT_EQ((*calls)[1].id, "call_B");
  EXPECT_EQ((*calls)[1].name, "knowledge_search");
  EXPECT_EQ((*calls)[1].arguments,
            R"({"query": "refund policy", "top_k": 3})");
}

TEST(openai_stream, several_tool_call_deltas_in_one_chunk) {
  auto chunk = as_chunk(parse_stream_data(chunk_data(
    {{"tool_calls", {tool_delta(0, "a", "f", "{}"),
                     tool_delta(1, "b", "g", "{\"x\":1}")}}})));
  ASSERT_EQ(chunk.tool_calls.size(), 2u);
  EXPECT_EQ(chunk.tool_calls[1].index, 1u);
  EXPECT_EQ(chunk.tool_calls[1].id, "b");
  EXPECT_EQ(chunk.tool_calls[1].name, "g");
  EXPECT_EQ(chunk.tool_calls[1].arguments, "{\"x\":1}");
}

TEST(openai_stream, tool_call_without_index_takes_its_position) {
  auto chunk = as_chunk(parse_stream_data(
    R"({"choices":[{"delta":{"tool_calls":[)"
    R"({"id":"a","function":{"name":"f","arguments":"{}"}},)"
    R"({"id":"b","function":{"name":"g","arguments":"{}"}}]}}]})"));
  ASSERT_EQ(chunk.tool_calls.size(), 2u);
  EXPECT_EQ(chunk.tool_calls[0].index, 0u);
  EXPECT_EQ(chunk.tool_calls[1].index, 1u);
}

TEST(openai_stream, malformed_chunks) {
  struct sample {
    const char* data;
    const char* reason_part;
  };
  const sample samples[] = {
    {"", "not valid JSON"},
    {"{\"choices\":", "not valid JSON"},
    {"not json", "not valid JSON"},
    {"[1,2]", "not a JSON object"},
    {"\"text\"", "not a JSON object"},
    {"{\"choices\":{}}", "choices"},
    {"{\"choices\":[1]}", "choices[0]"},
    {"{\"choices\":[{\"delta\":[]}]}", "delta"},
    {"{\"choices\":[{\"delta\":{\"content\":5}}]}", "delta.content"},
    {"{\"choices\":[{\"delta\":{\"refusal\":true}}]}", "delta.refusal"},
    {"{\"choices\":[{\"delta\":{\"tool_calls\":{}}}]}", "delta.tool_calls"},
    {"{\"choices\":[{\"delta\":{\"tool_calls\":[7]}}]}", "tool_calls[]"},
    {"{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":-1}]}}]}", "index"},
    {"{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":\"0\"}]}}]}",
     "index"},
    {"{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0.5}]}}]}", "index"},
    {"{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":1}]}}]}",
     ".id"},
    {"{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
     "\"function\":\"f\"}]}}]}",
     ".function"},
    {"{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
     "\"function\":{\"name\":[]}}]}}]}",
     "function.name"},
    {"{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
     "\"function\":{\"arguments\":{}}}]}}]}",
     "function.arguments"},
    {"{\"choices\":[{\"finish_reason\":1}]}", "finish_reason"},
    {"{\"model\":1}", "model"},
    {"{\"usage\":5}", "usage"},
    {"{\"usage\":{\"prompt_tokens\":-1}}", "usage.prompt_tokens"},
    {"{\"usage\":{\"completion_tokens\":\"3\"}}", "usage.completion_tokens"},
    {"{\"usage\":{\"total_tokens\":1e300}}", "usage.total_tokens"},
    {"{\"usage\":{\"total_tokens\":18446744073709551615}}",
     "usage.total_tokens"},
  };
  for (const auto& s : samples) {
    auto reason = malformed_reason(parse_stream_data(s.data));
    EXPECT_TRUE(contains(reason, s.reason_part))
      << s.data << " gave: " << reason;
  }
}

TEST(openai_stream, deep_nesting_is_refused_before_parsing) {
  std::string deep = "{\"choices\":" + std::string(100000, '[')
                     + std::string(100000, ']') + "}";
  EXPECT_TRUE(contains(malformed_reason(parse_stream_data(deep)),
                       "nests deeper"));
  // Brackets inside strings do not count.
  auto chunk = as_chunk(parse_stream_data(
    chunk_data({{"content", std::string(1000, '[')}})));
  EXPECT_EQ(chunk.text.size(), 1000u);
}

TEST(openai_stream, whole_number_floats_are_counts) {
  auto chunk = as_chunk(parse_stream_data(
    R"({"usage":{"prompt_tokens":12.0,"completion_tokens":3,)"
    R"("total_tokens":15}})"));
  ASSERT_TRUE(chunk.usage);
  EXPECT_EQ(chunk.usage->prompt_tokens, 12);
}

// -- tool_call_assembler ------------------------------------------------------

namespace {

std::string finish_error(const tool_call_assembler& assembler) {
  auto result = assembler.finish();
  if (auto bad = std::get_if<malformed>(&result))
    return bad->reason;
  ADD_FAILURE() << "expected an assembly error";
  return {};
}

} // namespace

TEST(tool_call_assembler, arguments_must_be_an_object) {
  for (const char* args : {"[1,2]", "\"text\"", "42", "null", "true"}) {
    tool_call_assembler assembler;
    ASSERT_TRUE(assembler.add(tool_call_delta{0, "c", "f", args}));
    EXPECT_TRUE(contains(finish_error(assembler), "not a JSON object"))
      << args;
  }
}

TEST(tool_call_assembler, truncated_arguments_are_an_error) {
  tool_call_assembler assembler;
  assembler.add(tool_call_delta{0, "c", "get_order", "{\"order_id\": \"A"});
  auto reason = finish_error(assembler);
  EXPECT_TRUE(contains(reason, "not valid JSON")) << reason;
  EXPECT_TRUE(contains(reason, "get_order")) << reason;
}

TEST(tool_call_assembler, empty_arguments_mean_none) {
  tool_call_assembler assembler;
  assembler.add(tool_call_delta{0, "c", "list_orders", ""});
  auto result = assembler.finish();
  auto calls = std::get_if<std::vector<tool_call>>(&result);
  ASSERT_TRUE(calls);
  ASSERT_EQ(calls->size(), 1u);
  EXPECT_EQ((*calls)[0].arguments, "{}");
}

TEST(tool_call_assembler, missing_id_is_made_up_and_name_required) {
  tool_call_assembler assembler;
  assembler.add(tool_call_delta{2, "", "f", "{}"});
  auto result = assembler.finish();
  auto calls = std::get_if<std::vector<tool_call>>(&result);
  ASSERT_TRUE(calls);
  ASSERT_EQ(calls->size(), 1u); // indexes 0 and 1 never came
  EXPECT_EQ((*calls)[0].id, "call_2");

  tool_call_assembler nameless;
  nameless.add(tool_call_delta{0, "c", "", "{}"});
  EXPECT_TRUE(contains(finish_error(nameless), "no function name"));
}

TEST(tool_call_assembler, repeated_name_and_id_are_not_fragments) {
  // Some compatible servers repeat id and name in every delta.
  tool_call_assembler assembler;
  assembler.add(tool_call_delta{0, "c", "get_order", "{\"a\""});
  assembler.add(tool_call_delta{0, "c", "get_order", ":1}"});
  auto result = assembler.finish();
  auto calls = std::get_if<std::vector<tool_call>>(&result);
  ASSERT_TRUE(calls);
  EXPECT_EQ((*calls)[0].name, "get_order");
  EXPECT_EQ((*calls)[0].arguments, "{\"a\":1}");
}

TEST(tool_call_assembler, changed_id_is_an_error) {
  tool_call_assembler assembler;
  EXPECT_TRUE(assembler.add(tool_call_delta{0, "c1", "f", "{"}));
  EXPECT_FALSE(assembler.add(tool_call_delta{0, "c2", "", "}"}));
  EXPECT_TRUE(assembler.failed());
  EXPECT_TRUE(contains(assembler.error(), "changed its id"));
  // Stays failed.
  EXPECT_FALSE(assembler.add(tool_call_delta{1, "c3", "g", "{}"}));
  EXPECT_TRUE(contains(finish_error(assembler), "changed its id"));
}

TEST(tool_call_assembler, limits) {
  assembler_limits limits;
  limits.max_calls = 2;
  limits.max_arguments_bytes = 10;
  limits.max_name_bytes = 5;
  limits.max_id_bytes = 3;
  {
    tool_call_assembler assembler{limits};
    EXPECT_TRUE(assembler.add(tool_call_delta{1, "c", "f", "{}"}));
    EXPECT_FALSE(assembler.add(tool_call_delta{2, "c", "f", "{}"}));
    EXPECT_TRUE(contains(assembler.error(), "index 2"));
  }
  {
    // A huge index must not allocate.
    tool_call_assembler assembler;
    constexpr auto huge = std::numeric_limits<std::uint64_t>::max();
    EXPECT_FALSE(assembler.add(tool_call_delta{huge, "c", "f", ""}));
  }
  {
    tool_call_assembler assembler{limits};
    EXPECT_TRUE(assembler.add(tool_call_delta{0, "c", "f", "{\"a\":"}));
    EXPECT_TRUE(assembler.add(tool_call_delta{0, "", "", "1234"}));
    EXPECT_FALSE(assembler.add(tool_call_delta{0, "", "", "5}"}));
    EXPECT_TRUE(contains(assembler.error(), "arguments longer than 10"));
  }
  {
    tool_call_assembler assembler{limits};
    EXPECT_FALSE(assembler.add(tool_call_delta{0, "c", "toolong", ""}));
    EXPECT_TRUE(contains(assembler.error(), "name"));
  }
  {
    tool_call_assembler assembler{limits};
    EXPECT_FALSE(assembler.add(tool_call_delta{0, "abcd", "f", ""}));
    EXPECT_TRUE(contains(assembler.error(), "id"));
  }
}

TEST(tool_call_assembler, deeply_nested_arguments_are_refused) {
  tool_call_assembler assembler;
  std::string args = "{\"a\":" + std::string(5000, '[')
                     + std::string(5000, ']') + "}";
  assembler.add(tool_call_delta{0, "c", "f", args});
  EXPECT_TRUE(contains(finish_error(assembler), "nests deeper"));
}

// -- non-streamed completions -------------------------------------------------

TEST(openai_completion, text_reply) {
  auto done = as_completion(parse_completion(R"({
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1,
    "model": "gpt-4o-mini",
    "choices": [{"index": 0,
                 "message": {"role": "assistant", "content": "Hello!",
                             "refusal": null},
                 "logprobs": null, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
  })"));
  EXPECT_EQ(done.text, "Hello!");
  EXPECT_EQ(done.finish_reason, "stop");
  EXPECT_EQ(done.model, "gpt-4o-mini");
  ASSERT_TRUE(done.usage);
  EXPECT_EQ(done.usage->total_tokens, 11);
  EXPECT_TRUE(done.tool_calls.empty());
}

TEST(openai_completion, tool_calls_reply) {
  auto done = as_completion(parse_completion(R"({
    "choices": [{"index": 0, "finish_reason": "tool_calls",
      "message": {"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "get_order",
                      "arguments": "{\"order_id\":\"A-17\"}"}},
        {"id": "call_2", "type": "function",
         "function": {"name": "knowledge_search",
                      "arguments": "{\"query\":\"refund\"}"}}
      ]}}]
  })"));
  EXPECT_EQ(done.text, "");
  EXPECT_EQ(done.finish_reason, "tool_calls");
  ASSERT_EQ(done.tool_calls.size(), 2u);
  EXPECT_EQ(done.tool_calls[0].id, "call_1");
  EXPECT_EQ(done.tool_calls[0].arguments, R"({"order_id":"A-17"})");
  EXPECT_EQ(done.tool_calls[1].name, "knowledge_search");
  EXPECT_FALSE(done.usage);
}

TEST(openai_completion, bad_tool_arguments) {
  auto result = parse_completion(R"({"choices": [{"message": {"tool_calls": [
      {"id": "c", "function": {"name": "f", "arguments": "[1]"}}]}}]})");
  auto bad = std::get_if<malformed>(&result);
  ASSERT_TRUE(bad);
  EXPECT_TRUE(contains(bad->reason, "not a JSON object")) << bad->reason;
}

TEST(openai_completion, malformed_and_errors) {
  for (const char* body : {"", "<html>502</html>", "[]", "{}",
                           R"({"choices":[]})", R"({"choices":[{}]})",
                           R"({"choices":[{"message":"hi"}]})",
                           R"({"choices":[{"message":{"content":3}}]})",
                           R"({"choices":[{"message":{"tool_calls":{}}}]})"}) {
    auto result = parse_completion(body);
    EXPECT_TRUE(std::holds_alternative<malformed>(result)) << body;
  }
  auto result = parse_completion(
    R"({"error":{"message":"Invalid model","type":"invalid_request_error",)"
    R"("code":"model_not_found"}})");
  auto error = std::get_if<api_error>(&result);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "model_not_found");
}

// -- error classification -----------------------------------------------------

TEST(openai_errors, classification_table) {
  struct row {
    int status;
    failure_kind kind;
    bool retryable;
  };
  const row rows[] = {
    {429, failure_kind::rate_limited, true},
    {500, failure_kind::server_error, true},
    {502, failure_kind::server_error, true},
    {503, failure_kind::server_error, true},
    {504, failure_kind::server_error, true},
    {599, failure_kind::server_error, true},
    {408, failure_kind::timeout, true},
    {400, failure_kind::bad_request, false},
    {413, failure_kind::bad_request, false},
    {422, failure_kind::bad_request, false},
    {401, failure_kind::unauthorized, false},
    {403, failure_kind::unauthorized, false},
    {404, failure_kind::not_found, false},
    {409, failure_kind::other, false},
    {418, failure_kind::other, false},
    {302, failure_kind::other, false},
    {0, failure_kind::other, false},
    {600, failure_kind::other, false},
  };
  for (const auto& r : rows) {
    auto f = classify_http_error(r.status, "");
    EXPECT_EQ(f.kind, r.kind) << r.status << " gave " << to_string(f.kind);
    EXPECT_EQ(f.retryable, r.retryable) << r.status;
    EXPECT_EQ(f.counts_toward_circuit, r.retryable) << r.status;
    EXPECT_EQ(f.http_status, r.status);
    EXPECT_TRUE(contains(f.message, "HTTP " + std::to_string(r.status)))
      << f.message;
    EXPECT_FALSE(f.retry_after_seconds);
  }
}

TEST(openai_errors, transport_failures) {
  auto timeout = transport_failure(failure_kind::timeout, "no answer in 30 s");
  EXPECT_EQ(timeout.kind, failure_kind::timeout);
  EXPECT_TRUE(timeout.retryable);
  EXPECT_TRUE(timeout.counts_toward_circuit);
  EXPECT_EQ(timeout.message, "no answer in 30 s");
  EXPECT_EQ(timeout.http_status, 0);
  auto refused = transport_failure(failure_kind::connection, "");
  EXPECT_EQ(refused.kind, failure_kind::connection);
  EXPECT_TRUE(refused.retryable);
  EXPECT_TRUE(refused.counts_toward_circuit);
  EXPECT_FALSE(refused.message.empty());
}

TEST(openai_errors, message_from_the_body) {
  auto f = classify_http_error(
    429,
    R"({"error":{"message":"Rate limit reached for gpt-4o-mini",)"
    R"("type":"requests",)"
    R"("param":null,"code":"rate_limit_exceeded"}})",
    "20");
  EXPECT_EQ(f.kind, failure_kind::rate_limited);
  EXPECT_EQ(f.message, "Rate limit reached for gpt-4o-mini");
  EXPECT_EQ(f.retry_after_seconds, 20);
  // Other shapes compatible servers use.
  EXPECT_EQ(classify_http_error(500, R"({"error":"boom"})").message, "boom");
  EXPECT_EQ(classify_http_error(500, R"({"message":"down"})").message, "down");
  EXPECT_EQ(classify_http_error(422, R"({"detail":"bad field"})").message,
            "bad field");
  // Not JSON (a proxy's HTML page): a message of our own.
  auto html = classify_http_error(502, "<html><body>Bad gateway</body></html>");
  EXPECT_EQ(html.kind, failure_kind::server_error);
  EXPECT_TRUE(contains(html.message, "HTTP 502")) << html.message;
}

TEST(openai_errors, long_messages_are_cut) {
  json body = {{"error", {{"message", std::string(10000, 'x')}}}};
  auto f = classify_http_error(500, body.dump());
  EXPECT_LE(f.message.size(), max_failure_message_bytes + 3);
}

TEST(openai_errors, content_filter_by_code) {
  auto f = classify_http_error(
    400,
    R"({"error":{"message":"The response was filtered","type":null,)"
    R"("param":"prompt","code":"content_filter","status":400}})");
  EXPECT_EQ(f.kind, failure_kind::content_filter);
  EXPECT_FALSE(f.retryable);
  EXPECT_FALSE(f.counts_toward_circuit);
  EXPECT_EQ(f.message, "The response was filtered");
  EXPECT_EQ(classify_http_error(
              400, R"({"error":{"code":"content_policy_violation"}})")
              .kind,
            failure_kind::content_filter);
}

TEST(openai_errors, content_filter_by_finish_reason) {
  auto f = classify_finish_reason("content_filter");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, failure_kind::content_filter);
  EXPECT_FALSE(f->retryable);
  EXPECT_FALSE(f->counts_toward_circuit);
  for (const char* fine : {"stop", "length", "tool_calls", ""})
    EXPECT_FALSE(classify_finish_reason(fine)) << fine;
}

TEST(openai_errors, insufficient_quota_is_not_retried) {
  auto f = classify_http_error(
    429,
    R"({"error":{"message":"You exceeded your current quota",)"
    R"("type":"insufficient_quota",)"
    R"("param":null,"code":"insufficient_quota"}})");
  EXPECT_EQ(f.kind, failure_kind::quota_exceeded);
  EXPECT_FALSE(f.retryable);
  EXPECT_TRUE(f.counts_toward_circuit);
}

TEST(openai_errors, retry_after_values) {
  struct row {
    const char* header;
    std::optional<std::int64_t> seconds;
  };
  const row rows[] = {
    {"", std::nullopt},
    {"0", 0},
    {"  7 ", 7},
    {"1.5", 2},
    {"2.0", 2},
    {"abc", std::nullopt},
    {"-3", std::nullopt},
    {"5s", std::nullopt},
    {"1.", std::nullopt},
    {"Wed, 21 Oct 2015 07:28:00 GMT", std::nullopt},
    {"99999999999999999999999999", 86400},
  };
  for (const auto& r : rows)
    EXPECT_EQ(classify_http_error(503, "", r.header).retry_after_seconds,
              r.seconds)
      << "'" << r.header << "'";
}

TEST(openai_errors, api_errors_in_streams) {
  EXPECT_EQ(classify_api_error({"slow down", "requests", "rate_limit_exceeded"})
              .kind,
            failure_kind::rate_limited);
  EXPECT_EQ(classify_api_error({"", "insufficient_quota", ""}).kind,
            failure_kind::quota_exceeded);
  EXPECT_EQ(classify_api_error({"", "invalid_request_error", ""}).kind,
            failure_kind::bad_request);
  EXPECT_EQ(classify_api_error({"", "", "invalid_api_key"}).kind,
            failure_kind::unauthorized);
  EXPECT_EQ(classify_api_error({"", "", "content_filter"}).kind,
            failure_kind::content_filter);
  auto unknown = classify_api_error({"", "", ""});
  EXPECT_EQ(unknown.kind, failure_kind::server_error);
  EXPECT_FALSE(unknown.message.empty());
}

TEST(openai_errors, every_kind_has_a_name) {
  for (auto kind : {failure_kind::rate_limited, failure_kind::quota_exceeded,
                    failure_kind::server_error, failure_kind::timeout,
                    failure_kind::connection, failure_kind::bad_request,
                    failure_kind::unauthorized, failure_kind::content_filter,
                    failure_kind::not_found, failure_kind::other})
    EXPECT_STRNE(to_string(kind), "") << static_cast<int>(kind);
  EXPECT_STREQ(to_string(failure_kind::rate_limited), "rate_limited");
}
