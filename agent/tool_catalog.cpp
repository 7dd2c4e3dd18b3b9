#include "agent/tool_catalog.hpp"

#include <stdexcept>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace parley::agent {

using nlohmann::json;

struct tool_catalog::entry {
  tool_spec spec;
  valijson::Schema schema;
};

tool_catalog::tool_catalog() = default;
tool_catalog::~tool_catalog() = default;
tool_catalog::tool_catalog(tool_catalog&&) noexcept = default;
tool_catalog& tool_catalog::operator=(tool_catalog&&) noexcept = default;

void tool_catalog::add(tool_spec spec) {
  if (entries_.count(spec.name) != 0)
    throw std::invalid_argument("tool " + spec.name + " is registered twice");
  auto item = std::make_unique<entry>();
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter adapter(spec.parameters);
  try {
    parser.populateSchema(adapter, item->schema);
  } catch (const std::exception& err) {
    throw std::invalid_argument("tool " + spec.name
                                + " has an invalid schema: " + err.what());
  }
  auto name = spec.name;
  item->spec = std::move(spec);
  entries_.emplace(std::move(name), std::move(item));
}

const tool_spec* tool_catalog::find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second->spec;
}

std::optional<std::string> tool_catalog::check(const std::string& name,
                                               const json& args) const {
  auto it = entries_.find(name);
  if (it == entries_.end())
    return "unknown tool " + name;
  valijson::Validator validator{valijson::Validator::kStrongTypes};
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(args);
  if (validator.validate(it->second->schema, target, &results))
    return std::nullopt;
  // valijson reports the failing node's path ("<root>", "[order_id]") and
  // each enclosing check; the innermost errors say the most.
  std::string message;
  valijson::ValidationResults::Error error;
  int shown = 0;
  while (results.popError(error) && shown < 3) {
    std::string where;
    for (const auto& part : error.context)
      if (part != "<root>")
        where += part;
    if (!message.empty())
      message += "; ";
    message += where.empty() ? error.description
                             : where + ": " + error.description;
    ++shown;
  }
  return message.empty() ? std::string{"invalid arguments"} : message;
}

json tool_catalog::openai_tools() const {
  json tools = json::array();
  for (const auto& [name, item] : entries_)
    tools.push_back(json{{"type", "function"},
                         {"function",
                          {{"name", item->spec.name},
                           {"description", item->spec.description},
                           {"parameters", item->spec.parameters}}}});
  return tools;
}

std::size_t tool_catalog::size() const noexcept {
  return entries_.size();
}

tool_spec get_order_spec() {
  return {"get_order",
          "Look up an order by its number: status, carrier, tracking number "
          "and items. Answers {\"error\":\"not found\"} for unknown numbers.",
          json{{"type", "object"},
               {"properties",
                {{"order_id",
                  {{"type", "string"},
                   {"minLength", 1},
                   {"maxLength", 64},
                   {"description", "The order number, e.g. \"124\""}}}}},
               {"required", {"order_id"}},
               {"additionalProperties", false}}};
}

tool_spec knowledge_search_spec() {
  return {"knowledge_search",
          "Search the shop's help articles (returns, shipping, orders, "
          "warranty, payments, account, company information). Returns the "
          "best matching sections with their source.",
          json{{"type", "object"},
               {"properties",
                {{"query",
                  {{"type", "string"},
                   {"minLength", 1},
                   {"maxLength", 1000},
                   {"description", "What to search for"}}},
                 {"top_k",
                  {{"type", "integer"},
                   {"minimum", min_top_k},
                   {"maximum", max_top_k},
                   {"default", default_top_k},
                   {"description", "How many sections to return"}}}}},
               {"required", {"query"}},
               {"additionalProperties", false}}};
}

} // namespace parley::agent
