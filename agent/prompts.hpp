#pragma once

#include <string>

#include "agent/agent_rules.hpp"
#include "agent/rule_router.hpp"

namespace parley::agent {

/// The system prompt of the forced `route` call: the intents, slots and
/// tools the rules know, and what the agent is waiting for.
std::string routing_prompt(const agent_rules& rules,
                           const routing_context& ctx);

/// The system prompt of the answer rounds.
std::string answer_prompt();

} // namespace parley::agent
