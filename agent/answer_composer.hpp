#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/agent_rules.hpp"
#include "agent/route.hpp"

namespace parley::agent {

/// Writes the agent's answers without an LLM, from the rules file's reply
/// templates and the tools' results. With an LLM the model phrases the
/// answer instead; these are what users get in fallback mode.
class answer_composer {
public:
  explicit answer_composer(std::shared_ptr<const agent_rules> rules);

  /// The intent's own reply (greeting, goodbye, handoff), or the unknown
  /// reply.
  std::string reply_for(const route& r) const;

  /// The question for a missing slot; `again` when the last answer held no
  /// value.
  std::string slot_prompt(const std::string& slot, bool again) const;

  /// An answer from get_order's result for `intent` (order information or
  /// refund).
  std::string order_answer(const std::string& intent,
                           const nlohmann::json& result) const;

  /// An answer from knowledge_search's result; `found` is false when no
  /// section scored at least the rules' knowledge_min_score.
  std::string knowledge_answer(const nlohmann::json& result,
                               bool& found) const;

  std::string reply(const std::string& key) const;

private:
  std::shared_ptr<const agent_rules> rules_;
};

} // namespace parley::agent
