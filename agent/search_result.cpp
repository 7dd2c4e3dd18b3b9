#include "agent/search_result.hpp"

#include <nlohmann/json.hpp>

namespace parley::agent {

void to_json(nlohmann::json& out, const knowledge_match& match) {
  out = nlohmann::json{{"source", match.source},
                       {"title", match.title},
                       {"section", match.section},
                       {"content", match.content},
                       {"score", match.score}};
}

void to_json(nlohmann::json& out, const search_result& result) {
  out = nlohmann::json{{"query", result.query},
                       {"top_k", result.top_k},
                       {"matches", result.matches}};
}

} // namespace parley::agent
