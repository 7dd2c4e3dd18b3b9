#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/agent_rules.hpp"

namespace parley::agent {

/// What the router decided for one user message: the `route` tool's
/// arguments, whether an LLM or the rules produced them.
struct route {
  std::string intent = "UNKNOWN";
  double confidence = 0;
  agent::next_action action = next_action::respond;
  std::string slot_to_request; // empty: none
  std::string tool_name;       // with call_tool
  nlohmann::json tool_args = nlohmann::json::object();
  std::string origin; // "rules" or "llm"
};

/// The route as the `route` tool returns it (and as events record it).
nlohmann::json to_json(const route& r);

/// The JSON schema of the `route` tool's parameters, offered to an LLM as a
/// forced tool call.
nlohmann::json route_tool_parameters();

/// Reads an LLM's `route` call arguments. Nothing when they are malformed,
/// name an unknown intent, slot or tool, or fall below the rules'
/// min_llm_confidence: the caller then asks the rule router.
std::optional<route> parse_llm_route(std::string_view arguments,
                                     const agent_rules& rules,
                                     std::string* why = nullptr);

} // namespace parley::agent
