#include "agent/excerpt.hpp"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

namespace parley::agent {

namespace {

constexpr auto npos = std::string_view::npos;

/// How far past the limit the closing half of a construct that opens before
/// it is looked for, and how far a link or autolink may reach: bounds the
/// work on huge sections. A construct not closed within reach counts as
/// plain text, as Markdown takes an unclosed `**`.
constexpr std::size_t lookahead_bytes = 4096;
constexpr std::size_t max_link_bytes = 2048;

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
         || c == '\v';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// Letters, digits and every byte of a non-ASCII character: `_` between
/// them is part of a word (snake_case), not emphasis.
bool is_word(char c) {
  auto u = static_cast<unsigned char>(c);
  return is_digit(c) || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z')
         || u >= 0x80;
}

std::size_t run_length(std::string_view text, std::size_t pos, std::size_t end,
                       char c) {
  auto n = pos;
  while (n < end && text[n] == c)
    ++n;
  return n - pos;
}

/// The line's text after up to three spaces of indentation.
std::string_view unindented(std::string_view line) {
  std::size_t i = 0;
  while (i < 3 && i < line.size() && line[i] == ' ')
    ++i;
  return line.substr(i);
}

bool is_blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), is_space);
}

/// "```" or "~~~" (or longer) opens a fenced code block.
bool opens_fence(std::string_view line, char& fence, std::size_t& length) {
  auto rest = unindented(line);
  if (rest.empty() || (rest[0] != '`' && rest[0] != '~'))
    return false;
  auto n = run_length(rest, 0, rest.size(), rest[0]);
  if (n < 3)
    return false;
  if (rest[0] == '`' && rest.find('`', n) != npos)
    return false; // an info string with a backtick: a code span instead
  fence = rest[0];
  length = n;
  return true;
}

bool closes_fence(std::string_view line, char fence, std::size_t length) {
  auto rest = unindented(line);
  auto n = run_length(rest, 0, rest.size(), fence);
  return n >= length && is_blank(rest.substr(n));
}

bool is_heading(std::string_view line) {
  auto rest = unindented(line);
  auto n = run_length(rest, 0, rest.size(), '#');
  return n >= 1 && n <= 6 && (n == rest.size() || is_space(rest[n]));
}

/// "- item", "* item", "+ item", "1. item", "2) item", at any indentation.
bool starts_list_item(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
    ++i;
  auto rest = line.substr(i);
  if (rest.size() >= 2 && (rest[0] == '-' || rest[0] == '*' || rest[0] == '+')
      && is_space(rest[1]))
    return true;
  auto digits = std::size_t{0};
  while (digits < rest.size() && digits < 9 && is_digit(rest[digits]))
    ++digits;
  return digits > 0 && digits + 1 < rest.size()
         && (rest[digits] == '.' || rest[digits] == ')')
         && is_space(rest[digits + 1]);
}

/// A line that starts a block of its own: the line before it ends one.
bool starts_block(std::string_view line) {
  char fence = 0;
  std::size_t length = 0;
  return is_blank(line) || is_heading(line) || starts_list_item(line)
         || opens_fence(line, fence, length)
         || unindented(line).substr(0, 1) == ">";
}

/// A list marker alone ("-", "2."): what is left of an item cut right
/// after its marker.
bool is_bare_list_marker(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
    ++i;
  auto rest = line.substr(i);
  if (rest == "-" || rest == "*" || rest == "+")
    return true;
  auto digits = std::size_t{0};
  while (digits < rest.size() && is_digit(rest[digits]))
    ++digits;
  return digits > 0 && digits + 1 == rest.size()
         && (rest[digits] == '.' || rest[digits] == ')');
}

/// The byte length of a character that may close a sentence after its
/// period (a quote, a bracket, the end of emphasis or code) at `pos`, or 0.
std::size_t closer_length(std::string_view text, std::size_t pos) {
  switch (text[pos]) {
    case ')':
    case ']':
    case '"':
    case '\'':
    case '*':
    case '_':
    case '`':
    case '~':
      return 1;
    default:
      break;
  }
  for (std::string_view quote : {"\xE2\x80\x9D", "\xE2\x80\x99", "\xC2\xBB"})
    if (text.substr(pos, quote.size()) == quote)
      return quote.size();
  return 0;
}

/// Where Markdown constructs sit in the part of a text that an excerpt may
/// keep: blocked[c] is true when a cut at byte offset c would fall inside
/// one.
class construct_map {
public:
  construct_map(std::string_view text, std::size_t limit)
    : text_(text),
      limit_(limit),
      window_end_(std::min(text.size(), limit + lookahead_bytes)),
      blocked_(limit + 1, false) {
    scan_blocks();
  }

  bool blocked(std::size_t cut) const {
    return blocked_[cut];
  }

private:
  void protect(std::size_t begin, std::size_t end) {
    for (auto c = begin + 1; c < end && c <= limit_; ++c)
      blocked_[c] = true;
  }

  std::size_t line_end(std::size_t pos) const {
    auto end = text_.find('\n', pos);
    return end == npos ? text_.size() : end;
  }

