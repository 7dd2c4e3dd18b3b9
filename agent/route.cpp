#include "agent/route.hpp"

#include <algorithm>
#include <cmath>

namespace parley::agent {

using nlohmann::json;

json to_json(const route& r) {
  return json{{"intent", r.intent},
              {"confidence", r.confidence},
              {"next_action", to_string(r.action)},
              {"slot_to_request", r.slot_to_request.empty()
                                    ? json(nullptr)
                                    : json(r.slot_to_request)},
              {"tool_name", r.tool_name.empty() ? json(nullptr)
                                                : json(r.tool_name)},
              {"tool_args", r.tool_args},
              {"origin", r.origin}};
}

json route_tool_parameters() {
  json intents = json::array();
  for (const char* name : known_intents)
    intents.push_back(name);
  return json{
    {"type", "object"},
    {"properties",
     {{"intent", {{"type", "string"}, {"enum", intents}}},
      {"confidence", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}}},
      {"next_action",
       {{"type", "string"},
        {"enum", {"respond", "ask_for_slot", "call_tool"}}}},
      {"slot_to_request",
       {{"type", {"string", "null"}},
        {"enum", {"order_id", "phone_or_email", nullptr}}}},
      {"tool_name", {{"type", {"string", "null"}}}},
      {"tool_args", {{"type", {"object", "null"}}}}}},
    {"required", {"intent", "confidence", "next_action"}},
    {"additionalProperties", false}};
}

namespace {

/// Deepest nesting of route arguments (the LLM clients accept 64).
constexpr int max_arguments_depth = 64;

/// Optional string fields may be absent, null or a string.
bool optional_text(const json& doc, const char* key, std::string& out) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null())
    return true;
  if (!it->is_string())
    return false;
  out = it->get<std::string>();
  return true;
}

} // namespace

std::optional<route> parse_llm_route(std::string_view arguments,
                                     const agent_rules& rules,
                                     std::string* why) {
  auto refuse = [why](const char* reason) -> std::optional<route> {
    if (why)
      *why = reason;
    return std::nullopt;
  };
  // Copying and dumping tool_args recurse: like the LLM clients, refuse
  // deep nesting while parsing (which does not recurse).
  bool too_deep = false;
  auto bound = [&too_deep](int depth, json::parse_event_t, json&) {
    too_deep = too_deep || depth > max_arguments_depth;
    return !too_deep;
  };
  auto doc = json::parse(arguments, bound, false);
  if (too_deep)
    return refuse("nested too deeply");
  if (doc.is_discarded() || !doc.is_object())
    return refuse("not a JSON object");
  route r;
  r.origin = "llm";
  auto intent = doc.find("intent");
  if (intent == doc.end() || !intent->is_string()
      || !is_known_intent(intent->get<std::string>()))
    return refuse("unknown intent");
  r.intent = intent->get<std::string>();
  auto confidence = doc.find("confidence");
  if (confidence == doc.end() || !confidence->is_number()
      || !std::isfinite(confidence->get<double>()))
    return refuse("no confidence");
  r.confidence = std::clamp(confidence->get<double>(), 0.0, 1.0);
  auto action = doc.find("next_action");
  if (action == doc.end() || !action->is_string()
      || !from_string(action->get<std::string>(), r.action))
    return refuse("unknown next_action");
  if (!optional_text(doc, "slot_to_request", r.slot_to_request)
      || !optional_text(doc, "tool_name", r.tool_name))
    return refuse("slot_to_request and tool_name must be strings");
  if (auto args = doc.find("tool_args"); args != doc.end() && !args->is_null()) {
    if (!args->is_object())
      return refuse("tool_args must be an object");
    r.tool_args = *args;
  }
  if (r.action == next_action::ask_for_slot
      && !rules.find_slot(r.slot_to_request))
    return refuse("ask_for_slot without a known slot");
  if (r.action == next_action::call_tool && r.tool_name.empty())
    return refuse("call_tool without a tool");
  if (r.confidence < rules.settings.min_llm_confidence)
    return refuse("confidence below min_llm_confidence");
  return r;
}

} // namespace parley::agent
