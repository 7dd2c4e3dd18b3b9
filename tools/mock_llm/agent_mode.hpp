#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/mock_llm/wire.hpp"

// --agent: the mock as a small, deterministic tool-using model, so that
// tests can drive the support agent's real tool calls end to end. Pure
// functions of the request (README.md, "Agent mode"); the same for both
// protocols.

namespace parley::mock_llm {

/// A tool call the mock makes.
struct agent_call {
  std::string name;
  std::string arguments; // the JSON text of an object
};

/// What the mock answers in --agent mode: a tool call, or text.
struct agent_reply {
  std::optional<agent_call> call;
  std::string text; // when there is no call
};

/// The trigger word that makes the mock answer a forced `route` with
/// arguments Parley must refuse.
constexpr std::string_view garbage_route_trigger = "garbage-route";

/// The arguments of the `route` call for the user's message: keyword rules
/// (case-insensitive; a keyword matches a word that starts with it, `hi`
/// and `hello` only whole words), first match wins:
///  - "garbage-route" anywhere: {"intent":"DANCE"} (malformed on purpose);
///  - human, person, agent: ESCALATE_TO_HUMAN, respond, confidence 0.95;
///  - refund: REFUND_ORDER; order, track, package: GET_ORDER_INFORMATION;
///    both call_tool get_order {order_id} with a run of 3+ digits in the
///    text, else ask_for_slot order_id;
///  - policy, return, warranty, shipping, payment: KNOWLEDGE_QA, call_tool
///    knowledge_search {query: the text};
///  - hello, hi: GREETING, respond;
///  - a run of 3+ digits (a slot answer): GET_ORDER_INFORMATION, call_tool
///    get_order;
///  - else UNKNOWN, respond.
/// Confidence 0.9 unless said otherwise.
nlohmann::json agent_route(std::string_view user_text);

/// The tools the message needs, in this order: get_order {order_id} when it
/// has a run of 3+ digits (the first such run), knowledge_search {query:
/// the text} when it has a knowledge keyword (policy, return, warranty,
/// shipping, payment).
std::vector<agent_call> agent_needed_tools(std::string_view user_text);

/// The tool an output is about: its name, or when the request did not say,
/// a guess from its content (order fields: get_order; matches:
/// knowledge_search).
std::string agent_output_tool(const tool_output& output);

/// One tool result in a few words: "order 124 is shipped via UPS", "order
/// 999 was not found", "see Return policy", "get_order failed: …".
std::string agent_summary(const tool_output& output);

/// The answer to one request:
///  - the request forces `route` (tool_choice names it): the route call;
///  - tools are offered, tool_choice is not "none", and a needed tool is
///    offered but has no result in the request yet: a call of the first
///    such tool;
///  - otherwise text: "LLM answer: " and the summaries of the results
///    present, joined by "; ", or the user's message when there are none.
agent_reply agent_answer(std::string_view user_text, const tool_context& tools);

} // namespace parley::mock_llm