  /// Fenced code blocks, and the inline constructs of the text between
  /// them, for every block that starts before the limit.
  void scan_blocks() {
    std::size_t pos = 0;
    auto inline_begin = npos;
    auto end_inline = [&](std::size_t end) {
      if (inline_begin != npos)
        scan_inline(inline_begin, end);
      inline_begin = npos;
    };
    while (pos < window_end_) {
      auto end = line_end(pos);
      auto line = text_.substr(pos, end - pos);
      char fence = 0;
      std::size_t length = 0;
      if (opens_fence(line, fence, length)) {
        end_inline(pos);
        if (pos >= limit_)
          return;
        auto close = end + 1;
        while (close < window_end_) {
          auto close_end = line_end(close);
          if (closes_fence(text_.substr(close, close_end - close), fence,
                           length))
            break;
          close = close_end + 1;
        }
        if (close >= window_end_) {
          protect(pos, text_.size()); // unclosed: code to the end
          return;
        }
        auto close_end = line_end(close);
        protect(pos, close_end);
        pos = close_end + 1;
        continue;
      }
      // Emphasis may wrap across the lines of a paragraph or list item, not
      // from one block into the next.
      if (is_blank(line) || is_heading(line) || starts_list_item(line))
        end_inline(pos);
      if (pos >= limit_ && inline_begin == npos)
        return;
      if (!is_blank(line) && inline_begin == npos)
        inline_begin = pos;
      pos = end + 1;
    }
    end_inline(window_end_);
  }

  /// The end of the closing run of `n` times `c` for an emphasis or code
  /// span whose content starts at `from`, or npos.
  std::size_t find_closer(char c, std::size_t n, std::size_t from,
                          std::size_t end) const {
    auto k = from;
    while (k < end) {
      if (c != '`' && text_[k] == '\\') {
        k += 2;
        continue;
      }
      if (text_[k] != c) {
        ++k;
        continue;
      }
      auto m = run_length(text_, k, end, c);
      bool fits = m == n;
      if (fits && c != '`') {
        // Right-flanking: the run follows text, not a space; `_` must not
        // be followed by a word character.
        fits = !is_space(text_[k - 1])
               && !(c == '_' && k + m < end && is_word(text_[k + m]));
      }
      if (fits)
        return k + m;
      k += m;
    }
    return npos;
  }

  /// The offset of the bracket that matches the one at `open`, or npos.
  std::size_t match_bracket(std::size_t open, std::size_t end, char left,
                            char right) const {
    int depth = 0;
    auto stop = std::min(end, open + max_link_bytes);
    for (auto k = open; k < stop; ++k) {
      if (text_[k] == '\\') {
        ++k;
      } else if (text_[k] == left) {
        ++depth;
      } else if (text_[k] == right && --depth == 0) {
        return k;
      }
    }
    return npos;
  }

  /// The end of a link or image whose text starts at `open` ('['), or npos.
  std::size_t link_end(std::size_t open, std::size_t end) const {
    auto close = match_bracket(open, end, '[', ']');
    if (close == npos || close + 1 >= end)
      return npos;
    if (text_[close + 1] == '(') {
      auto paren = match_bracket(close + 1, end, '(', ')');
      return paren == npos ? npos : paren + 1;
    }
    if (text_[close + 1] == '[') { // [text][reference]
      auto ref = match_bracket(close + 1, end, '[', ']');
      return ref == npos ? npos : ref + 1;
    }
    return npos;
  }

  /// Code spans, emphasis, links and autolinks in [begin, end); only those
  /// that open before the limit matter.
  void scan_inline(std::size_t begin, std::size_t end) {
    // Runs that found no closer: a later opener of the same kind searches a
    // part of the same stretch and would find none either.
    std::set<std::pair<char, std::size_t>> unclosed;
    auto i = begin;
    while (i < end && i < limit_) {
      auto c = text_[i];
      if (c == '\\') {
        i += 2;
        continue;
      }
      if (c == '`' || c == '*' || c == '_' || c == '~') {
        auto n = run_length(text_, i, end, c);
        bool opener = true;
        if (c != '`') {
          // Left-flanking: followed by text; `_` not inside a word.
          opener = i + n < end && !is_space(text_[i + n])
                   && !(c == '_' && i > begin && is_word(text_[i - 1]))
                   && (c != '~' || n == 2);
        }
        if (opener && unclosed.count({c, n}) == 0) {
          auto close = find_closer(c, n, i + n, end);
          if (close != npos) {
            protect(i, close);
            i = close;
            continue;
          }
          unclosed.insert({c, n});
        }
        i += n;
        continue;
      }
      if (c == '[' || (c == '!' && i + 1 < end && text_[i + 1] == '[')) {
        auto close = link_end(c == '!' ? i + 1 : i, end);
        if (close != npos) {
          protect(i, close);
          i = close;
          continue;
        }
      } else if (c == '<') {
        // An autolink or inline HTML: <https://…>, <br>.
        auto k = i + 1;
        auto stop = std::min(end, i + max_link_bytes);
        while (k < stop && text_[k] != '>' && text_[k] != '<'
               && !is_space(text_[k]))
          ++k;
        if (k < stop && text_[k] == '>' && k > i + 1) {
          protect(i, k + 1);
          i = k + 1;
          continue;
        }
      }
      ++i;
    }
  }

