#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace parley::agent {

/// One section that matched a query.
struct knowledge_match {
  std::string source;  // the file's path relative to the knowledge folder
  std::string title;   // the document's title
  std::string section; // the section's heading
  std::string content; // the section's text, cut_excerpt to 700 characters
  double score = 0;    // BM25 score, higher is better
};

/// The answer to one query, best match first.
struct search_result {
  std::string query;
  std::size_t top_k = 0;
  std::vector<knowledge_match> matches;
};

/// {"source", "title", "section", "content", "score"}
void to_json(nlohmann::json& out, const knowledge_match& match);

/// {"query", "top_k", "matches": [...]}
void to_json(nlohmann::json& out, const search_result& result);

} // namespace parley::agent
