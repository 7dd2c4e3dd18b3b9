#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace parley::agent {

/// What the agent does with a routed message.
enum class next_action { respond, ask_for_slot, call_tool };

const char* to_string(next_action action) noexcept;

/// Parses "respond", "ask_for_slot", "call_tool"; false if none matches.
bool from_string(std::string_view text, next_action& out) noexcept;

/// The intents Parley knows; routes naming anything else are refused.
inline constexpr const char* known_intents[] = {
  "GREETING",          "GOODBYE",         "REFUND_ORDER",
  "GET_ORDER_INFORMATION", "ESCALATE_TO_HUMAN", "KNOWLEDGE_QA", "UNKNOWN"};

bool is_known_intent(std::string_view name) noexcept;

/// How a slot's value is found in a message.
enum class slot_kind { number, email_or_phone };

struct slot_rule {
  std::string name;
  slot_kind kind = slot_kind::number;
  int min_digits = 1;
  int max_digits = 20;
  std::string prompt;   // asked the first time
  std::string reprompt; // asked when the answer held no value
};

struct intent_rule {
  std::string name;
  /// Each phrase as lower-case words; a phrase matches as a word sequence.
  std::vector<std::vector<std::string>> phrases;
  next_action action = next_action::respond;
  std::string tool; // with call_tool
  std::string slot; // the tool's required slot, if any
  std::string reply;
  bool handoff = false;
};

struct agent_settings {
  /// LLM routes below this confidence are replaced by the rule router's.
  double min_llm_confidence = 0.5;
  /// Routes below `low_confidence` in a row before the agent hands off
  /// (0: never).
  int handoff_after_low_confidence = 3;
  double low_confidence = 0.4;
  int max_tool_rounds = 3;
  double knowledge_min_score = 1.0;
  int knowledge_top_k = 3;
};

/// The agent's data file (config/agent.json): intents in priority order,
/// slots, reply templates. Plain data, checked when loaded.
struct agent_rules {
  agent_settings settings;
  std::vector<intent_rule> intents;
  std::map<std::string, slot_rule> slots;
  std::string unknown_reply;
  /// Said when a streak of doubtful routes hands the session to a human.
  std::string handoff_notice;
  std::map<std::string, std::string> replies;

  const intent_rule* find_intent(std::string_view name) const;
  const slot_rule* find_slot(std::string_view name) const;

  /// The reply template `key`; an empty string if the file has none.
  const std::string& reply(const std::string& key) const;

  /// Reads and checks a rules document; throws config_error naming the
  /// offending field.
  static agent_rules parse(const nlohmann::json& doc);

  /// Loads `path`; throws config_error with the path in the message.
  static agent_rules load(const std::filesystem::path& path);
};

/// Lower-case ASCII words of `text`; other ASCII separates words, bytes of
/// multi-byte UTF-8 characters stay inside words. "Hasn't" gives "hasn",
/// "t": phrases are split the same way, so they still match.
std::vector<std::string> words_of(std::string_view text);

/// Replaces each {name} in `pattern` by values[name]; unknown names stay.
std::string fill_template(std::string_view pattern,
                          const std::map<std::string, std::string>& values);

} // namespace parley::agent
