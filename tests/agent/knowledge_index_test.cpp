#include "agent/knowledge_index.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "agent/excerpt.hpp"
#include "agent/knowledge_base.hpp"
#include "agent/utf8_text.hpp"
#include "tests/support/temp_dir.hpp"

using namespace parley::agent;

namespace {

/// A small shop's help pages: several documents share words ("order",
/// "days", "account"), so a good answer needs more than one matching word.
const std::vector<std::pair<std::string, std::string>> corpus{
  {"returns.md",
   "# Returns and Refunds\n"
   "Everything about sending items back.\n"
   "## Return policy\n"
   "You can return unused items within 30 days of delivery in their "
   "original packaging. Final sale items can't be returned.\n"
   "## How to start a return\n"
   "Open the order in your account and choose Return items. Print the "
   "prepaid UPS label and drop the parcel off.\n"
   "## Refund timing\n"
   "Refunds reach your card 5 to 10 business days after we receive the "
   "returned items.\n"},
  {"shipping.md",
   "# Shipping and Delivery\n"
   "We ship with UPS and DHL.\n"
   "## Delivery times\n"
   "How long shipping takes: standard delivery takes 3 to 5 business days, "
   "express delivery 1 to 2 days.\n"
   "## Shipping costs\n"
   "Standard shipping is free on orders over $75, otherwise $6.95.\n"
   "## International shipping\n"
   "We ship to Canada, the UK and the EU with DHL Express. Duties are "
   "collected on delivery.\n"},
  {"warranty.md",
   "# Warranty\n"
   "## Coverage\n"
   "Every product has a 2-year warranty against manufacturing defects.\n"
   "## Repairs\n"
   "Defective items are repaired in our workshop within 10 days; we send a "
   "prepaid label for the repair.\n"},
  {"account.md",
   "# Account Help\n"
   "## Reset your password\n"
   "Use the Forgot password link on the sign-in page; the reset email is "
   "valid for 60 minutes.\n"
   "## Delete your account\n"
   "Go to Account settings, Privacy, Delete account. We delete your data "
   "within 30 days.\n"},
  {"payments.md",
   "# Payments\n"
   "## Payment methods\n"
   "We accept Visa, Mastercard, American Express, PayPal and gift cards.\n"
   "## Failed payments\n"
   "A payment can be declined by your bank; update the card on the order "
   "page within 48 hours.\n"},
  {"contact.md",
   "# Contact\n"
   "## Opening hours\n"
   "Our team answers Monday to Friday, 8 am to 6 pm.\n"
   "## Address\n"
   "1450 NW Front Avenue, Portland, Oregon.\n"},
};

class knowledge_ranking : public ::testing::Test {
protected:
  void SetUp() override {
    for (const auto& [name, text] : corpus)
      folder_.write(name, text);
    auto report = base_.refresh();
    ASSERT_TRUE(report.problems.empty());
    ASSERT_EQ(report.added.size(), corpus.size());
  }

  /// "source / section" of the best match, or "-" when nothing matched.
  std::string top(const std::string& query) const {
    auto result = base_.search(query, 1);
    if (result.matches.empty())
      return "-";
    return result.matches[0].source + " / " + result.matches[0].section;
  }

  parley::test::temp_dir folder_{"parley-kb-rank"};
  knowledge_base base_{folder_.path()};
};

} // namespace

TEST_F(knowledge_ranking, questions_find_the_right_section) {
  std::vector<std::pair<std::string, std::string>> expected{
    {"what is your return policy?", "returns.md / Return policy"},
    {"return policy", "returns.md / Return policy"},
    {"how do I start a return", "returns.md / How to start a return"},
    {"when do I get my refund", "returns.md / Refund timing"},
    {"how long does shipping take", "shipping.md / Delivery times"},
    {"how much does shipping cost", "shipping.md / Shipping costs"},
    {"do you ship to Canada", "shipping.md / International shipping"},
    {"warranty repair", "warranty.md / Repairs"},
    {"what does the warranty cover", "warranty.md / Coverage"},
    {"I forgot my password", "account.md / Reset your password"},
    {"delete my account", "account.md / Delete your account"},
    {"my payment was declined", "payments.md / Failed payments"},
    {"do you accept PayPal", "payments.md / Payment methods"},
    {"opening hours", "contact.md / Opening hours"},
  };
  for (const auto& [query, section] : expected)
    EXPECT_EQ(top(query), section) << query;
}

TEST_F(knowledge_ranking, results_are_ordered_and_bounded_by_top_k) {
  auto result = base_.search("shipping delivery days", 5);
  EXPECT_EQ(result.query, "shipping delivery days");
  EXPECT_EQ(result.top_k, 5u);
  ASSERT_EQ(result.matches.size(), 5u);
  for (std::size_t i = 1; i < result.matches.size(); ++i)
    EXPECT_GE(result.matches[i - 1].score, result.matches[i].score);
  EXPECT_EQ(base_.search("shipping delivery days").matches.size(),
            knowledge_index::default_top_k);
  EXPECT_EQ(base_.search("shipping", 1).matches.size(), 1u);
  EXPECT_TRUE(base_.search("shipping", 0).matches.empty());
}

