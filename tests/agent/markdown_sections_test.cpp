#include "agent/markdown_sections.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace parley::agent;

namespace {

std::vector<std::string> headings(const markdown_document& document) {
  std::vector<std::string> result;
  for (const auto& section : document.sections)
    result.push_back(section.heading);
  return result;
}

using strings = std::vector<std::string>;

} // namespace

TEST(markdown_sections, title_introduction_and_sections) {
  auto document = split_markdown_sections("# Returns and Refunds\n"
                                          "\n"
                                          "How returns work.\n"
                                          "Second line.\n"
                                          "\n"
                                          "## Return policy\n"
                                          "\n"
                                          "30 days.\n"
                                          "\n"
                                          "Unused items only.\n"
                                          "\n"
                                          "## Refund timing\n"
                                          "5-10 days.\n",
                                          "fallback");
  EXPECT_EQ(document.title, "Returns and Refunds");
  ASSERT_EQ(document.sections.size(), 3u);
  EXPECT_TRUE(document.sections[0].introduction);
  EXPECT_EQ(document.sections[0].heading, "Returns and Refunds");
  EXPECT_EQ(document.sections[0].content, "How returns work.\nSecond line.");
  EXPECT_FALSE(document.sections[1].introduction);
  EXPECT_EQ(document.sections[1].heading, "Return policy");
  // Inner blank lines stay, outer ones go.
  EXPECT_EQ(document.sections[1].content, "30 days.\n\nUnused items only.");
  EXPECT_EQ(document.sections[2].heading, "Refund timing");
  EXPECT_EQ(document.sections[2].content, "5-10 days.");
}

TEST(markdown_sections, deeper_headings_stay_inside_their_section) {
  auto document = split_markdown_sections("# T\n"
                                          "## Shipping\n"
                                          "Intro.\n"
                                          "### Within the US\n"
                                          "UPS.\n"
                                          "#### Alaska\n"
                                          "Slow.\n"
                                          "## Next\n"
                                          "x\n",
                                          "");
  EXPECT_EQ(headings(document), (strings{"Shipping", "Next"}));
  EXPECT_EQ(document.sections[0].content,
            "Intro.\n### Within the US\nUPS.\n#### Alaska\nSlow.");
}

TEST(markdown_sections, headings_inside_code_fences_are_text) {
  auto document = split_markdown_sections("# Doc\n"
                                          "## Example\n"
                                          "```markdown\n"
                                          "## Not a heading\n"
                                          "# Nor this\n"
                                          "```\n"
                                          "~~~~\n"
                                          "## Still code\n"
                                          "~~~\n"     // too short: no close
                                          "## Still code too\n"
                                          "~~~~~\n"
                                          "## Real\n"
                                          "text\n",
                                          "");
  EXPECT_EQ(headings(document), (strings{"Example", "Real"}));
  EXPECT_NE(document.sections[0].content.find("## Not a heading"),
            std::string::npos);
  EXPECT_NE(document.sections[0].content.find("## Still code too"),
            std::string::npos);
}

TEST(markdown_sections, an_unclosed_fence_runs_to_the_end) {
  auto document = split_markdown_sections("## A\n```\n## B\n", "t");
  EXPECT_EQ(headings(document), strings{"A"});
}

TEST(markdown_sections, without_a_title_the_fallback_is_used) {
  auto document = split_markdown_sections("Some intro.\n## First\nbody\n",
                                          "Gift cards");
  EXPECT_EQ(document.title, "Gift cards");
  ASSERT_EQ(document.sections.size(), 2u);
  EXPECT_TRUE(document.sections[0].introduction);
  EXPECT_EQ(document.sections[0].heading, "Gift cards");
  EXPECT_EQ(document.sections[0].content, "Some intro.");
  EXPECT_EQ(document.sections[1].heading, "First");
}

TEST(markdown_sections, text_without_headings_is_one_introduction) {
  auto document = split_markdown_sections("Just text.\nMore.", "Notes");
  EXPECT_EQ(document.title, "Notes");
  ASSERT_EQ(document.sections.size(), 1u);
  EXPECT_EQ(document.sections[0].content, "Just text.\nMore.");
  EXPECT_TRUE(split_markdown_sections("", "x").sections.empty());
  EXPECT_TRUE(split_markdown_sections("# Only a title\n\n", "x")
                .sections.empty());
}

TEST(markdown_sections, empty_sections_are_dropped) {
  auto document = split_markdown_sections("# T\n## Empty\n\n\n## Full\nx\n",
                                          "");
  EXPECT_EQ(headings(document), strings{"Full"});
}

TEST(markdown_sections, heading_syntax_follows_commonmark) {
  auto document = split_markdown_sections("# T\n"
                                          "#hashtag is text\n"
                                          "   ## Indented three ##\n"
                                          "a\n"
                                          "    ## Indented four is code\n"
                                          "##\tTabbed C#\n"
                                          "b\n"
                                          "##\n"
                                          "c\n",
                                          "");
  // An empty heading takes the document's title.
  EXPECT_EQ(headings(document),
            (strings{"T", "Indented three", "Tabbed C#", "T"}));
  EXPECT_EQ(document.sections[0].content, "#hashtag is text");
  EXPECT_EQ(document.sections[1].content,
            "a\n    ## Indented four is code");
}

TEST(markdown_sections, a_later_h1_starts_a_section) {
  auto document = split_markdown_sections("# Title\n## A\na\n# Part two\nb\n",
                                          "");
  EXPECT_EQ(document.title, "Title");
  EXPECT_EQ(headings(document), (strings{"A", "Part two"}));
}

TEST(markdown_sections, crlf_and_byte_order_mark) {
  auto document = split_markdown_sections(
    "\xEF\xBB\xBF# Title\r\nIntro\r\n## Sec\r\nline 1\r\nline 2\r\n", "");
  EXPECT_EQ(document.title, "Title");
  EXPECT_EQ(headings(document), (strings{"Title", "Sec"}));
  EXPECT_EQ(document.sections[1].content, "line 1\nline 2");
}