  std::string_view text_;
  std::size_t limit_;
  std::size_t window_end_;
  std::vector<bool> blocked_;
};

/// The byte offset where code point number `count` starts (text.size() if
/// there are fewer).
std::size_t offset_of_char(std::string_view text, std::size_t count) {
  std::size_t chars = 0;
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    if (is_continuation(text[pos]))
      continue;
    if (chars == count)
      return pos;
    ++chars;
  }
  return text.size();
}

/// The start of the line that holds byte offset `pos`.
std::size_t line_start(std::string_view text, std::size_t pos) {
  auto nl = pos == 0 ? npos : text.rfind('\n', pos - 1);
  return nl == npos ? 0 : nl + 1;
}

/// A period that ends a list marker ("2.") or an abbreviation ("e.g."),
/// not a sentence.
bool is_false_sentence_end(std::string_view text, std::size_t period) {
  if (text[period] != '.')
    return false;
  auto start = period;
  while (start > 0 && !is_space(text[start - 1]))
    --start;
  auto word = text.substr(start, period - start);
  if (word.find('.') != npos)
    return true; // e.g., i.e., U.S.
  bool digits = !word.empty()
                && std::all_of(word.begin(), word.end(), is_digit);
  if (!digits)
    return false;
  auto line = line_start(text, start);
  return is_blank(text.substr(line, start - line));
}

/// The last cut at a sentence or block end within [min_cut, limit], or
/// npos.
std::size_t clean_cut(std::string_view text, std::size_t limit,
                      std::size_t min_cut, const construct_map& map) {
  auto best = npos;
  auto consider = [&](std::size_t cut) {
    if (cut >= min_cut && cut <= limit && cut > 0 && !map.blocked(cut)
        && (best == npos || cut > best))
      best = cut;
  };
  for (std::size_t p = 0; p < limit; ++p) {
    auto c = text[p];
    if (c == '.' || c == '!' || c == '?') {
      auto q = p + 1;
      while (q < text.size()) {
        auto n = closer_length(text, q);
        if (n == 0)
          break;
        q += n;
      }
      if ((q == text.size() || is_space(text[q]))
          && !is_false_sentence_end(text, p))
        consider(q);
    } else if (c == '\n' && p > 0) {
      auto begin = line_start(text, p);
      auto line = text.substr(begin, p - begin);
      auto next_end = text.find('\n', p + 1);
      auto next = text.substr(p + 1, next_end == npos ? npos
                                                      : next_end - p - 1);
      if (!is_blank(line) && !is_heading(line) && starts_block(next))
        consider(p);
    }
  }
  return best;
}

/// The last cut before whitespace within [1, limit], or npos.
std::size_t word_cut(std::string_view text, std::size_t limit,
                     const construct_map& map) {
  for (auto cut = std::min(limit, text.size() - 1); cut > 0; --cut)
    if (is_space(text[cut]) && !is_space(text[cut - 1]) && !map.blocked(cut))
      return cut;
  return npos;
}

/// The last cut at a character boundary within [1, limit]: `limit` itself
/// when every earlier one is inside a construct.
std::size_t hard_cut(std::string_view text, std::size_t limit,
                     const construct_map& map) {
  for (auto cut = limit; cut > 0; --cut)
    if (!is_continuation(text[cut]) && !map.blocked(cut))
      return cut;
  return limit;
}

/// Drops trailing whitespace, and a list marker left alone on the last
/// line.
std::string_view tidy_end(std::string_view kept) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && is_space(s.back()))
      s.remove_suffix(1);
    return s;
  };
  kept = trim(kept);
  auto last = line_start(kept, kept.size());
  if (is_bare_list_marker(kept.substr(last)))
    kept = trim(kept.substr(0, last));
  return kept;
}

} // namespace

std::string cut_excerpt(std::string_view text, std::size_t max_chars) {
  auto content_end = text.size();
  while (content_end > 0 && is_space(text[content_end - 1]))
    --content_end;
  auto limit = offset_of_char(text, max_chars);
  if (limit >= text.size())
    return std::string{text};
  if (limit >= content_end) // only whitespace is over the limit
    return std::string{text.substr(0, content_end)};
  construct_map map{text, limit};
  auto ellipsis = std::string{excerpt_ellipsis};
  auto cut = clean_cut(text, limit, offset_of_char(text, max_chars / 2), map);
  if (cut != npos) {
    ellipsis.insert(0, " ");
  } else {
    cut = word_cut(text, limit, map);
    if (cut == npos)
      cut = hard_cut(text, limit, map);
  }
  auto kept = tidy_end(text.substr(0, cut));
  if (kept.empty())
    return std::string{excerpt_ellipsis};
  std::string result{kept};
  result += ellipsis;
  return result;
}

} // namespace parley::agent
