#include "agent/answer_composer.hpp"

#include <map>

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
  auto text = fill_template(reply("knowledge_answer"),
                            {{"title", text_of(best, "title")},
                             {"section", text_of(best, "section")},
                             {"content", text_of(best, "content")},
                             {"source", text_of(best, "source")}});
  // Other good matches from other documents, as pointers.
  std::string others;
  for (std::size_t i = 1; i < matches->size(); ++i) {
    const auto& m = (*matches)[i];
    if (m.value("score", 0.0) < rules_->settings.knowledge_min_score)
      continue;
    if (!others.empty())
      others += ", ";
    others += text_of(m, "title") + " › " + text_of(m, "section");
  }
  if (!others.empty() && !reply("knowledge_more").empty())
    text += "\n\n" + fill_template(reply("knowledge_more"),
                                   {{"others", others}});
  return text;
}

} // namespace parley::agent
