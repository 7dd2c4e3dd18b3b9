#include "agent/conversation_state.hpp"

#include <nlohmann/json.hpp>

namespace parley::agent {

using nlohmann::json;

std::string conversation_state::to_json_text() const {
  return json{{"intent", intent},
              {"pending_slot", pending_slot},
              {"low_confidence_streak", low_confidence_streak}}
    .dump();
}

conversation_state conversation_state::parse(std::string_view text) {
  conversation_state result;
  auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return result;
  if (auto it = doc.find("intent"); it != doc.end() && it->is_string())
    result.intent = it->get<std::string>();
  if (auto it = doc.find("pending_slot"); it != doc.end() && it->is_string())
    result.pending_slot = it->get<std::string>();
  if (auto it = doc.find("low_confidence_streak");
      it != doc.end() && it->is_number_integer()) {
    auto n = it->get<std::int64_t>();
    result.low_confidence_streak
      = n < 0 ? 0 : n > 1000 ? 1000 : static_cast<std::int32_t>(n);
  }
  return result;
}

} // namespace parley::agent
