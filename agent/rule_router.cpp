#include "agent/rule_router.hpp"

#include <algorithm>
#include <cctype>

namespace parley::agent {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// Phrase weight: longer phrases are stronger evidence ("where is my"
/// beats "return").
bool contains(const std::vector<std::string>& words,
              const std::vector<std::string>& phrase) {
  if (phrase.size() > words.size())
    return false;
  return std::search(words.begin(), words.end(), phrase.begin(), phrase.end())
         != words.end();
}

double confidence_of(int score) {
  return score >= 3 ? 0.9 : score == 2 ? 0.8 : 0.7;
}

/// A run of digits, optionally after '#', not glued to letters ("A124" or
/// "124b" are not order numbers).
std::optional<std::string> find_number(std::string_view text, int min_digits,
                                       int max_digits) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (!is_digit(text[i])) {
      ++i;
      continue;
    }
    auto start = i;
    while (i < text.size() && is_digit(text[i]))
      ++i;
    auto glued = [](char c) {
      return std::isalpha(static_cast<unsigned char>(c)) != 0;
    };
    bool free_before = start == 0 || !glued(text[start - 1]);
    bool free_after = i == text.size() || !glued(text[i]);
    auto len = static_cast<int>(i - start);
    if (free_before && free_after && len >= min_digits && len <= max_digits)
      return std::string{text.substr(start, i - start)};
  }
  return std::nullopt;
}

std::optional<std::string> find_email(std::string_view text) {
  auto at = text.find('@');
  while (at != std::string_view::npos) {
    auto is_mail_char = [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.'
             || c == '_' || c == '-' || c == '+';
    };
    auto begin = at;
    while (begin > 0 && is_mail_char(text[begin - 1]))
      --begin;
    auto end = at + 1;
    while (end < text.size() && is_mail_char(text[end]))
      ++end;
    while (end > at + 1 && text[end - 1] == '.')
      --end; // a sentence's full stop
    auto domain = text.substr(at + 1, end - at - 1);
    if (begin < at && domain.find('.') != std::string_view::npos
        && domain.front() != '.')
      return std::string{text.substr(begin, end - begin)};
    at = text.find('@', at + 1);
  }
  return std::nullopt;
}

/// Seven or more digits with the usual separators: "+44 20 7946 0958".
std::optional<std::string> find_phone(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (!is_digit(text[i]) && text[i] != '+') {
      ++i;
      continue;
    }
    auto start = i;
    int digits = 0;
    auto last_digit = i;
    while (i < text.size()
           && (is_digit(text[i]) || text[i] == ' ' || text[i] == '-'
               || text[i] == '(' || text[i] == ')'
               || (text[i] == '+' && i == start))) {
      if (is_digit(text[i])) {
        ++digits;
        last_digit = i;
      }
      ++i;
    }
    if (digits >= 7 && digits <= 15)
      return std::string{text.substr(start, last_digit - start + 1)};
    if (i == start)
      ++i;
  }
  return std::nullopt;
}

} // namespace

rule_router::rule_router(std::shared_ptr<const agent_rules> rules)
  : rules_(std::move(rules)) {
}

std::optional<std::string> rule_router::extract_slot(const slot_rule& slot,
                                                     std::string_view text) {
  switch (slot.kind) {
    case slot_kind::number:
      return find_number(text, slot.min_digits, slot.max_digits);
    case slot_kind::email_or_phone:
      if (auto mail = find_email(text))
        return mail;
      return find_phone(text);
  }
  return std::nullopt;
}

rule_router::scored
rule_router::best_intent(const std::vector<std::string>& words) const {
  scored best;
  for (const auto& intent : rules_->intents) {
    int score = 0;
    for (const auto& phrase : intent.phrases)
      if (contains(words, phrase))
        score += static_cast<int>(phrase.size());
    // A customer who asks for a person gets one, whatever else they said.
    if (score > 0 && intent.handoff)
      return scored{&intent, score};
    // Ties go to the intent listed first: the file orders them by priority.
    if (score > best.score)
      best = scored{&intent, score};
  }
  return best;
}

route rule_router::ask_for(const intent_rule& intent, const slot_rule& slot,
                          double confidence) const {
  route r;
  r.origin = "rules";
  r.intent = intent.name;
  r.confidence = confidence;
  r.action = next_action::ask_for_slot;
  r.slot_to_request = slot.name;
  return r;
}

route rule_router::from_intent(const intent_rule& intent, int score,
                               std::string_view text) const {
  route r;
  r.origin = "rules";
  r.intent = intent.name;
  r.confidence = confidence_of(score);
  r.action = intent.action;
  if (intent.action != next_action::call_tool)
    return r;
  r.tool_name = intent.tool;
  if (!intent.slot.empty()) {
    const auto* slot = rules_->find_slot(intent.slot);
    auto value = extract_slot(*slot, text);
    if (!value)
      return ask_for(intent, *slot, r.confidence);
    r.tool_args = nlohmann::json{{slot->name, *value}};
  } else {
    r.tool_args = nlohmann::json{{"query", std::string{text}},
                                 {"top_k", rules_->settings.knowledge_top_k}};
  }
  return r;
}

route rule_router::decide(std::string_view text,
                          const routing_context& ctx) const {
  auto words = words_of(text);
  auto best = best_intent(words);
  // An answer to the question the agent asked: the slot's value continues
  // the pending intent. A message without one that matches no intent gets
  // the question again; one that does is a new topic.
  if (!ctx.pending_slot.empty()) {
    const auto* slot = rules_->find_slot(ctx.pending_slot);
    const auto* pending = rules_->find_intent(ctx.intent);
    if (slot && pending && pending->action == next_action::call_tool) {
      bool escalates = best.intent && best.intent->handoff;
      if (auto value = extract_slot(*slot, text); value && !escalates) {
        route r;
        r.origin = "rules";
        r.intent = pending->name;
        r.confidence = 0.9;
        r.action = next_action::call_tool;
        r.tool_name = pending->tool;
        r.tool_args = nlohmann::json{{slot->name, *value}};
        return r;
      }
      if (!best.intent)
        return ask_for(*pending, *slot, 0.5);
    }
  }
  if (best.intent)
    return from_intent(*best.intent, best.score, text);
  // No phrase matched. A bare order number is an order question; anything
  // that reads like a question is worth a knowledge search.
  const auto* order = rules_->find_intent("GET_ORDER_INFORMATION");
  if (order && !order->slot.empty()) {
    const auto* slot = rules_->find_slot(order->slot);
    if (slot && extract_slot(*slot, text))
      return from_intent(*order, 0, text);
  }
  const auto* knowledge = rules_->find_intent("KNOWLEDGE_QA");
  bool question = text.find('?') != std::string_view::npos
                  || words.size() >= 4;
  if (knowledge && question) {
    auto r = from_intent(*knowledge, 0, text);
    r.confidence = 0.45;
    return r;
  }
  route r;
  r.origin = "rules";
  r.intent = "UNKNOWN";
  r.confidence = 0.2;
  return r;
}

} // namespace parley::agent
