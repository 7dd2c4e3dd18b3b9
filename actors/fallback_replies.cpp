#include "actors/fallback_replies.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "agent/agent_rules.hpp"

namespace parley {

namespace {

template <std::size_t N>
bool has_any(const std::vector<std::string>& words,
             const std::array<std::string_view, N>& keys) {
  return std::any_of(words.begin(), words.end(), [&](const std::string& w) {
    return std::find(keys.begin(), keys.end(), w) != keys.end();
  });
}

bool has_pair(const std::vector<std::string>& words, std::string_view first,
              std::string_view second) {
  for (std::size_t i = 0; i + 1 < words.size(); ++i)
    if (words[i] == first && words[i + 1] == second)
      return true;
  return false;
}

constexpr std::array<std::string_view, 5> thanks_words{
  "thanks", "thx", "ty", "thankyou", "cheers"};
constexpr std::array<std::string_view, 5> goodbye_words{
  "bye", "goodbye", "farewell", "cya", "later"};
constexpr std::array<std::string_view, 7> greeting_words{
  "hi", "hello", "hey", "hiya", "howdy", "greetings", "yo"};
constexpr std::array<std::string_view, 3> help_words{"help", "assist",
                                                      "support"};
constexpr std::array<std::string_view, 12> order_words{
  "order",    "orders",   "package",  "parcel", "delivery", "delivered",
  "shipping", "shipped",  "tracking", "track",  "refund",   "shipment"};
constexpr std::array<std::string_view, 14> knowledge_words{
  "policy",  "policies", "warranty", "return",  "returns",  "payment",
  "payments", "pay",     "account",  "password", "hours",   "price",
  "invoice", "exchange"};

/// A number of three or more digits, as order numbers are written.
bool has_order_number(const std::vector<std::string>& words) {
  return std::any_of(words.begin(), words.end(), [](const std::string& w) {
    return w.size() >= 3
           && std::all_of(w.begin(), w.end(), [](unsigned char c) {
                return std::isdigit(c) != 0;
              });
  });
}

std::size_t assistant_turns(const std::vector<chat_turn>& history) {
  return static_cast<std::size_t>(
    std::count_if(history.begin(), history.end(),
                  [](const chat_turn& t) { return t.role == "assistant"; }));
}

/// How many of the most recent assistant turns were "did not understand".
std::size_t recent_misunderstandings(const std::vector<chat_turn>& history,
                                     std::string_view marker) {
  std::size_t count = 0;
  for (auto i = history.rbegin(); i != history.rend(); ++i) {
    if (i->role != "assistant")
      continue;
    if (i->text.find(marker) == std::string::npos)
      break;
    ++count;
  }
  return count;
}

constexpr std::string_view unknown_marker = "I'm not sure I understood";

} // namespace

const char* to_string(fallback_topic topic) noexcept {
  switch (topic) {
    case fallback_topic::greeting:
      return "greeting";
    case fallback_topic::thanks:
      return "thanks";
    case fallback_topic::goodbye:
      return "goodbye";
    case fallback_topic::order:
      return "order";
    case fallback_topic::knowledge:
      return "knowledge";
    case fallback_topic::help:
      return "help";
    case fallback_topic::unknown:
      break;
  }
  return "unknown";
}

const char* const limited_mode_note
  = "(I'm in limited mode right now, so I can only give basic answers.)";

fallback_topic classify_fallback_topic(std::string_view text) {
  // The agent's word splitting, so both read a message alike.
  auto words = agent::words_of(text);
  if (has_any(words, thanks_words) || has_pair(words, "thank", "you"))
    return fallback_topic::thanks;
  if (has_any(words, goodbye_words) || has_pair(words, "see", "you"))
    return fallback_topic::goodbye;
  if (has_any(words, greeting_words) || has_pair(words, "good", "morning")
      || has_pair(words, "good", "afternoon")
      || has_pair(words, "good", "evening"))
    return fallback_topic::greeting;
  if (has_any(words, order_words) || has_order_number(words))
    return fallback_topic::order;
  if (has_any(words, knowledge_words))
    return fallback_topic::knowledge;
  if (has_any(words, help_words) || has_pair(words, "can", "you"))
    return fallback_topic::help;
  return fallback_topic::unknown;
}

namespace {

std::string topic_reply(std::string_view text,
                        const std::vector<chat_turn>& history) {
  switch (classify_fallback_topic(text)) {
    case fallback_topic::greeting:
      if (assistant_turns(history) > 0)
        return "Hello again! What else can I help you with?";
      return "Hello! I'm Parley's support assistant. How can I help you "
             "today?";
    case fallback_topic::thanks:
      return "You're welcome! Is there anything else I can help you with?";
    case fallback_topic::goodbye:
      return "Goodbye, and thanks for chatting with us. Come back any time!";
    case fallback_topic::order:
      return "I can't look up orders at the moment. Please keep your order "
             "number at hand; a member of our team can check it for you if "
             "you say \"agent\", or try again in a little while.";
    case fallback_topic::knowledge:
      return "I can't search our help articles at the moment. Our policies "
             "on returns, shipping, payments and accounts are on our help "
             "pages; or say \"agent\" and a member of our team will answer.";
    case fallback_topic::help:
      return "I can help with questions about orders, shipping, returns and "
             "your account. Tell me what you need, and include an order "
             "number if you have one.";
    case fallback_topic::unknown:
      break;
  }
  if (recent_misunderstandings(history, unknown_marker) >= 2)
    return std::string{unknown_marker}
           + " again, sorry. If you'd rather talk to a person, say \"agent\" "
             "and a member of our team will pick up the conversation.";
  return std::string{unknown_marker}
         + " that. Could you tell me a little more, for example your order "
           "number or what you'd like to do?";
}

} // namespace

std::string fallback_reply(std::string_view text,
                           const std::vector<chat_turn>& history,
                           bool limited) {
  auto reply = topic_reply(text, history);
  if (limited)
    reply += std::string{" "} + limited_mode_note;
  return reply;
}

std::int32_t estimate_tokens(std::string_view text) noexcept {
  return static_cast<std::int32_t>((text.size() + 3) / 4);
}

} // namespace parley
