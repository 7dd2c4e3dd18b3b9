#include "agent/utf8_text.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace parley::agent;

TEST(utf8_text, valid_text_has_no_invalid_offset) {
  EXPECT_EQ(find_invalid_utf8(""), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("plain ascii"), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("Gr\xC3\xB6\xC3\x9F"
                              "e \xE2\x82\xAC 5 \xF0\x9F\x93\xA6"),
            std::nullopt);
}

TEST(utf8_text, finds_the_first_ill_formed_sequence) {
  EXPECT_EQ(find_invalid_utf8("ab\xFF" "cd"), 2u);          // never valid
  EXPECT_EQ(find_invalid_utf8("\x80"), 0u);                 // lone continuation
  EXPECT_EQ(find_invalid_utf8("ok\xC3"), 2u);               // truncated
  EXPECT_EQ(find_invalid_utf8("x\xC0\xAF"), 1u);            // overlong '/'
  EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), 0u);         // surrogate
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);     // above U+10FFFF
}

TEST(utf8_text, drop_invalid_keeps_only_valid_sequences) {
  EXPECT_EQ(drop_invalid_utf8("ab\xFF" "c\xC3\xA9\xC3"), "abc\xC3\xA9");
  EXPECT_EQ(drop_invalid_utf8("\xE2\x82\xAC"), "\xE2\x82\xAC");
  EXPECT_EQ(drop_invalid_utf8("\xE2\x82"), "");
}

TEST(utf8_text, length_counts_code_points) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("\xC3\xA9t\xC3\xA9"), 3u); // été
}
