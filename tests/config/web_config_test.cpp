// config/web.json: what the browser chat shows before the first message.
// The built-in copy parses; a bad file is one line naming the problem.

#include "config/web_config.hpp"

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "config/config_error.hpp"
#include "config/embedded_defaults.hpp"
#include "tests/support/temp_dir.hpp"

namespace parley {
namespace {

using parley::test::temp_dir;

/// The config_error of a document that must be refused.
std::string problem(const std::string& text) {
  try {
    parse_web_config(text, "test.json");
  } catch (const config_error& err) {
    std::string what = err.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
    EXPECT_EQ(what.rfind("test.json: ", 0), 0u) << "names the source: " << what;
    return what;
  }
  ADD_FAILURE() << "accepted: " << text;
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(web_config, parses_title_greeting_and_suggestions) {
  auto cfg = parse_web_config(R"({
    "comment": "ignored",
    "title": "Shop",
    "greeting": "Hello!",
    "suggestions": [{"label": "Track", "text": "Where is order 124?"},
                    {"label": "Human", "text": "talk to a human"}]
  })",
                              "test.json");
  EXPECT_EQ(cfg.title, "Shop");
  EXPECT_EQ(cfg.greeting, "Hello!");
  ASSERT_EQ(cfg.suggestions.size(), 2u);
  EXPECT_EQ(cfg.suggestions[0].label, "Track");
  EXPECT_EQ(cfg.suggestions[0].text, "Where is order 124?");
  EXPECT_EQ(cfg.suggestions[1].label, "Human");
}

TEST(web_config, suggestions_are_optional_and_the_greeting_may_be_empty) {
  auto cfg = parse_web_config(R"({"title": "Shop", "greeting": ""})", "x");
  EXPECT_EQ(cfg.title, "Shop");
  EXPECT_EQ(cfg.greeting, "");
  EXPECT_TRUE(cfg.suggestions.empty());
  EXPECT_TRUE(parse_web_config(
                R"({"title": "Shop", "greeting": "", "suggestions": []})", "x")
                .suggestions.empty());
}

TEST(web_config, the_built_in_copy_is_northwind_supplys) {
  auto cfg = parse_web_config(embedded_web_config(), "built-in");
  EXPECT_TRUE(contains(cfg.title, "Northwind Supply")) << cfg.title;
  EXPECT_FALSE(cfg.greeting.empty());
  EXPECT_GE(cfg.suggestions.size(), 4u);
  EXPECT_LE(cfg.suggestions.size(), 6u);
  // They exercise the agent: a demo order, the knowledge base, a human.
  std::string all;
  for (const auto& s : cfg.suggestions)
    all += s.text + "\n";
  EXPECT_TRUE(contains(all, "124")) << all;
  EXPECT_TRUE(contains(all, "return policy")) << all;
  EXPECT_TRUE(contains(all, "shipping")) << all;
  EXPECT_TRUE(contains(all, "human")) << all;
}

TEST(web_config, bad_documents_are_one_line_naming_the_problem) {
  EXPECT_TRUE(contains(problem("{"), "not valid JSON"));
  EXPECT_TRUE(contains(problem("[]"), "must be a JSON object"));
  EXPECT_TRUE(contains(problem(R"({"greeting": "hi"})"), "title: is missing"));
  EXPECT_TRUE(contains(problem(R"({"title": 1, "greeting": ""})"),
                       "title: must be a string"));
  EXPECT_TRUE(contains(problem(R"({"title": "  ", "greeting": ""})"),
                       "title: must not be empty"));
  EXPECT_TRUE(contains(problem(R"({"title": "T"})"), "greeting: is missing"));
  EXPECT_TRUE(contains(
    problem(R"({"title": ")" + std::string(121, 'x') + R"(", "greeting": ""})"),
    "title: has 121 bytes, at most 120"));
  EXPECT_TRUE(contains(
    problem(R"({"title": "T", "greeting": "", "sugestions": []})"),
    "sugestions: is not a known member"));
  EXPECT_TRUE(contains(
    problem(R"({"title": "T", "greeting": "", "suggestions": {}})"),
    "suggestions: must be an array"));
  EXPECT_TRUE(contains(
    problem(R"({"title": "T", "greeting": "", "suggestions": ["x"]})"),
    "suggestions[0]: must be an object"));
  EXPECT_TRUE(contains(
    problem(R"({"title": "T", "greeting": "", "suggestions": [
               {"label": "a", "text": "b"}, {"label": "", "text": "b"}]})"),
    "suggestions[1].label: must not be empty"));
  EXPECT_TRUE(contains(
    problem(R"({"title": "T", "greeting": "", "suggestions": [
               {"label": "a"}]})"),
    "suggestions[0].text: is missing"));
  EXPECT_TRUE(contains(
    problem(R"({"title": "T", "greeting": "", "suggestions": [
               {"label": "a", "text": "b", "icon": "x"}]})"),
    "suggestions[0].icon: is not a known member"));
  std::string many = R"({"title": "T", "greeting": "", "suggestions": [)";
  for (int i = 0; i < 13; ++i)
    many += std::string{i == 0 ? "" : ","} + R"({"label": "a", "text": "b"})";
  many += "]}";
  EXPECT_TRUE(contains(problem(many), "has 13 items, at most 12"));
}

TEST(web_config, files_are_read_and_named_in_errors) {
  temp_dir dir;
  dir.write("web.json", R"({"title": "From a file", "greeting": "Hi"})");
  auto path = (dir.path() / "web.json").string();
  EXPECT_EQ(read_web_config_file(path).title, "From a file");
  dir.write("bad.json", R"({"title": "T", "greeting": 7})");
  auto bad = (dir.path() / "bad.json").string();
  try {
    read_web_config_file(bad);
    ADD_FAILURE() << "accepted " << bad;
  } catch (const config_error& err) {
    std::string what = err.what();
    EXPECT_TRUE(contains(what, bad)) << what;
    EXPECT_TRUE(contains(what, "greeting: must be a string")) << what;
  }
  auto missing = (dir.path() / "nope.json").string();
  try {
    read_web_config_file(missing);
    ADD_FAILURE() << "read " << missing;
  } catch (const config_error& err) {
    EXPECT_TRUE(contains(err.what(), "cannot be read")) << err.what();
  }
}

} // namespace
} // namespace parley
