#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace parley::agent {

/// The part of a conversation the agent needs to continue it after a
/// reconnect or a restart: stored as the payload of `agent_state` events.
struct conversation_state {
  std::string intent;
  std::string pending_slot;
  std::int32_t low_confidence_streak = 0;

  /// {"intent":…,"pending_slot":…,"low_confidence_streak":…}
  std::string to_json_text() const;

  /// Reads a payload written by to_json_text(); missing or malformed fields
  /// (an older or hand-edited row) read as empty, never throw.
  static conversation_state parse(std::string_view text);
};

} // namespace parley::agent
