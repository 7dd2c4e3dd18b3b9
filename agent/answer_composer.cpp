#include "agent/answer_composer.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

namespace parley::agent {

using nlohmann::json;

namespace {

std::string text_of(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

/// "2 × Desk lamp, 1 × USB cable"
std::string items_of(const json& order) {
  auto it = order.find("items");
  if (it == order.end() || !it->is_array())
    return {};
  std::string out;
  for (const auto& item : *it) {
    if (!out.empty())
      out += ", ";
    if (item.is_string()) {
      out += item.get<std::string>();
      continue;
    }
    auto name = text_of(item, "name");
    auto quantity = text_of(item, "quantity");
    out += quantity.empty() || quantity == "1" ? name
                                               : quantity + " × " + name;
  }
  return out;
}

bool same_ignoring_case(const std::string& a, const std::string& b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              return std::tolower(static_cast<unsigned char>(x))
                     == std::tolower(static_cast<unsigned char>(y));
            });
}

/// A match as people name it: "Title › Section", or just the title for a
/// document's introduction, whose heading is the title again.
std::string label_of(const json& match) {
  auto title = text_of(match, "title");
  auto section = text_of(match, "section");
  if (section.empty() || same_ignoring_case(section, title))
    return title;
  if (title.empty())
    return section;
  return title + " › " + section;
}

} // namespace

answer_composer::answer_composer(std::shared_ptr<const agent_rules> rules)
  : rules_(std::move(rules)) {
}

std::string answer_composer::reply(const std::string& key) const {
  return rules_->reply(key);
}

std::string answer_composer::reply_for(const route& r) const {
  if (const auto* intent = rules_->find_intent(r.intent);
      intent && !intent->reply.empty())
    return intent->reply;
  return rules_->unknown_reply;
}

std::string answer_composer::slot_prompt(const std::string& slot,
                                         bool again) const {
  const auto* rule = rules_->find_slot(slot);
  if (!rule)
    return rules_->unknown_reply;
  return again ? rule->reprompt : rule->prompt;
}

std::string answer_composer::order_answer(const std::string& intent,
                                          const json& result) const {
  std::map<std::string, std::string> values{
    {"order_id", text_of(result, "order_id")},
    {"status", text_of(result, "status")},
    {"carrier", text_of(result, "carrier")},
    {"tracking", text_of(result, "tracking")},
    {"items", items_of(result)}};
  if (result.contains("error"))
    return fill_template(reply("order_not_found"), values);
  const auto& status = values["status"];
  if (intent == "REFUND_ORDER") {
    auto text = fill_template(reply("refund_intro"), values);
    bool shipped = status == "shipped" || status == "delivered";
    auto next = reply(shipped || status == "cancelled" ? "refund_next_steps"
                                                       : "refund_not_shipped");
    return text + " " + fill_template(next, values);
  }
  std::string key = "order_found";
  if (status == "shipped" && !values["carrier"].empty())
    key = "order_shipped";
  else if (status == "delivered" && !values["carrier"].empty())
    key = "order_delivered";
  else if (status == "processing")
    key = "order_processing";
  else if (status == "cancelled")
    key = "order_cancelled";
  auto text = fill_template(reply(key), values);
  if (!values["items"].empty() && !reply("order_items").empty())
    text += " " + fill_template(reply("order_items"), values);
  return text;
}

std::string answer_composer::knowledge_answer(const json& result,
                                              bool& found) const {
  found = false;
  auto matches = result.find("matches");
  if (matches == result.end() || !matches->is_array() || matches->empty())
    return reply("knowledge_none");
  const auto& best = matches->front();
  auto score = best.value("score", 0.0);
  if (score < rules_->settings.knowledge_min_score)
    return reply("knowledge_none");
  found = true;
  auto title = text_of(best, "title");
  auto section = text_of(best, "section");
  // An introduction is headed by its title: name it once.
  auto key = "knowledge_answer";
  if (same_ignoring_case(section, title)
      && !reply("knowledge_answer_title").empty())
    key = "knowledge_answer_title";
  auto text = fill_template(reply(key),
                            {{"title", title},
                             {"section", section},
                             {"content", text_of(best, "content")},
                             {"source", text_of(best, "source")}});
  // The other good matches, as pointers: each once, and not the one quoted.
  std::vector<std::string> listed{label_of(best)};
  std::string others;
  for (std::size_t i = 1; i < matches->size(); ++i) {
    const auto& m = (*matches)[i];
    if (m.value("score", 0.0) < rules_->settings.knowledge_min_score)
      continue;
    auto label = label_of(m);
    if (std::find(listed.begin(), listed.end(), label) != listed.end())
      continue;
    listed.push_back(label);
    if (!others.empty())
      others += ", ";
    others += label;
  }
  if (!others.empty() && !reply("knowledge_more").empty())
    text += "\n\n" + fill_template(reply("knowledge_more"),
                                   {{"others", others}});
  return text;
}

} // namespace parley::agent
