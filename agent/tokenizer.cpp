#include "agent/tokenizer.hpp"

#include <cstdlib>
#include <memory>

#include <utf8proc.h>

namespace parley::agent {

namespace {

enum class char_class { word, mark, ignorable, separator };

char_class classify(utf8proc_int32_t code_point) {
  switch (utf8proc_category(code_point)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
      return char_class::word;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      return char_class::mark;
    case UTF8PROC_CATEGORY_CF:
      return char_class::ignorable;
    default:
      return char_class::separator;
  }
}

bool is_ascii_word(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9');
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Decodes the code point at the start of `text` (not empty); returns its
/// length in bytes, or 0 for an ill-formed sequence.
std::size_t decode(std::string_view text, utf8proc_int32_t& code_point) {
  auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(
                              text.data()),
                            static_cast<utf8proc_ssize_t>(text.size()),
                            &code_point);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

struct free_deleter {
  void operator()(utf8proc_uint8_t* ptr) const noexcept {
    std::free(ptr);
  }
};

} // namespace

std::vector<std::string> tokenizer::default_stop_words() {
  return {
    // articles, conjunctions, prepositions
    "a", "an", "the", "and", "or", "but", "if", "than", "then", "so", "as",
    "at", "by", "for", "from", "in", "into", "of", "on", "to", "with",
    "about",
    // pronouns and determiners
    "i", "me", "my", "we", "us", "our", "ours", "you", "your", "yours", "he",
    "him", "his", "she", "her", "it", "its", "they", "them", "their", "this",
    "that", "these", "those", "there", "any",
    // auxiliaries
    "am", "is", "are", "was", "were", "be", "been", "do", "does", "did",
    "have", "has", "had", "can", "could", "will", "would", "should",
    // question words
    "what", "when", "where", "which", "who", "whom", "why", "how",
    // chat filler
    "please",
    // what apostrophes leave: don't, it's, we'll, I'm, you're, I've, I'd
    "s", "t", "ll", "m", "re", "ve", "d",
  };
}

tokenizer::tokenizer() : tokenizer(default_stop_words()) {
  // nop
}

tokenizer::tokenizer(const std::vector<std::string>& stop_words)
  : stop_words_(stop_words.begin(), stop_words.end()) {
  // nop
}

std::vector<std::string> tokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> result;
  tokenize_into(text, result);
  return result;
}

void tokenizer::tokenize_into(std::string_view text,
                              std::vector<std::string>& out) const {
  std::string token;
  bool ascii = true;
  auto flush = [&] {
    if (token.empty())
      return;
    if (ascii)
      emit(token, out);
    else
      fold_and_emit(token, out);
    token.clear();
    ascii = true;
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto byte = static_cast<unsigned char>(text[pos]);
    if (byte < 0x80) {
      // Most text is ASCII: no table look-ups for it.
      if (is_ascii_word(byte))
        token += ascii_lower(text[pos]);
      else
        flush();
      ++pos;
      continue;
    }
    utf8proc_int32_t code_point = 0;
    auto n = decode(text.substr(pos), code_point);
    if (n == 0) {
      flush();
      ++pos; // skip the bad byte and resynchronise on the next one
      continue;
    }
    switch (classify(code_point)) {
      case char_class::word:
        token.append(text.substr(pos, n));
        ascii = false;
        break;
      case char_class::mark:
        if (!token.empty()) {
          token.append(text.substr(pos, n));
          ascii = false;
        }
        break;
      case char_class::ignorable:
        break;
      case char_class::separator:
        flush();
        break;
    }
    pos += n;
  }
  flush();
}

void tokenizer::emit(std::string& token, std::vector<std::string>& out) const {
  if (!is_stop_word(token))
    out.push_back(std::move(token));
}

void tokenizer::fold_and_emit(const std::string& token,
                              std::vector<std::string>& out) const {
  utf8proc_uint8_t* raw = nullptr;
  auto options = static_cast<utf8proc_option_t>(
    UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_IGNORE
    | UTF8PROC_CASEFOLD);
  auto len = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(
                            token.data()),
                          static_cast<utf8proc_ssize_t>(token.size()), &raw,
                          options);
  std::unique_ptr<utf8proc_uint8_t, free_deleter> guard{raw};
  if (len < 0) {
    // Only on allocation failure: the token is valid UTF-8.
    auto copy = token;
    emit(copy, out);
    return;
  }
  // Compatibility mappings may introduce separators (U+FDFA expands to
  // several words), so split the folded text again.
  std::string_view folded{reinterpret_cast<const char*>(raw),
                          static_cast<std::size_t>(len)};
  std::string piece;
  std::size_t pos = 0;
  while (pos < folded.size()) {
    utf8proc_int32_t code_point = 0;
    auto n = decode(folded.substr(pos), code_point);
    if (n == 0) {
      ++pos;
      continue;
    }
    auto cls = classify(code_point);
    if (cls == char_class::word || (cls == char_class::mark && !piece.empty()))
      piece.append(folded.substr(pos, n));
    else if (cls == char_class::separator && !piece.empty()) {
      emit(piece, out);
      piece.clear();
    }
    pos += n;
  }
  if (!piece.empty())
    emit(piece, out);
}

} // namespace parley::agent
