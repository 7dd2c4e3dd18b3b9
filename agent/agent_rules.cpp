#include "agent/agent_rules.hpp"

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "config/config_error.hpp"

namespace parley::agent {

namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw config_error(where + ": " + what);
}

std::string text_at(const json& obj, const char* key, const std::string& where,
                    bool required = true) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required)
      bad(where, std::string{"missing \""} + key + "\"");
    return {};
  }
  if (!it->is_string())
    bad(where + "." + key, "must be a string");
  return it->get<std::string>();
}

template <class T>
void number_at(const json& obj, const char* key, const std::string& where,
               T& out, T min, T max) {
  auto it = obj.find(key);
  if (it == obj.end())
    return;
  if (!it->is_number())
    bad(where + "." + key, "must be a number");
  // Checked as a double first: converting 1e300 to an int is undefined.
  auto number = it->get<double>();
  if (!(number >= static_cast<double>(min)
        && number <= static_cast<double>(max)))
    bad(where + "." + key, "out of range");
  out = it->get<T>();
}

agent_settings parse_settings(const json& doc) {
  agent_settings s;
  auto it = doc.find("settings");
  if (it == doc.end())
    return s;
  if (!it->is_object())
    bad("settings", "must be an object");
  number_at(*it, "min_llm_confidence", "settings", s.min_llm_confidence, 0.0,
            1.0);
  number_at(*it, "handoff_after_low_confidence", "settings",
            s.handoff_after_low_confidence, 0, 100);
  number_at(*it, "low_confidence", "settings", s.low_confidence, 0.0, 1.0);
  number_at(*it, "max_tool_rounds", "settings", s.max_tool_rounds, 1, 10);
  number_at(*it, "knowledge_min_score", "settings", s.knowledge_min_score, 0.0,
            1000.0);
  number_at(*it, "knowledge_top_k", "settings", s.knowledge_top_k, 1, 5);
  return s;
}

slot_rule parse_slot(const std::string& name, const json& obj) {
  auto where = "slots." + name;
  if (!obj.is_object())
    bad(where, "must be an object");
  slot_rule slot;
  slot.name = name;
  auto kind = text_at(obj, "kind", where);
  if (kind == "number")
    slot.kind = slot_kind::number;
  else if (kind == "email_or_phone")
    slot.kind = slot_kind::email_or_phone;
  else
    bad(where + ".kind", "unknown kind \"" + kind
                           + "\" (number, email_or_phone)");
  number_at(obj, "min_digits", where, slot.min_digits, 1, 64);
  number_at(obj, "max_digits", where, slot.max_digits, slot.min_digits, 64);
  slot.prompt = text_at(obj, "prompt", where);
  slot.reprompt = text_at(obj, "reprompt", where, false);
  if (slot.reprompt.empty())
    slot.reprompt = slot.prompt;
  return slot;
}

intent_rule parse_intent(const json& obj, const std::string& where,
                         const std::map<std::string, slot_rule>& slots) {
  if (!obj.is_object())
    bad(where, "must be an object");
  intent_rule intent;
  intent.name = text_at(obj, "name", where);
  if (!is_known_intent(intent.name) || intent.name == "UNKNOWN")
    bad(where + ".name", "\"" + intent.name + "\" is not a routable intent");
  auto phrases = obj.find("phrases");
  if (phrases == obj.end() || !phrases->is_array() || phrases->empty())
    bad(where + ".phrases", "must be a non-empty array of strings");
  for (const auto& phrase : *phrases) {
    if (!phrase.is_string())
      bad(where + ".phrases", "must hold strings");
    auto words = words_of(phrase.get<std::string>());
    if (words.empty())
      bad(where + ".phrases", "\"" + phrase.get<std::string>()
                                + "\" has no words");
    intent.phrases.push_back(std::move(words));
  }
  auto action = text_at(obj, "action", where);
  if (!from_string(action, intent.action)
      || intent.action == next_action::ask_for_slot)
    bad(where + ".action", "must be \"respond\" or \"call_tool\"");
  intent.tool = text_at(obj, "tool", where,
                        intent.action == next_action::call_tool);
  intent.slot = text_at(obj, "slot", where, false);
  if (!intent.slot.empty() && slots.count(intent.slot) == 0)
    bad(where + ".slot", "unknown slot \"" + intent.slot + "\"");
  intent.reply = text_at(obj, "reply", where,
                         intent.action == next_action::respond);
  if (auto h = obj.find("handoff"); h != obj.end()) {
    if (!h->is_boolean())
      bad(where + ".handoff", "must be true or false");
    intent.handoff = h->get<bool>();
  }
  return intent;
}

bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c >= 0x80;
}

} // namespace

const char* to_string(next_action action) noexcept {
  switch (action) {
    case next_action::respond:
      return "respond";
    case next_action::ask_for_slot:
      return "ask_for_slot";
    case next_action::call_tool:
      return "call_tool";
  }
  return "respond";
}

bool from_string(std::string_view text, next_action& out) noexcept {
  for (auto action : {next_action::respond, next_action::ask_for_slot,
                      next_action::call_tool}) {
    if (text == to_string(action)) {
      out = action;
      return true;
    }
  }
  return false;
}

bool is_known_intent(std::string_view name) noexcept {
  return std::any_of(std::begin(known_intents), std::end(known_intents),
                     [name](const char* known) { return name == known; });
}

const intent_rule* agent_rules::find_intent(std::string_view name) const {
  for (const auto& intent : intents)
    if (intent.name == name)
      return &intent;
  return nullptr;
}

const slot_rule* agent_rules::find_slot(std::string_view name) const {
  auto it = slots.find(std::string{name});
  return it == slots.end() ? nullptr : &it->second;
}

const std::string& agent_rules::reply(const std::string& key) const {
  static const std::string none;
  auto it = replies.find(key);
  return it == replies.end() ? none : it->second;
}

agent_rules agent_rules::parse(const json& doc) {
  if (!doc.is_object())
    bad("agent rules", "the document must be a JSON object");
  agent_rules rules;
  rules.settings = parse_settings(doc);
  if (auto it = doc.find("slots"); it != doc.end()) {
    if (!it->is_object())
      bad("slots", "must be an object");
    for (const auto& [name, obj] : it->items())
      rules.slots.emplace(name, parse_slot(name, obj));
  }
  auto intents = doc.find("intents");
  if (intents == doc.end() || !intents->is_array() || intents->empty())
    bad("intents", "must be a non-empty array");
  for (std::size_t i = 0; i < intents->size(); ++i) {
    auto where = "intents[" + std::to_string(i) + "]";
    auto intent = parse_intent((*intents)[i], where, rules.slots);
    if (rules.find_intent(intent.name))
      bad(where + ".name", "\"" + intent.name + "\" appears twice");
    rules.intents.push_back(std::move(intent));
  }
  auto unknown = doc.find("unknown");
  if (unknown == doc.end() || !unknown->is_object())
    bad("unknown", "must be an object with \"reply\"");
  rules.unknown_reply = text_at(*unknown, "reply", "unknown");
  rules.handoff_notice = text_at(*unknown, "handoff_notice", "unknown");
  if (auto it = doc.find("replies"); it != doc.end()) {
    if (!it->is_object())
      bad("replies", "must be an object");
    for (const auto& [key, value] : it->items()) {
      if (!value.is_string())
        bad("replies." + key, "must be a string");
      rules.replies.emplace(key, value.get<std::string>());
    }
  }
  return rules;
}

agent_rules agent_rules::load(const std::filesystem::path& path) {
  std::ifstream in{path};
  if (!in)
    throw config_error("cannot read the agent rules " + path.string());
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception& err) {
    throw config_error("agent rules " + path.string()
                       + " are not valid JSON: " + err.what());
  }
  try {
    return parse(doc);
  } catch (const config_error& err) {
    throw config_error("agent rules " + path.string() + ": " + err.what());
  }
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> result;
  std::string word;
  for (char c : text) {
    auto uc = static_cast<unsigned char>(c);
    if (is_word_byte(uc)) {
      word += (uc >= 'A' && uc <= 'Z') ? static_cast<char>(uc - 'A' + 'a') : c;
    } else if (!word.empty()) {
      result.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty())
    result.push_back(std::move(word));
  return result;
}

std::string fill_template(std::string_view pattern,
                          const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(pattern.size());
  std::size_t pos = 0;
  while (pos < pattern.size()) {
    auto open = pattern.find('{', pos);
    if (open == std::string_view::npos) {
      out.append(pattern.substr(pos));
      break;
    }
    auto close = pattern.find('}', open + 1);
    if (close == std::string_view::npos) {
      out.append(pattern.substr(pos));
      break;
    }
    out.append(pattern.substr(pos, open - pos));
    auto name = std::string{pattern.substr(open + 1, close - open - 1)};
    if (auto it = values.find(name); it != values.end())
      out += it->second;
    else
      out.append(pattern.substr(open, close - open + 1));
    pos = close + 1;
  }
  return out;
}

} // namespace parley::agent
