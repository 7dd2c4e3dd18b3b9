#include "agent/tokenizer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace parley::agent;

namespace {

using tokens = std::vector<std::string>;

tokens tokenize(std::string_view text) {
  return tokenizer{}.tokenize(text);
}

} // namespace

// The original template's case. None of these is a stop word: "hi" and "ok"
// carry meaning in a chat, and "id" is not the pronoun.
TEST(tokenizer, template_case) {
  EXPECT_EQ(tokenize("Hi!! Return-policy, ID=123? ok."),
            (tokens{"hi", "return", "policy", "id", "123", "ok"}));
}

TEST(tokenizer, lower_cases_and_splits_on_punctuation_and_space) {
  EXPECT_EQ(tokenize("  Shipping\tCOSTS\n(UPS/DHL) "),
            (tokens{"shipping", "costs", "ups", "dhl"}));
  EXPECT_EQ(tokenize(""), tokens{});
  EXPECT_EQ(tokenize("?!... --- "), tokens{});
}

TEST(tokenizer, keeps_digits_and_mixed_tokens) {
  EXPECT_EQ(tokenize("Order 555 ships in 3-5 days; USB-C 2m"),
            (tokens{"order", "555", "ships", "3", "5", "days", "usb", "c",
                    "2m"}));
  // Decimal digits of other scripts are digits too (ARABIC-INDIC 1 2 3).
  EXPECT_EQ(tokenize("\xD9\xA1\xD9\xA2\xD9\xA3"),
            tokens{"\xD9\xA1\xD9\xA2\xD9\xA3"});
}

TEST(tokenizer, drops_stop_words) {
  EXPECT_EQ(tokenize("What is your return policy?"),
            (tokens{"return", "policy"}));
  EXPECT_EQ(tokenize("How do I reset my password?"),
            (tokens{"reset", "password"}));
  // Negations stay: "not delivered" differs from "delivered".
  EXPECT_EQ(tokenize("It was not delivered, no"),
            (tokens{"not", "delivered", "no"}));
  // Apostrophes leave fragments that are stop words.
  EXPECT_EQ(tokenize("I don't know the customer's ID"),
            (tokens{"don", "know", "customer", "id"}));
}

TEST(tokenizer, stop_words_can_be_replaced) {
  tokenizer custom{std::vector<std::string>{"ok"}};
  EXPECT_EQ(custom.tokenize("ok what is this"),
            (tokens{"what", "is", "this"}));
  EXPECT_TRUE(custom.is_stop_word("ok"));
  EXPECT_FALSE(tokenizer{}.is_stop_word("ok"));
  EXPECT_TRUE(tokenizer{}.is_stop_word("the"));
}

TEST(tokenizer, folds_unicode_case) {
  // Full case folding: sharp s becomes "ss", in any spelling.
  EXPECT_EQ(tokenize("Größe"), tokens{"grösse"});
  EXPECT_EQ(tokenize("GRÖSSE"), tokens{"grösse"});
  EXPECT_EQ(tokenize("ÉCOLE"), tokens{"école"});
  // A decomposed accent (E + COMBINING ACUTE) folds to the same token.
  EXPECT_EQ(tokenize("E\xCC\x81" "COLE"), tokens{"école"});
  // Greek: capital sigma and final sigma both fold to sigma.
  EXPECT_EQ(tokenize("ΟΔΟΣ"), tokens{"οδο\xCF\x83"});
  EXPECT_EQ(tokenize("οδο\xCF\x82"), tokens{"οδο\xCF\x83"});
}

TEST(tokenizer, folds_compatibility_forms) {
  // Full-width letters and digits, and the "fi" ligature.
  EXPECT_EQ(tokenize("ＡＢＣ１２３"), tokens{"abc123"});
  EXPECT_EQ(tokenize("\xEF\xAC\x81le"), tokens{"file"});
}

TEST(tokenizer, splits_other_scripts_on_their_punctuation) {
  EXPECT_EQ(tokenize("東京、大阪 tokyo"),
            (tokens{"東京", "大阪", "tokyo"}));
  EXPECT_EQ(tokenize("Привет, МИР!"), (tokens{"привет", "мир"}));
}

TEST(tokenizer, format_characters_do_not_split_words) {
  // SOFT HYPHEN and ZERO WIDTH JOINER inside a word.
  EXPECT_EQ(tokenize("Ver\xC2\xAD" "sand"), tokens{"versand"});
  EXPECT_EQ(tokenize("ab\xE2\x80\x8D" "cd"), tokens{"abcd"});
}

TEST(tokenizer, combining_mark_alone_starts_no_token) {
  EXPECT_EQ(tokenize("\xCC\x81" "abc \xCC\x81"), tokens{"abc"});
}

TEST(tokenizer, invalid_utf8_is_skipped_not_fatal) {
  EXPECT_EQ(tokenize("ab\xFF" "cd \xC3 e\xE2\x82"),
            (tokens{"ab", "cd", "e"}));
  EXPECT_EQ(tokenize("\x80\x80\xC0\xAF\xED\xA0\x80 ok"), tokens{"ok"});
  EXPECT_EQ(tokenize("Gr\xC3\xB6\xC3"), tokens{"grö"});
  // Every byte value, in every position: no crash, only valid output.
  std::string noise;
  for (int i = 0; i < 256; ++i)
    noise += static_cast<char>(i);
  noise += noise;
  for (const auto& token : tokenize(noise))
    EXPECT_FALSE(token.empty());
}
