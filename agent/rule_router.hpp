#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/agent_rules.hpp"
#include "agent/route.hpp"

namespace parley::agent {

/// What the router knows of the conversation besides the message.
struct routing_context {
  std::string intent;       // the intent a pending slot belongs to
  std::string pending_slot; // the slot the agent asked for, if any
};

/// The deterministic router used without an LLM (and when an LLM's route
/// is unusable): phrases from the rules file, scored by how many words
/// they match, plus slot values found in the text (an order number).
class rule_router {
public:
  explicit rule_router(std::shared_ptr<const agent_rules> rules);

  route decide(std::string_view text, const routing_context& ctx) const;

  /// The value of `slot` in `text`, if the text holds one.
  static std::optional<std::string> extract_slot(const slot_rule& slot,
                                                 std::string_view text);

  const agent_rules& rules() const noexcept {
    return *rules_;
  }

private:
  struct scored {
    const intent_rule* intent = nullptr;
    int score = 0;
  };

  scored best_intent(const std::vector<std::string>& words) const;

  route from_intent(const intent_rule& intent, int score,
                           std::string_view text) const;

  route ask_for(const intent_rule& intent, const slot_rule& slot,
                       double confidence) const;

  std::shared_ptr<const agent_rules> rules_;
};

} // namespace parley::agent