TEST_F(knowledge_ranking, a_match_names_its_source_title_and_section) {
  auto result = base_.search("refund timing", 1);
  ASSERT_EQ(result.matches.size(), 1u);
  const auto& match = result.matches[0];
  EXPECT_EQ(match.source, "returns.md");
  EXPECT_EQ(match.title, "Returns and Refunds");
  EXPECT_EQ(match.section, "Refund timing");
  EXPECT_EQ(match.content, "Refunds reach your card 5 to 10 business days "
                           "after we receive the returned items.");
  EXPECT_GT(match.score, 0);
}

TEST_F(knowledge_ranking, unknown_words_and_stop_words_match_nothing) {
  EXPECT_TRUE(base_.search("xylophone zeppelin").matches.empty());
  EXPECT_TRUE(base_.search("what is your").matches.empty());
  EXPECT_TRUE(base_.search("").matches.empty());
  EXPECT_TRUE(base_.search("?!").matches.empty());
}

TEST_F(knowledge_ranking, invalid_utf8_in_a_query_is_dropped) {
  auto result = base_.search("refund\xFF timing\xC3", 1);
  EXPECT_EQ(result.query, "refund timing");
  ASSERT_EQ(result.matches.size(), 1u);
  EXPECT_EQ(result.matches[0].section, "Refund timing");
  EXPECT_NO_THROW(nlohmann::json(result).dump());
}

TEST_F(knowledge_ranking, to_json_has_the_result_shape) {
  auto json = nlohmann::json(base_.search("return policy", 2));
  EXPECT_EQ(json.at("query"), "return policy");
  EXPECT_EQ(json.at("top_k"), 2);
  ASSERT_TRUE(json.at("matches").is_array());
  ASSERT_EQ(json.at("matches").size(), 2u);
  const auto& first = json.at("matches").at(0);
  EXPECT_EQ(first.size(), 5u);
  EXPECT_EQ(first.at("source"), "returns.md");
  EXPECT_EQ(first.at("title"), "Returns and Refunds");
  EXPECT_EQ(first.at("section"), "Return policy");
  EXPECT_TRUE(first.at("content").is_string());
  EXPECT_TRUE(first.at("score").is_number());
  EXPECT_EQ(nlohmann::json(search_result{"q", 3, {}}).dump(),
            R"({"matches":[],"query":"q","top_k":3})");
}

// Title and heading words count more than body words: these pairs of
// sections tie on term counts and lengths when every field weighs the same,
// and then the source decides ("a.md" first). With the default weights the
// section with the word in its title or heading wins instead.
TEST(knowledge_index, heading_words_weigh_more_than_body_words) {
  markdown_document in_heading{"Alpha",
                                {{"Lamp care", "Clean gently.", false}}};
  markdown_document in_body{"Bravo",
                            {{"Care", "Clean the lamp gently.", false}}};
  knowledge_index weighted;
  weighted.put("a.md", in_body);
  weighted.put("b.md", in_heading);
  auto result = weighted.search("lamp", 2);
  ASSERT_EQ(result.matches.size(), 2u);
  EXPECT_EQ(result.matches[0].source, "b.md");
  EXPECT_GT(result.matches[0].score, result.matches[1].score);

  bm25_parameters flat;
  flat.title_weight = flat.heading_weight = flat.body_weight = 1;
  knowledge_index unweighted{flat};
  unweighted.put("a.md", in_body);
  unweighted.put("b.md", in_heading);
  result = unweighted.search("lamp", 2);
  ASSERT_EQ(result.matches.size(), 2u);
  EXPECT_EQ(result.matches[0].source, "a.md");
  EXPECT_EQ(result.matches[0].score, result.matches[1].score);
}

TEST(knowledge_index, title_words_weigh_more_than_body_words) {
  markdown_document in_title{"Lamp guide",
                              {{"Care", "Clean gently.", false}}};
  markdown_document in_body{"Guide",
                            {{"Care", "Clean the lamp gently.", false}}};
  knowledge_index weighted;
  weighted.put("a.md", in_body);
  weighted.put("b.md", in_title);
  auto result = weighted.search("lamp", 2);
  ASSERT_EQ(result.matches.size(), 2u);
  EXPECT_EQ(result.matches[0].source, "b.md");

  bm25_parameters flat;
  flat.title_weight = flat.heading_weight = flat.body_weight = 1;
  knowledge_index unweighted{flat};
  unweighted.put("a.md", in_body);
  unweighted.put("b.md", in_title);
  EXPECT_EQ(unweighted.search("lamp", 1).matches.at(0).source, "a.md");
}

