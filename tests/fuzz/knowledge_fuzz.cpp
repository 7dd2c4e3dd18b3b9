#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "agent/knowledge_index.hpp"
#include "agent/markdown_sections.hpp"
#include "agent/utf8_text.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/targets.hpp"

// The input is a script of lines:
//   === NAME      the lines up to the next command are document NAME (put)
//   !!! NAME      erase document NAME
//   ??? QUERY     search (top_k cycles through 1..5)
// Documents are cleaned of invalid UTF-8 first, as the knowledge base
// refuses such files before they reach the index.
namespace parley::fuzz {

namespace {

using agent::knowledge_index;

struct command {
  char kind; // '=', '!' or '?'
  std::string argument;
  std::string body; // for '='
};

std::vector<command> read_script(std::string_view text) {
  std::vector<command> script;
  for (auto line : lines_of(text)) {
    if (line.size() >= 4
        && (line.substr(0, 4) == "=== " || line.substr(0, 4) == "!!! "
            || line.substr(0, 4) == "??? ")) {
      // Queries stay as sent: search() drops invalid bytes itself.
      auto argument = line.substr(4);
      script.push_back({line[0],
                        line[0] == '?' ? std::string{argument}
                                       : agent::drop_invalid_utf8(argument),
                        {}});
    } else if (!script.empty() && script.back().kind == '=') {
      script.back().body.append(line);
      script.back().body += '\n';
    }
  }
  return script;
}

void check_result(const agent::search_result& result,
                  const knowledge_index& index, std::size_t top_k) {
  FUZZ_CHECK(result.matches.size() <= top_k);
  FUZZ_CHECK(!agent::find_invalid_utf8(result.query));
  for (std::size_t i = 0; i < result.matches.size(); ++i) {
    const auto& match = result.matches[i];
    FUZZ_CHECK(std::isfinite(match.score) && match.score > 0);
    FUZZ_CHECK(index.contains(match.source));
    if (i > 0)
      FUZZ_CHECK(result.matches[i - 1].score >= match.score);
    // At most the limit, and " …" when cut.
    FUZZ_CHECK(agent::utf8_length(match.content)
               <= knowledge_index::max_content_chars + 2);
  }
  // The REST API and the tool send results as JSON: they must serialize
  // without a replacement policy.
  nlohmann::json doc = result;
  auto text = doc.dump();
  FUZZ_CHECK(!text.empty());
}

/// Same matches, scores equal up to rounding.
bool same_ranking(const agent::search_result& a,
                  const agent::search_result& b) {
  if (a.matches.size() != b.matches.size())
    return false;
  for (std::size_t i = 0; i < a.matches.size(); ++i) {
    auto x = a.matches[i].score;
    auto y = b.matches[i].score;
    if (std::fabs(x - y) > 1e-9 * std::max(1.0, std::fabs(x)))
      return false;
  }
  return true;
}

} // namespace

int fuzz_knowledge(const std::uint8_t* data, std::size_t size) {
  auto script = read_script(as_text(data, size));
  knowledge_index index;
  std::map<std::string, agent::markdown_document> live;
  std::vector<std::string> queries;
  std::size_t top_k = 0;
  for (const auto& cmd : script) {
    switch (cmd.kind) {
      case '=': {
        auto doc = agent::split_markdown_sections(
          agent::drop_invalid_utf8(cmd.body), cmd.argument);
        index.put(cmd.argument, doc);
        live[cmd.argument] = std::move(doc);
        break;
      }
      case '!':
        FUZZ_CHECK(index.erase(cmd.argument) == (live.erase(cmd.argument) > 0));
        break;
      default: {
        top_k = top_k % 5 + 1;
        auto result = index.search(cmd.argument, top_k);
        check_result(result, index, top_k);
        // Searching is pure: the same query gives the same answer.
        auto again = index.search(cmd.argument, top_k);
        FUZZ_CHECK(same_ranking(result, again));
        queries.push_back(cmd.argument);
        break;
      }
    }
    FUZZ_CHECK(index.document_count() == live.size());
    std::size_t sections = 0;
    for (const auto& [source, doc] : live)
      sections += doc.sections.size();
    FUZZ_CHECK(index.section_count() == sections);
  }
  // The history of puts and erases leaves no trace: an index built afresh
  // from the live documents ranks every query the same.
  knowledge_index fresh;
  for (const auto& [source, doc] : live)
    fresh.put(source, doc);
  auto sources = index.sources();
  FUZZ_CHECK(sources == fresh.sources());
  for (const auto& query : queries)
    FUZZ_CHECK(same_ranking(index.search(query, 5), fresh.search(query, 5)));
  return 0;
}

} // namespace parley::fuzz
