#include "actors/session_title.hpp"

#include <gtest/gtest.h>

#include <string>

namespace parley {
namespace {

const std::string ellipsis = "\xE2\x80\xA6";

std::size_t code_points(const std::string& text) {
  std::size_t n = 0;
  for (auto c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
      ++n;
  return n;
}

TEST(session_title, a_short_first_line_is_the_title) {
  EXPECT_EQ(title_from_message("Where is my order?"), "Where is my order?");
  EXPECT_EQ(title_from_message("Refund please\nOrder 124, it arrived broken"),
            "Refund please");
  EXPECT_EQ(title_from_message(""), "");
}

TEST(session_title, whitespace_is_collapsed_and_blank_lines_skipped) {
  EXPECT_EQ(title_from_message("\n  \r\n\t Hello \t  there  \r\nsecond"),
            "Hello there");
  EXPECT_EQ(title_from_message("a\x01\x7F" "b"), "a b");
  EXPECT_EQ(title_from_message(" \n\t\n"), "");
}

TEST(session_title, long_lines_are_cut_at_a_word_with_an_ellipsis) {
  std::string text = "I ordered a standing desk three weeks ago and it still "
                     "has not arrived, can you check";
  auto title = title_from_message(text);
  EXPECT_EQ(title, "I ordered a standing desk three weeks ago and it still "
                   "has"
                     + ellipsis);
  EXPECT_LE(code_points(title), max_title_chars);
  // Exactly the limit is not cut.
  std::string sixty(60, 'a');
  EXPECT_EQ(title_from_message(sixty), sixty);
  EXPECT_EQ(title_from_message(sixty + "b"), std::string(59, 'a') + ellipsis);
}

TEST(session_title, a_word_too_long_for_half_the_title_is_cut_hard) {
  auto title = title_from_message("Hi " + std::string(100, 'x'));
  EXPECT_EQ(title, "Hi " + std::string(56, 'x') + ellipsis);
  EXPECT_EQ(code_points(title), max_title_chars);
}

TEST(session_title, never_splits_a_character) {
  // "é" is two bytes, "📦" four: every cut falls between characters.
  std::string text;
  for (int i = 0; i < 40; ++i)
    text += "\xC3\xA9\xF0\x9F\x93\xA6";
  for (std::size_t max = 1; max < 70; ++max) {
    auto title = title_from_message(text, max);
    EXPECT_EQ(code_points(title), max) << max;
    // Valid: it decodes back to whole pairs, the ellipsis last.
    auto kept = title.substr(0, title.size() - ellipsis.size());
    EXPECT_EQ(title.substr(kept.size()), ellipsis) << max;
    EXPECT_EQ(text.compare(0, kept.size(), kept), 0) << max;
    auto next = static_cast<unsigned char>(text[kept.size()]);
    EXPECT_NE(next & 0xC0, 0x80) << "split at " << max;
  }
  EXPECT_EQ(title_from_message("caf\xC3\xA9 au lait", 60),
            "caf\xC3\xA9 au lait");
}

} // namespace
} // namespace parley
