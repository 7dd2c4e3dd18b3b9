#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace parley::agent {

/// A tool as the LLM sees it: name, description and the JSON Schema of its
/// arguments.
struct tool_spec {
  std::string name;
  std::string description;
  nlohmann::json parameters;
};

/// The tools the agent offers, each with its compiled schema. Arguments are
/// checked here (with valijson) before any handler runs, so a handler only
/// ever sees arguments of the right shape and an LLM that sends bad ones
/// gets an error it can read.
class tool_catalog {
public:
  tool_catalog();
  ~tool_catalog();
  tool_catalog(tool_catalog&&) noexcept;
  tool_catalog& operator=(tool_catalog&&) noexcept;

  /// Adds a tool; throws std::invalid_argument if its schema is not a valid
  /// JSON Schema or the name is taken.
  void add(tool_spec spec);

  const tool_spec* find(const std::string& name) const;

  /// Nothing when `args` fit the tool's schema, otherwise a description of
  /// the first problems, e.g. "order_id: expected string".
  std::optional<std::string> check(const std::string& name,
                                   const nlohmann::json& args) const;

  /// The catalog as an OpenAI `tools` array.
  nlohmann::json openai_tools() const;

  std::size_t size() const noexcept;

private:
  struct entry;
  std::map<std::string, std::unique_ptr<entry>> entries_;
};

/// The support agent's tools: get_order and knowledge_search.
tool_spec get_order_spec();
tool_spec knowledge_search_spec();

/// knowledge_search's top_k bounds and default.
inline constexpr int min_top_k = 1;
inline constexpr int max_top_k = 5;
inline constexpr int default_top_k = 3;

} // namespace parley::agent