TEST(knowledge_index, introduction_counts_less_than_a_section) {
  // The same text as introduction and as a section: the section wins.
  markdown_document document{
    "Guide",
    {{"Guide", "Lamps need care.", true},
     {"Notes", "Lamps need care.", false}}};
  knowledge_index index;
  index.put("a.md", document);
  auto result = index.search("lamp care", 2);
  ASSERT_EQ(result.matches.size(), 2u);
  EXPECT_EQ(result.matches[0].section, "Notes");
  EXPECT_EQ(result.matches[1].section, "Guide");
}

TEST(knowledge_index, ties_are_broken_by_source_then_position) {
  markdown_document twins{
    "Twins",
    {{"One", "Same words here.", false}, {"Two", "Same words here.", false}}};
  auto expect_order = [](const knowledge_index& index) {
    auto result = index.search("same words", 5);
    ASSERT_EQ(result.matches.size(), 4u);
    std::vector<std::string> order;
    for (const auto& match : result.matches)
      order.push_back(match.source + "#" + match.section);
    EXPECT_EQ(order, (std::vector<std::string>{"a.md#One", "a.md#Two",
                                               "b.md#One", "b.md#Two"}));
    for (const auto& match : result.matches)
      EXPECT_EQ(match.score, result.matches[0].score);
  };
  knowledge_index forward;
  forward.put("a.md", twins);
  forward.put("b.md", twins);
  expect_order(forward);
  knowledge_index backward;
  backward.put("b.md", twins);
  backward.put("a.md", twins);
  expect_order(backward);
  // Slots freed by a removal and reused do not change the order either.
  backward.erase("a.md");
  backward.put("c.md", twins);
  backward.put("a.md", twins);
  backward.erase("c.md");
  expect_order(backward);
}

TEST(knowledge_index, long_content_is_cut_at_700_characters) {
  std::string long_text;
  while (utf8_length(long_text) < 1500)
    long_text += "Größe matters for the café ";
  std::string short_text = "Short café text.";
  knowledge_index index;
  index.put("a.md", {"Doc", {{"Long", long_text, false},
                             {"Short", short_text, false}}});
  auto result = index.search("café", 2);
  ASSERT_EQ(result.matches.size(), 2u);
  for (const auto& match : result.matches) {
    if (match.section == "Short") {
      EXPECT_EQ(match.content, short_text);
      continue;
    }
    // No sentence end in it: cut at a word boundary, with "…".
    const auto& content = match.content;
    const std::string ellipsis{excerpt_ellipsis};
    ASSERT_GE(content.size(), ellipsis.size());
    EXPECT_EQ(content.substr(content.size() - ellipsis.size()), ellipsis);
    auto kept = content.substr(0, content.size() - ellipsis.size());
    EXPECT_LE(utf8_length(kept), knowledge_index::max_content_chars);
    EXPECT_GT(utf8_length(kept), knowledge_index::max_content_chars - 40);
    EXPECT_EQ(find_invalid_utf8(content), std::nullopt);
    // A word boundary: what was kept is a prefix followed by a space.
    EXPECT_EQ(long_text.compare(0, kept.size(), kept), 0);
    EXPECT_EQ(long_text[kept.size()], ' ');
  }
}

TEST(knowledge_index, put_replaces_and_erase_removes_a_document) {
  knowledge_index index;
  index.put("a.md", {"A", {{"S", "apples and pears", false}}});
  index.put("b.md", {"B", {{"S", "pears only", false}}});
  EXPECT_EQ(index.document_count(), 2u);
  EXPECT_EQ(index.section_count(), 2u);
  EXPECT_EQ(index.search("apples").matches.size(), 1u);

  index.put("a.md", {"A", {{"S", "plums", false}, {"T", "more plums", false}}});
  EXPECT_EQ(index.document_count(), 2u);
  EXPECT_EQ(index.section_count(), 3u);
  EXPECT_TRUE(index.search("apples").matches.empty());
  EXPECT_EQ(index.search("pears").matches.size(), 1u);
  EXPECT_EQ(index.search("plums").matches.size(), 2u);

  EXPECT_TRUE(index.erase("a.md"));
  EXPECT_FALSE(index.erase("a.md"));
  EXPECT_FALSE(index.contains("a.md"));
  EXPECT_TRUE(index.contains("b.md"));
  EXPECT_EQ(index.sources(), std::vector<std::string>{"b.md"});
  EXPECT_EQ(index.section_count(), 1u);
  EXPECT_TRUE(index.search("plums").matches.empty());
  EXPECT_TRUE(index.erase("b.md"));
  EXPECT_TRUE(index.search("pears").matches.empty());
}
