#include "agent/excerpt.hpp"

#include <gtest/gtest.h>

#include <string>

#include "agent/utf8_text.hpp"

using namespace parley::agent;

namespace {

const std::string ellipsis{excerpt_ellipsis};

} // namespace

TEST(excerpt, short_text_is_not_cut) {
  EXPECT_EQ(cut_excerpt("short text", 700), "short text");
  std::string exact(700, 'a');
  EXPECT_EQ(cut_excerpt(exact, 700), exact);
  // Only whitespace over the limit: nothing was dropped, no ellipsis.
  EXPECT_EQ(cut_excerpt("abc   \n", 3), "abc");
  EXPECT_EQ(cut_excerpt("", 0), "");
}

TEST(excerpt, cuts_after_the_last_sentence_that_fits) {
  std::string text = "First sentence here. Second sentence is longer and "
                     "goes on. Third one is cut mid-way because it is long.";
  EXPECT_EQ(cut_excerpt(text, 70),
            "First sentence here. Second sentence is longer and goes on. "
              + ellipsis);
  // A sentence may end inside emphasis or quotes.
  EXPECT_EQ(cut_excerpt("Pack it well. **Never send cash.** Then tape the box "
                        "and take it to the shop",
                        45),
            "Pack it well. **Never send cash.** " + ellipsis);
}

TEST(excerpt, a_sentence_end_that_keeps_too_little_gives_way_to_a_word) {
  // The only sentence end keeps less than half of the limit.
  EXPECT_EQ(cut_excerpt("Yes. then a long run of words without any sentence "
                        "end at all",
                        40),
            "Yes. then a long run of words without" + ellipsis);
}

TEST(excerpt, abbreviations_and_list_numbers_end_no_sentence) {
  EXPECT_EQ(cut_excerpt("Open Orders, e.g. from the menu, and choose the "
                        "order you want to return today",
                        30),
            "Open Orders, e.g. from the" + ellipsis);
  // "12." starts a list item: the cut goes before it, not after it.
  EXPECT_EQ(cut_excerpt("Call us at extension\n12. Then ask for the returns "
                        "desk and give your number",
                        40),
            "Call us at extension " + ellipsis);
}

TEST(excerpt, cuts_at_a_paragraph_or_list_item_without_a_sentence_end) {
  std::string text = "Bring these to the counter:\n\n- the parcel,\n- the "
                     "printed label,\n- the receipt with the order number "
                     "and your name on it";
  EXPECT_EQ(cut_excerpt(text, 70),
            "Bring these to the counter:\n\n- the parcel,\n- the printed "
            "label, "
              + ellipsis);
}

TEST(excerpt, never_cuts_inside_emphasis) {
  std::string text = "You can return most items within **thirty days of "
                     "delivery** for a refund of the price";
  // The limit falls inside the bold text: the cut goes before it.
  EXPECT_EQ(cut_excerpt(text, 45),
            "You can return most items within" + ellipsis);
  // Past it, the bold text stays whole.
  EXPECT_EQ(cut_excerpt(text, 70),
            "You can return most items within **thirty days of delivery** "
            "for a"
              + ellipsis);
  EXPECT_EQ(cut_excerpt("Keep the _original packaging and all the parts_ "
                        "please",
                        30),
            "Keep the" + ellipsis);
  EXPECT_EQ(cut_excerpt("Gift cards ~~can be returned within a year~~ are "
                        "final",
                        30),
            "Gift cards" + ellipsis);
}

TEST(excerpt, never_cuts_inside_a_link_or_code) {
  EXPECT_EQ(cut_excerpt("See [our returns page](https://example.com/returns) "
                        "for the details you need",
                        20),
            "See" + ellipsis);
  EXPECT_EQ(cut_excerpt("Mail <https://shop.example/returns/label> to print "
                        "a label",
                        20),
            "Mail" + ellipsis);
  EXPECT_EQ(cut_excerpt("Type `return 124 now please` in the chat box and "
                        "send it",
                        20),
            "Type" + ellipsis);
}

TEST(excerpt, never_cuts_inside_a_fenced_code_block) {
  // The sentences inside the block are code, not places to cut.
  std::string intro = "Check the status of your order with the command "
                      "below:";
  std::string text = intro
                     + "\n\n```\nstep one. step two. step three. step four\n"
                       "```\n\nThat is all.";
  EXPECT_EQ(cut_excerpt(text, 80), intro + " " + ellipsis);
  // An unclosed fence is code to the end.
  EXPECT_EQ(cut_excerpt(intro + "\n\n~~~\nstep one. step two. step three. "
                                "step four and five",
                        80),
            intro + " " + ellipsis);
}

TEST(excerpt, unclosed_markers_and_words_with_underscores_are_plain_text) {
  // "**" without a partner is text: cuts after it are fine.
  EXPECT_EQ(cut_excerpt("Rated 5 **stars by our customers over many years of "
                        "service",
                        30),
            "Rated 5 **stars by our" + ellipsis);
  EXPECT_EQ(cut_excerpt("Set the field order_id and then the_other_field "
                        "before you send",
                        30),
            "Set the field order_id and" + ellipsis);
}

TEST(excerpt, a_list_marker_alone_at_the_end_is_dropped) {
  EXPECT_EQ(cut_excerpt("Steps\n- " + std::string(100, 'x'), 20),
            "Steps" + ellipsis);
}

TEST(excerpt, a_single_long_word_is_cut_hard) {
  std::string word(100, 'x');
  EXPECT_EQ(cut_excerpt(word, 50), std::string(50, 'x') + ellipsis);
}

TEST(excerpt, cut_never_splits_a_character) {
  // 2-byte and 4-byte characters without spaces: every cut must stay valid.
  std::string text;
  for (int i = 0; i < 300; ++i)
    text += "\xC3\xA9\xF0\x9F\x93\xA6";
  for (std::size_t max = 1; max < 50; ++max) {
    auto cut = cut_excerpt(text, max);
    EXPECT_EQ(find_invalid_utf8(cut), std::nullopt) << max;
    EXPECT_EQ(utf8_length(cut), max + 1) << max;
    EXPECT_EQ(cut.substr(cut.size() - ellipsis.size()), ellipsis) << max;
  }
  // Words of multi-byte characters: the cut falls between them.
  std::string words;
  for (int i = 0; i < 50; ++i)
    words += "\xC3\xA9t\xC3\xA9 ";
  auto cut = cut_excerpt(words, 10);
  EXPECT_EQ(cut, "\xC3\xA9t\xC3\xA9 \xC3\xA9t\xC3\xA9" + ellipsis);
}
