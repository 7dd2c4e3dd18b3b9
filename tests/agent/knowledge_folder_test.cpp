// The sample knowledge base in knowledge/: it must load cleanly and answer
// natural customer questions from the right page.
#include "agent/knowledge_base.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace parley::agent;

namespace {

class sample_knowledge : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    base_ = new knowledge_base{std::string{PARLEY_SOURCE_DIR} + "/knowledge"};
    report_ = new refresh_report{base_->refresh()};
  }

  static void TearDownTestSuite() {
    delete report_;
    delete base_;
    report_ = nullptr;
    base_ = nullptr;
  }

  static std::string top(const std::string& query) {
    auto result = base_->search(query, 1);
    if (result.matches.empty())
      return "-";
    return result.matches[0].source + " / " + result.matches[0].section;
  }

  static knowledge_base* base_;
  static refresh_report* report_;
};

knowledge_base* sample_knowledge::base_ = nullptr;
refresh_report* sample_knowledge::report_ = nullptr;

} // namespace

TEST_F(sample_knowledge, loads_without_problems) {
  for (const auto& problem : report_->problems)
    ADD_FAILURE() << problem.path << ": " << problem.reason;
  EXPECT_GE(base_->index().document_count(), 8u);
  EXPECT_FALSE(base_->index().contains("README.md"));
  EXPECT_GE(base_->index().section_count(), 40u);
}

TEST_F(sample_knowledge, return_policy_question_finds_the_return_policy) {
  auto result = base_->search("what is your return policy?");
  ASSERT_FALSE(result.matches.empty());
  const auto& best = result.matches[0];
  EXPECT_EQ(best.source, "returns-and-refunds.md");
  EXPECT_EQ(best.title, "Returns and Refunds");
  EXPECT_EQ(best.section, "Return policy");
  EXPECT_NE(best.content.find("30 days"), std::string::npos);
  EXPECT_NO_THROW(nlohmann::json(result).dump());
}

TEST_F(sample_knowledge, a_long_section_is_cut_after_a_whole_sentence) {
  // "Return policy" is longer than 700 characters; its last sentence ("If
  // your return is late because of a carrier delay, contact us and we'll
  // sort it out.") does not fit and is left out whole, not cut mid-way
  // ("...contact us and we'll...").
  auto result = base_->search("what is your return policy?", 1);
  ASSERT_FALSE(result.matches.empty());
  const auto& content = result.matches[0].content;
  EXPECT_EQ(content.find("contact us"), std::string::npos) << content;
  EXPECT_EQ(content.find("..."), std::string::npos) << content;
  const std::string end = "shown in your tracking\ninformation. \xE2\x80\xA6";
  ASSERT_GE(content.size(), end.size());
  EXPECT_EQ(content.substr(content.size() - end.size()), end) << content;
  // The bold text it quotes is whole.
  EXPECT_NE(content.find("**30 days of delivery**"), std::string::npos)
    << content;
}

TEST_F(sample_knowledge, customer_questions_hit_the_right_section) {
  std::vector<std::pair<std::string, std::string>> expected{
    {"How long does shipping take?",
     "shipping-and-delivery.md / Delivery times"},
    {"How much is shipping?", "shipping-and-delivery.md / Shipping costs"},
    {"Do you ship to Canada?",
     "shipping-and-delivery.md / International shipping"},
    {"My package never arrived",
     "shipping-and-delivery.md / Delivery problems and lost packages"},
    {"When will I get my refund?", "returns-and-refunds.md / Refund timing"},
    {"How do I return an item?", "returns-and-refunds.md / Return policy"},
    {"Can I cancel my order?", "orders.md / Change or cancel an order"},
    {"Where is my order 124?", "orders.md / Track your order"},
    {"How do I reset my password?", "account-help.md / Reset your password"},
    {"How do I delete my account?", "account-help.md / Delete your account"},
    {"change my email address", "account-help.md / Change your email address"},
    {"What are your opening hours?",
     "about-northwind-supply.md / Opening hours"},
    {"How can I contact you?", "about-northwind-supply.md / Contact us"},
    {"Which payment methods do you accept?",
     "payments-and-invoices.md / Accepted payment methods"},
    {"My payment was declined",
     "payments-and-invoices.md / Failed or declined payments"},
    {"Can I get an invoice?",
     "payments-and-invoices.md / Invoices and receipts"},
    {"Is my chair covered by the warranty?",
     "warranty-and-repairs.md / Warranty coverage"},
    {"Do gift cards expire?", "gift-cards.md / Balance, expiry and fees"},
    {"Do you sell my data?", "privacy-and-data.md / How we use your data"},
  };
  for (const auto& [query, section] : expected)
    EXPECT_EQ(top(query), section) << query;
}
