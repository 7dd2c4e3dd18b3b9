#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/markdown_sections.hpp"
#include "agent/search_result.hpp"
#include "agent/tokenizer.hpp"

namespace parley::agent {

/// How sections are ranked. The defaults are the usual BM25 constants
/// (Robertson & Zaragoza) with BM25F-style field weights: a term in the
/// section's heading counts three times, one in the document's title twice,
/// one in the body once, and the section's length is measured with the same
/// weights. The title's weight lifts every section of the right document;
/// the heading's picks the right section within it.
///
/// An introduction's score is multiplied by introduction_weight: it is a
/// short overview that names every topic of its document ("this page
/// explains our return policy, how to start a return and when you get your
/// money back"), so it matches many questions but answers few of them. At
/// one half it still comes first for a question about the topic as a whole.
struct bm25_parameters {
  double k1 = 1.2;             // term frequency saturation
  double b = 0.75;             // length normalisation
  double title_weight = 2.0;   // the document's `#` title
  double heading_weight = 3.0; // the section's `##` heading
  double body_weight = 1.0;
  double introduction_weight = 0.5;
};

/// An in-memory BM25 index over the sections of Markdown documents, with an
/// inverted index (term -> postings), so a query only touches the sections
/// that contain one of its terms.
///
/// Documents are added, replaced and removed one at a time by their source
/// (the path relative to the knowledge folder); the rest of the index is not
/// touched, and collection statistics (document frequencies, average length)
/// are read at query time, so they are always current.
///
/// Terms are the tokenizer's tokens with plurals folded (strip_plural), for
/// text and query alike. The introduction section is headed by the document
/// title, which counts once, as title.
///
/// Scores use BM25's non-negative idf, log(1 + (N - df + 0.5) / (df + 0.5)),
/// summed over the distinct terms of the query. Ties are broken by source,
/// then by the section's position in its document, so results never depend
/// on insertion order or hashing.
///
/// search() is const and touches no shared mutable state: concurrent
/// searches are safe; an update needs exclusive access.
class knowledge_index {
public:
  /// Matches returned when the caller does not say.
  static constexpr std::size_t default_top_k = 3;
  /// The range a caller should accept for top_k (clamping is its job).
  static constexpr std::size_t min_top_k = 1;
  static constexpr std::size_t max_top_k = 5;
  /// Longer section texts are cut by cut_excerpt (at a sentence end where
  /// possible, never inside Markdown) and end with "…".
  static constexpr std::size_t max_content_chars = 700;

  knowledge_index();

  explicit knowledge_index(bm25_parameters parameters,
                           agent::tokenizer tokens = agent::tokenizer{});

  /// Indexes the sections of `document` under `source`, replacing whatever
  /// was indexed under that source before.
  void put(const std::string& source, const markdown_document& document);

  /// Removes the sections indexed under `source`; false if there were none.
  bool erase(std::string_view source);

  /// The best `top_k` sections for `query`, best first; sections that share
  /// no term with the query never match. Invalid UTF-8 in the query is
  /// dropped (also from the echoed query, so the result always serialises).
  search_result search(std::string_view query,
                       std::size_t top_k = default_top_k) const;

  bool contains(std::string_view source) const;

  /// The indexed sources, sorted.
  std::vector<std::string> sources() const;

  std::size_t document_count() const noexcept {
    return documents_.size();
  }

  std::size_t section_count() const noexcept {
    return live_sections_;
  }

  const bm25_parameters& parameters() const noexcept {
    return parameters_;
  }

private:
  using section_id = std::uint32_t;
  using term_id = std::uint32_t;

  struct posting {
    section_id section;
    float frequency; // weighted: heading, title and body occurrences
  };

  struct section_entry {
    std::string source;
    std::string title;
    std::string heading;
    std::string content;
    std::uint32_t position = 0; // within its document
    double length = 0;          // weighted number of terms
    bool introduction = false;
    std::vector<term_id> terms; // distinct, to find its postings again
    bool live = false;
  };

  std::vector<std::string> terms_of(std::string_view text) const;
  term_id intern(const std::string& term);
  section_id allocate_section();
  void add_section(const std::string& source, const std::string& title,
                   const markdown_section& section, std::uint32_t position);
  bool ranks_before(section_id lhs, double lhs_score, section_id rhs,
                    double rhs_score) const;

  bm25_parameters parameters_;
  agent::tokenizer tokenizer_;
  /// source -> its sections, in document order
  std::map<std::string, std::vector<section_id>, std::less<>> documents_;
  std::vector<section_entry> sections_; // slots, reused after removal
  std::vector<section_id> free_sections_;
  std::unordered_map<std::string, term_id> term_ids_;
  std::vector<std::vector<posting>> postings_; // by term_id
  std::size_t live_sections_ = 0;
  double total_length_ = 0;
};

} // namespace parley::agent
