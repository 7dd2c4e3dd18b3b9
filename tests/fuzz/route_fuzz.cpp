#include <memory>

#include <nlohmann/json.hpp>

#include "agent/agent_rules.hpp"
#include "agent/conversation_state.hpp"
#include "agent/route.hpp"
#include "agent/rule_router.hpp"
#include "config/config_error.hpp"
#include "config/embedded_defaults.hpp"
#include "config/url_encoding.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/targets.hpp"

// The whole input is read as an LLM's `route` arguments, as a stored
// conversation state and, when it is a JSON object with "intents", as a
// rules file. Then the first line is a routing context ("INTENT SLOT") and
// the rest a customer's message for the rule router (with config/agent.json
// built in, and with the input's own rules when they load).
namespace parley::fuzz {

namespace {

using nlohmann::json;
using namespace parley::agent;

const std::shared_ptr<const agent_rules>& default_rules() {
  static const auto rules = std::make_shared<const agent_rules>(
    agent_rules::parse(json::parse(embedded_agent_rules())));
  return rules;
}

void check_route(const route& r, const agent_rules& rules,
                 std::string_view text) {
  FUZZ_CHECK(is_known_intent(r.intent));
  FUZZ_CHECK(r.confidence >= 0 && r.confidence <= 1);
  FUZZ_CHECK(r.tool_args.is_object());
  if (r.action == next_action::call_tool)
    FUZZ_CHECK(!r.tool_name.empty());
  if (r.action == next_action::ask_for_slot)
    FUZZ_CHECK(rules.find_slot(r.slot_to_request) != nullptr);
  // Events record the route; the tool gets its arguments as JSON text.
  if (is_valid_utf8(text)) {
    auto doc = to_json(r);
    FUZZ_CHECK(!doc.dump().empty());
    FUZZ_CHECK(!r.tool_args.dump().empty());
  }
}

void route_text(const rule_router& router, std::string_view context,
                std::string_view text) {
  routing_context ctx;
  auto space = context.find(' ');
  ctx.intent = std::string{context.substr(0, space)};
  if (space != std::string_view::npos)
    ctx.pending_slot = std::string{context.substr(space + 1)};
  auto r = router.decide(text, ctx);
  check_route(r, router.rules(), text);
  for (const auto& [name, slot] : router.rules().slots) {
    auto value = rule_router::extract_slot(slot, text);
    if (value)
      FUZZ_CHECK(!value->empty() && text.find(*value) != std::string_view::npos);
  }
}

void check_llm_route(std::string_view input, const agent_rules& rules) {
  std::string why;
  auto r = parse_llm_route(input, rules, &why);
  if (!r) {
    FUZZ_CHECK(!why.empty());
    return;
  }
  check_route(*r, rules, "");
  FUZZ_CHECK(r->origin == "llm");
  FUZZ_CHECK(r->confidence >= rules.settings.min_llm_confidence);
  // What the route tool's JSON says is what a second reading gives.
  auto again = parse_llm_route(to_json(*r).dump(), rules);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(to_json(*again) == to_json(*r));
}

} // namespace

int fuzz_route(const std::uint8_t* data, std::size_t size) {
  auto input = as_text(data, size);
  const auto& rules = default_rules();

  check_llm_route(input, *rules);

  auto state = conversation_state::parse(input);
  FUZZ_CHECK(state.low_confidence_streak >= 0
             && state.low_confidence_streak <= 1000);
  auto stored = conversation_state::parse(state.to_json_text());
  FUZZ_CHECK(stored.intent == state.intent);
  FUZZ_CHECK(stored.pending_slot == state.pending_slot);
  FUZZ_CHECK(stored.low_confidence_streak == state.low_confidence_streak);

  auto [context, text] = first_line(input);
  rule_router router{rules};
  route_text(router, context, text);
  route_text(router, "", input);
  FUZZ_CHECK(fill_template(input, {}) == input);

  auto doc = json::parse(input, nullptr, false);
  if (doc.is_object() && doc.contains("intents")) {
    std::shared_ptr<const agent_rules> own;
    try {
      own = std::make_shared<const agent_rules>(agent_rules::parse(doc));
    } catch (const config_error& e) {
      FUZZ_CHECK(e.what()[0] != '\0');
      return 0;
    }
    rule_router own_router{own};
    for (std::string_view message :
         {"hello", "where is my order 124?", "I want a refund for #555",
          "talk to a human please", "what is your return policy?",
          "my email is ann@example.com", "call me at +44 20 7946 0958"}) {
      route_text(own_router, "", message);
      for (const auto& intent : own->intents)
        for (const auto& [name, slot] : own->slots)
          route_text(own_router, intent.name + " " + name, message);
    }
    check_llm_route(input, *own);
  }
  return 0;
}

} // namespace parley::fuzz
