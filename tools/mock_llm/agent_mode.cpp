#include "tools/mock_llm/agent_mode.hpp"

#include <algorithm>
#include <cctype>

namespace parley::mock_llm {

using json = nlohmann::json;

namespace {

const std::vector<std::string_view> human_words
  = {"human", "person", "agent"};
const std::vector<std::string_view> order_words
  = {"order", "track", "package"};
const std::vector<std::string_view> knowledge_words
  = {"policy", "return", "warranty", "shipping", "payment"};
const std::vector<std::string_view> greeting_words
  = {"hello", "hi"};

std::string lower(std::string_view text) {
  std::string result{text};
  for (auto& c : result)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

/// The words of `text`, lower-case: runs of ASCII letters.
std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (std::isalpha(static_cast<unsigned char>(c)) != 0) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty())
    words.push_back(std::move(word));
  return words;
}

/// Whether a word starts with one of `keywords` (`whole`: is one of them).
bool has_word(const std::vector<std::string>& words,
              const std::vector<std::string_view>& keywords,
              bool whole = false) {
  return std::any_of(words.begin(), words.end(), [&](const std::string& w) {
    return std::any_of(keywords.begin(), keywords.end(),
                       [&](std::string_view k) {
                         return whole ? w == k : w.rfind(k, 0) == 0;
                       });
  });
}

/// The first run of 3 or more ASCII digits, or "".
std::string digit_run(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto start = i;
    while (i < text.size()
           && std::isdigit(static_cast<unsigned char>(text[i])) != 0)
      ++i;
    if (i - start >= 3)
      return std::string{text.substr(start, i - start)};
    if (i == start)
      ++i;
  }
  return {};
}

json route(const char* intent, double confidence, const char* action) {
  return json{{"intent", intent},
              {"confidence", confidence},
              {"next_action", action},
              {"slot_to_request", nullptr},
              {"tool_name", nullptr},
              {"tool_args", nullptr}};
}

json tool_route(const char* intent, const std::string& tool, json args) {
  auto result = route(intent, 0.9, "call_tool");
  result["tool_name"] = tool;
  result["tool_args"] = std::move(args);
  return result;
}

/// An order route: look the order up when the text has its number, else
/// ask for it.
json order_route(const char* intent, const std::string& order_id) {
  if (!order_id.empty())
    return tool_route(intent, "get_order", {{"order_id", order_id}});
  auto result = route(intent, 0.9, "ask_for_slot");
  result["slot_to_request"] = "order_id";
  return result;
}

bool has_output(const tool_context& tools, const std::string& name) {
  return std::any_of(tools.outputs.begin(), tools.outputs.end(),
                     [&name](const tool_output& out) {
                       return agent_output_tool(out) == name;
                     });
}

bool offered(const tool_context& tools, const std::string& name) {
  return std::find(tools.offered.begin(), tools.offered.end(), name)
         != tools.offered.end();
}

/// The text of a JSON value for a summary: strings without quotes.
std::string text_of(const json& value) {
  return value.is_string() ? value.get<std::string>() : dump(value);
}

std::string order_summary(const json& doc) {
  std::string id = doc.contains("order_id") ? text_of(doc["order_id"]) : "?";
  if (doc.contains("error")) {
    if (doc["error"] == "not found")
      return "order " + id + " was not found";
    return "get_order failed: " + text_of(doc["error"]);
  }
  auto text = "order " + id + " is "
              + (doc.contains("status") ? text_of(doc["status"]) : "unknown");
  if (doc.contains("carrier") && doc["carrier"].is_string())
    text += " via " + doc["carrier"].get<std::string>();
  return text;
}

std::string knowledge_summary(const json& doc) {
  if (doc.contains("error"))
    return "knowledge_search failed: " + text_of(doc["error"]);
  if (doc.contains("matches") && doc["matches"].is_array()
      && !doc["matches"].empty()) {
    const auto& first = doc["matches"][0];
    if (first.is_object() && first.contains("section"))
      return "see " + text_of(first["section"]);
  }
  return "no help article matched";
}

} // namespace

json agent_route(std::string_view user_text) {
  if (lower(user_text).find(garbage_route_trigger) != std::string::npos)
    return json{{"intent", "DANCE"}};
  auto words = words_of(user_text);
  auto order_id = digit_run(user_text);
  if (has_word(words, human_words))
    return route("ESCALATE_TO_HUMAN", 0.95, "respond");
  if (has_word(words, {"refund"}))
    return order_route("REFUND_ORDER", order_id);
  if (has_word(words, order_words))
    return order_route("GET_ORDER_INFORMATION", order_id);
  if (has_word(words, knowledge_words))
    return tool_route("KNOWLEDGE_QA", "knowledge_search",
                      {{"query", std::string{user_text}}});
  if (has_word(words, greeting_words, true))
    return route("GREETING", 0.9, "respond");
  if (!order_id.empty())
    return order_route("GET_ORDER_INFORMATION", order_id);
  return route("UNKNOWN", 0.9, "respond");
}

std::vector<agent_call> agent_needed_tools(std::string_view user_text) {
  std::vector<agent_call> calls;
  auto order_id = digit_run(user_text);
  if (!order_id.empty())
    calls.push_back({"get_order", dump({{"order_id", order_id}})});
  if (has_word(words_of(user_text), knowledge_words))
    calls.push_back(
      {"knowledge_search", dump({{"query", std::string{user_text}}})});
  return calls;
}

std::string agent_output_tool(const tool_output& output) {
  if (!output.name.empty())
    return output.name;
  auto doc = json::parse(output.content, nullptr, false);
  if (doc.is_object() && doc.contains("matches"))
    return "knowledge_search";
  if (doc.is_object() && doc.contains("order_id"))
    return "get_order";
  return {};
}

std::string agent_summary(const tool_output& output) {
  auto tool = agent_output_tool(output);
  auto doc = json::parse(output.content, nullptr, false);
  if (doc.is_object() && tool == "get_order")
    return order_summary(doc);
  if (doc.is_object() && tool == "knowledge_search")
    return knowledge_summary(doc);
  return (tool.empty() ? std::string{"a tool"} : tool) + " returned "
         + output.content;
}

agent_reply agent_answer(std::string_view user_text,
                         const tool_context& tools) {
  agent_reply reply;
  if (tools.choice == "route") {
    reply.call = agent_call{"route", dump(agent_route(user_text))};
    return reply;
  }
  if (!tools.offered.empty() && tools.choice != "none")
    for (auto& needed : agent_needed_tools(user_text))
      if (offered(tools, needed.name) && !has_output(tools, needed.name)) {
        reply.call = std::move(needed);
        return reply;
      }
  std::string summaries;
  for (const auto& output : tools.outputs) {
    if (!summaries.empty())
      summaries += "; ";
    summaries += agent_summary(output);
  }
  reply.text = "LLM answer: "
               + (summaries.empty() ? std::string{user_text} : summaries);
  return reply;
}

} // namespace parley::mock_llm
