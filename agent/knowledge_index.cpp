#include "agent/knowledge_index.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "agent/excerpt.hpp"
#include "agent/plural_stemmer.hpp"
#include "agent/utf8_text.hpp"

namespace parley::agent {

knowledge_index::knowledge_index() : knowledge_index(bm25_parameters{}) {
  // nop
}

knowledge_index::knowledge_index(bm25_parameters parameters,
                                 agent::tokenizer tokens)
  : parameters_(parameters), tokenizer_(std::move(tokens)) {
  // nop
}

std::vector<std::string>
knowledge_index::terms_of(std::string_view text) const {
  auto terms = tokenizer_.tokenize(text);
  for (auto& term : terms)
    strip_plural(term);
  return terms;
}

knowledge_index::term_id knowledge_index::intern(const std::string& term) {
  auto [it, added] = term_ids_.try_emplace(
    term, static_cast<term_id>(postings_.size()));
  if (added)
    postings_.emplace_back();
  return it->second;
}

knowledge_index::section_id knowledge_index::allocate_section() {
  if (!free_sections_.empty()) {
    auto id = free_sections_.back();
    free_sections_.pop_back();
    return id;
  }
  sections_.emplace_back();
  return static_cast<section_id>(sections_.size() - 1);
}

void knowledge_index::put(const std::string& source,
                          const markdown_document& document) {
  erase(source);
  auto& ids = documents_[source];
  ids.reserve(document.sections.size());
  auto title_terms = terms_of(document.title);
  // Weighted term frequencies of one section, gathered as (term, weight)
  // pairs and summed after sorting: cheaper than a hash map per section.
  std::vector<std::pair<term_id, double>> weighted;
  std::uint32_t position = 0;
  for (const auto& section : document.sections) {
    weighted.clear();
    double length = 0;
    auto add_field = [&](const std::vector<std::string>& terms, double weight) {
      if (weight <= 0)
        return;
      for (const auto& term : terms)
        weighted.emplace_back(intern(term), weight);
      length += weight * static_cast<double>(terms.size());
    };
    add_field(title_terms, parameters_.title_weight);
    // The introduction's heading is the title, already counted once.
    if (!section.introduction)
      add_field(terms_of(section.heading), parameters_.heading_weight);
    add_field(terms_of(section.content), parameters_.body_weight);
    std::sort(weighted.begin(), weighted.end());
    auto id = allocate_section();
    auto& entry = sections_[id];
    entry.source = source;
    entry.title = document.title;
    entry.heading = section.heading;
    entry.content = section.content;
    entry.position = position++;
    entry.length = length;
    entry.introduction = section.introduction;
    entry.terms.clear();
    entry.live = true;
    for (std::size_t i = 0; i < weighted.size();) {
      auto term = weighted[i].first;
      double frequency = 0;
      for (; i < weighted.size() && weighted[i].first == term; ++i)
        frequency += weighted[i].second;
      entry.terms.push_back(term);
      postings_[term].push_back({id, static_cast<float>(frequency)});
    }
    ++live_sections_;
    total_length_ += length;
    ids.push_back(id);
  }
}

bool knowledge_index::erase(std::string_view source) {
  auto it = documents_.find(source);
  if (it == documents_.end())
    return false;
  std::vector<term_id> touched;
  for (auto id : it->second) {
    auto& entry = sections_[id];
    touched.insert(touched.end(), entry.terms.begin(), entry.terms.end());
    entry.live = false;
    total_length_ -= entry.length;
    --live_sections_;
  }
  // One pass over each affected posting list, however many of the
  // document's sections it holds.
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  for (auto term : touched) {
    auto& list = postings_[term];
    list.erase(std::remove_if(list.begin(), list.end(),
                              [this](const posting& p) {
                                return !sections_[p.section].live;
                              }),
               list.end());
  }
  for (auto id : it->second) {
    sections_[id] = section_entry{};
    free_sections_.push_back(id);
  }
  documents_.erase(it);
  if (live_sections_ == 0)
    total_length_ = 0; // no rounding residue from the subtractions
  return true;
}

bool knowledge_index::ranks_before(section_id lhs, double lhs_score,
                                   section_id rhs, double rhs_score) const {
  if (lhs_score != rhs_score)
    return lhs_score > rhs_score;
  const auto& a = sections_[lhs];
  const auto& b = sections_[rhs];
  if (a.source != b.source)
    return a.source < b.source;
  return a.position < b.position;
}

search_result knowledge_index::search(std::string_view query,
                                      std::size_t top_k) const {
  search_result result;
  result.query = drop_invalid_utf8(query);
  result.top_k = top_k;
  if (top_k == 0 || live_sections_ == 0)
    return result;
  auto terms = terms_of(result.query);
  // Each distinct term counts once, in a fixed order, so equal sections get
  // bit-identical scores and ties are really ties.
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  const auto n = static_cast<double>(live_sections_);
  const auto average_length = total_length_ > 0 ? total_length_ / n : 1.0;
  const auto k1 = parameters_.k1;
  const auto b = parameters_.b;
  std::vector<double> scores(sections_.size(), 0.0);
  std::vector<section_id> hits;
  for (const auto& term : terms) {
    auto found = term_ids_.find(term);
    if (found == term_ids_.end())
      continue;
    const auto& list = postings_[found->second];
    if (list.empty())
      continue;
    auto df = static_cast<double>(list.size());
    auto idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    for (const auto& p : list) {
      double tf = p.frequency;
      if (tf <= 0)
        continue;
      auto norm = k1
                  * (1.0 - b
                     + b * sections_[p.section].length / average_length);
      if (scores[p.section] == 0.0)
        hits.push_back(p.section);
      scores[p.section] += idf * tf * (k1 + 1.0) / (tf + norm);
    }
  }
  for (auto id : hits)
    if (sections_[id].introduction)
      scores[id] *= parameters_.introduction_weight;
  hits.erase(std::remove_if(hits.begin(), hits.end(),
                            [&](section_id id) { return !(scores[id] > 0); }),
             hits.end());
  auto count = std::min(top_k, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + static_cast<long>(count),
                    hits.end(), [&](section_id lhs, section_id rhs) {
                      return ranks_before(lhs, scores[lhs], rhs, scores[rhs]);
                    });
  result.matches.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto& entry = sections_[hits[i]];
    result.matches.push_back(
      {entry.source, entry.title, entry.heading,
       cut_excerpt(entry.content, max_content_chars), scores[hits[i]]});
  }
  return result;
}

bool knowledge_index::contains(std::string_view source) const {
  return documents_.find(source) != documents_.end();
}

std::vector<std::string> knowledge_index::sources() const {
  std::vector<std::string> result;
  result.reserve(documents_.size());
  for (const auto& entry : documents_)
    result.push_back(entry.first);
  return result;
}

} // namespace parley::agent
