#include "config/web_config.hpp"

#include <fstream>
#include <initializer_list>
#include <iterator>

#include <nlohmann/json.hpp>

#include "config/config_error.hpp"

namespace parley {

namespace {

using nlohmann::json;

class checker {
public:
  explicit checker(const std::string& source) : source_(source) {
    // nop
  }

  [[noreturn]] void bad(const std::string& where,
                        const std::string& what) const {
    throw config_error(source_ + ": " + where + ": " + what);
  }

  /// Member `key` of `obj` as a string of at most `max` bytes; blank ones
  /// only when `may_be_blank`.
  std::string text(const json& obj, const char* key, const std::string& where,
                   std::size_t max, bool may_be_blank) const {
    auto here = where.empty() ? std::string{key} : where + "." + key;
    auto it = obj.find(key);
    if (it == obj.end())
      bad(here, "is missing");
    if (!it->is_string())
      bad(here, "must be a string");
    auto value = it->get<std::string>();
    if (!may_be_blank
        && value.find_first_not_of(" \t\r\n") == std::string::npos)
      bad(here, "must not be empty");
    if (value.size() > max)
      bad(here, "has " + std::to_string(value.size()) + " bytes, at most "
                  + std::to_string(max) + " are allowed");
    return value;
  }

  void only_members(const json& obj, const std::string& where,
                    std::initializer_list<const char*> known) const {
    for (const auto& item : obj.items()) {
      bool ok = false;
      for (const char* name : known)
        ok = ok || item.key() == name;
      if (!ok)
        bad(where.empty() ? item.key() : where + "." + item.key(),
            "is not a known member (allowed: " + list(known) + ")");
    }
  }

private:
  static std::string list(std::initializer_list<const char*> names) {
    std::string result;
    for (const char* name : names)
      result += (result.empty() ? "" : ", ") + std::string{name};
    return result;
  }

  const std::string& source_;
};

} // namespace

web_config parse_web_config(std::string_view text, const std::string& source) {
  checker check{source};
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& err) {
    throw config_error(source + ": not valid JSON: " + err.what());
  }
  if (!doc.is_object())
    throw config_error(source + ": must be a JSON object");
  check.only_members(doc, "", {"comment", "title", "greeting", "suggestions"});
  web_config result;
  result.title = check.text(doc, "title", "", max_web_title_bytes, false);
  result.greeting = check.text(doc, "greeting", "", max_web_greeting_bytes,
                               true);
  auto it = doc.find("suggestions");
  if (it == doc.end())
    return result;
  if (!it->is_array())
    check.bad("suggestions", "must be an array");
  if (it->size() > max_web_suggestions)
    check.bad("suggestions", "has " + std::to_string(it->size())
                               + " items, at most "
                               + std::to_string(max_web_suggestions)
                               + " are allowed");
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& item = (*it)[i];
    auto where = "suggestions[" + std::to_string(i) + "]";
    if (!item.is_object())
      check.bad(where, "must be an object with \"label\" and \"text\"");
    check.only_members(item, where, {"label", "text"});
    web_suggestion s;
    s.label = check.text(item, "label", where, max_web_label_bytes, false);
    s.text = check.text(item, "text", where, max_web_suggestion_bytes,
                        false);
    result.suggestions.push_back(std::move(s));
  }
  return result;
}

web_config read_web_config_file(const std::string& path) {
  auto source = "web config '" + path + "'";
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw config_error(source + ": cannot be read");
  std::string text{std::istreambuf_iterator<char>{in},
                   std::istreambuf_iterator<char>{}};
  if (in.bad())
    throw config_error(source + ": cannot be read");
  return parse_web_config(text, source);
}

} // namespace parley
