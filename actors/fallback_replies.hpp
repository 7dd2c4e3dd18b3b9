#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actors/chat_state.hpp"

namespace parley {

/// What a user message is about, as far as keyword rules can tell.
enum class fallback_topic {
  greeting,
  thanks,
  goodbye,
  order,     // orders, deliveries, tracking, refunds, an order number
  knowledge, // a question about policies, payments, accounts, ...
  help,
  unknown,
};

const char* to_string(fallback_topic topic) noexcept;

/// Classifies by whole words, case-insensitively ("hi" matches "Hi!" but not
/// "this"). The earliest rule that matches wins: thanks, goodbye, greeting,
/// order, knowledge, help.
fallback_topic classify_fallback_topic(std::string_view text);

/// The reply the fallback responder gives, aware of the conversation so far
/// (a second greeting is answered as one, repeated misunderstandings point
/// the user to a human). `limited` (an LLM is configured but unavailable)
/// adds a plain note that the assistant is in limited mode.
std::string fallback_reply(std::string_view text,
                           const std::vector<chat_turn>& history,
                           bool limited = false);

/// The note added in limited mode.
extern const char* const limited_mode_note;

/// A rough token count for text without a tokenizer: about four bytes per
/// token, as the usual BPE vocabularies average on English.
std::int32_t estimate_tokens(std::string_view text) noexcept;

} // namespace parley
