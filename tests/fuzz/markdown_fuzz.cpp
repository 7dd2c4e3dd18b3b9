#include "agent/excerpt.hpp"
#include "agent/markdown_sections.hpp"
#include "agent/tokenizer.hpp"
#include "agent/utf8_text.hpp"
#include "config/url_encoding.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/targets.hpp"
#include "transport/sse_parser.hpp"

namespace parley::fuzz {

namespace {

bool is_blank_line(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

void check_tokens(const agent::tokenizer& tokens, std::string_view text) {
  auto terms = tokens.tokenize(text);
  std::string joined;
  for (const auto& term : terms) {
    FUZZ_CHECK(!term.empty());
    FUZZ_CHECK(!tokens.is_stop_word(term));
    FUZZ_CHECK(is_valid_utf8(term));
    FUZZ_CHECK(term.find_first_of(" \t\r\n") == std::string::npos);
    joined += term;
    joined += ' ';
  }
  // Terms are folded already: tokenizing them again changes nothing, so a
  // query and a text meet on the same terms.
  FUZZ_CHECK(tokens.tokenize(joined) == terms);
}

} // namespace

int fuzz_markdown(const std::uint8_t* data, std::size_t size) {
  auto input = as_text(data, size);
  bool valid = is_valid_utf8(input);

  // Three UTF-8 checkers in three libraries agree.
  FUZZ_CHECK(!agent::find_invalid_utf8(input).has_value() == valid);
  FUZZ_CHECK((llm::to_valid_utf8(input) == input) == valid);
  auto cleaned = agent::drop_invalid_utf8(input);
  FUZZ_CHECK(is_valid_utf8(cleaned));
  FUZZ_CHECK(cleaned.size() <= input.size());
  if (valid)
    FUZZ_CHECK(cleaned == input);

  if (valid) {
    for (std::size_t max_chars : {0, 1, 5, 40, 700}) {
      auto cut = agent::cut_excerpt(input, max_chars);
      FUZZ_CHECK(is_valid_utf8(cut));
      auto content = input.substr(0, input.find_last_not_of(" \t\n\r\f\v") + 1);
      if (cut == input || cut == content)
        continue; // short enough (but for its trailing whitespace)
      // A prefix of the input, then "…" (after a space when cut at a
      // sentence or block end).
      auto ellipsis = agent::excerpt_ellipsis;
      FUZZ_CHECK(cut.size() >= ellipsis.size()
                 && std::string_view{cut}.substr(cut.size() - ellipsis.size())
                      == ellipsis);
      auto kept = std::string_view{cut}.substr(0, cut.size() - ellipsis.size());
      if (!kept.empty() && kept.back() == ' ')
        kept.remove_suffix(1);
      FUZZ_CHECK(input.substr(0, kept.size()) == kept);
      FUZZ_CHECK(agent::utf8_length(kept) <= max_chars);
    }
  }

  auto document = agent::split_markdown_sections(input, "Fallback title");
  FUZZ_CHECK(!document.title.empty());
  std::size_t content_bytes = 0;
  for (std::size_t i = 0; i < document.sections.size(); ++i) {
    const auto& section = document.sections[i];
    FUZZ_CHECK(!section.heading.empty());
    FUZZ_CHECK(!section.content.empty());
    // Only the first section can be the introduction.
    FUZZ_CHECK(!section.introduction || i == 0);
    FUZZ_CHECK(section.heading.find('\n') == std::string::npos);
    auto first = section.content.substr(0, section.content.find('\n'));
    auto last = section.content.substr(section.content.rfind('\n') + 1);
    FUZZ_CHECK(!is_blank_line(first) && !is_blank_line(last));
    if (valid) {
      FUZZ_CHECK(is_valid_utf8(section.heading));
      FUZZ_CHECK(is_valid_utf8(section.content));
    }
    content_bytes += section.content.size();
  }
  FUZZ_CHECK(content_bytes <= input.size());
  if (valid)
    FUZZ_CHECK(is_valid_utf8(document.title));

  agent::tokenizer tokens;
  check_tokens(tokens, input);
  return 0;
}

} // namespace parley::fuzz
