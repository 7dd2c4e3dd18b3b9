#include "agent/plural_stemmer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

using namespace parley::agent;

namespace {

std::string stem(std::string term) {
  strip_plural(term);
  return term;
}

} // namespace

TEST(plural_stemmer, folds_plurals_onto_the_singular) {
  std::vector<std::pair<std::string, std::string>> cases{
    {"returns", "return"},   {"refunds", "refund"},
    {"orders", "order"},     {"days", "day"},
    {"policies", "policy"},  {"deliveries", "delivery"},
    {"addresses", "address"}, {"boxes", "box"},
    {"batches", "batch"},    {"wishes", "wish"},
    {"charges", "charge"},   {"packages", "package"},
    {"ties", "tie"},
  };
  for (const auto& [plural, singular] : cases)
    EXPECT_EQ(stem(plural), singular) << plural;
}

TEST(plural_stemmer, leaves_other_words_alone) {
  // Short words keep their "s" ("ups" is the carrier), and so do -ss, -us
  // and -is endings, which are rarely plurals.
  for (std::string word : {"return", "policy", "address", "business", "status",
                           "bonus", "analysis", "ups", "gas", "yes", "dhl",
                           "123", "shipping"})
    EXPECT_EQ(stem(word), word) << word;
  EXPECT_EQ(stem(""), "");
  EXPECT_EQ(stem("s"), "s");
}
