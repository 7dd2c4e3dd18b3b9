#include "agent/prompts.hpp"

namespace parley::agent {

std::string routing_prompt(const agent_rules& rules,
                           const routing_context& ctx) {
  std::string text
    = "You are the router of an online shop's customer-support assistant. "
      "Call the `route` tool once to classify the customer's latest "
      "message. Intents:";
  for (const char* name : known_intents)
    text += std::string{" "} + name;
  text += ". next_action is `call_tool` when a tool can answer "
          "(get_order needs order_id; knowledge_search answers questions "
          "about policies, shipping, payments, accounts and the company), "
          "`ask_for_slot` when a tool needs a detail the customer has not "
          "given (slot_to_request:";
  for (const auto& [name, slot] : rules.slots)
    text += " " + name;
  text += "), and `respond` otherwise. Give tool_args for call_tool. "
          "confidence is between 0 and 1.";
  if (!ctx.pending_slot.empty())
    text += " The assistant has just asked for " + ctx.pending_slot
            + " (intent " + ctx.intent
            + "); if the message gives it, continue that intent.";
  return text;
}

std::string answer_prompt() {
  return "You are a friendly, concise customer-support assistant for an "
         "online shop. Use the tools to look up orders and help articles "
         "instead of guessing; quote order details and policies exactly as "
         "the tools return them. If a tool reports an error, say so "
         "plainly and offer to connect the customer with a human agent.";
}

} // namespace parley::agent
