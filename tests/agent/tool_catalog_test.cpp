#include "agent/tool_catalog.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

namespace parley::agent {
namespace {

using nlohmann::json;

class tool_catalog_test : public ::testing::Test {
protected:
  void SetUp() override {
    catalog.add(get_order_spec());
    catalog.add(knowledge_search_spec());
  }

  tool_catalog catalog;
};

TEST_F(tool_catalog_test, good_arguments_pass) {
  EXPECT_EQ(catalog.check("get_order", {{"order_id", "124"}}), std::nullopt);
  EXPECT_EQ(catalog.check("knowledge_search", {{"query", "returns"}}),
            std::nullopt);
  EXPECT_EQ(catalog.check("knowledge_search",
                          {{"query", "returns"}, {"top_k", 5}}),
            std::nullopt);
}

TEST_F(tool_catalog_test, bad_arguments_are_described) {
  auto missing = catalog.check("get_order", json::object());
  ASSERT_TRUE(missing);
  EXPECT_NE(missing->find("order_id"), std::string::npos) << *missing;
  auto wrong_type = catalog.check("get_order", {{"order_id", 124}});
  ASSERT_TRUE(wrong_type);
  EXPECT_NE(wrong_type->find("order_id"), std::string::npos) << *wrong_type;
  EXPECT_TRUE(catalog.check("get_order", {{"order_id", ""}}));
  EXPECT_TRUE(catalog.check("get_order",
                            {{"order_id", "1"}, {"extra", true}}));
  EXPECT_TRUE(catalog.check("knowledge_search",
                            {{"query", "x"}, {"top_k", 6}}));
  EXPECT_TRUE(catalog.check("knowledge_search",
                            {{"query", "x"}, {"top_k", 0}}));
  EXPECT_TRUE(catalog.check("knowledge_search",
                            {{"query", "x"}, {"top_k", 2.5}}));
  EXPECT_TRUE(catalog.check("knowledge_search", json::array()));
  EXPECT_EQ(catalog.check("launch_rocket", json::object()),
            "unknown tool launch_rocket");
}

TEST_F(tool_catalog_test, the_llm_sees_openai_function_tools) {
  auto tools = catalog.openai_tools();
  ASSERT_EQ(tools.size(), 2u);
  for (const auto& tool : tools) {
    EXPECT_EQ(tool["type"], "function");
    EXPECT_TRUE(tool["function"]["parameters"].is_object());
    EXPECT_FALSE(tool["function"]["description"].get<std::string>().empty());
  }
  EXPECT_EQ(tools[0]["function"]["name"], "get_order");
  EXPECT_EQ(tools[1]["function"]["name"], "knowledge_search");
}

TEST_F(tool_catalog_test, duplicate_names_and_broken_schemas_are_refused) {
  EXPECT_THROW(catalog.add(get_order_spec()), std::invalid_argument);
  tool_catalog other;
  EXPECT_THROW(other.add({"broken", "", json{{"type", 12}}}),
               std::invalid_argument);
  EXPECT_EQ(other.size(), 0u);
}

} // namespace
} // namespace parley::agent
