#include "actors/session_title.hpp"

namespace parley {

namespace {

constexpr std::string_view ellipsis = "\xE2\x80\xA6";

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

/// Spaces, tabs and every other ASCII control character but the newline.
bool is_blank_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == ' ' || (u < 0x20 && c != '\n') || u == 0x7F;
}

} // namespace

std::string title_from_message(std::string_view message,
                               std::size_t max_chars) {
  // The first line with something on it, whitespace collapsed.
  std::string line;
  std::size_t pos = 0;
  while (pos < message.size() && line.empty()) {
    auto end = message.find('\n', pos);
    if (end == std::string_view::npos)
      end = message.size();
    bool gap = false;
    for (auto i = pos; i < end; ++i) {
      if (is_blank_char(message[i])) {
        gap = !line.empty();
        continue;
      }
      if (gap)
        line += ' ';
      gap = false;
      line += message[i];
    }
    pos = end + 1;
  }
  // Where code point number `max_chars` starts; the end: nothing to cut.
  std::size_t chars = 0;
  std::size_t limit = 0;
  for (; limit < line.size(); ++limit) {
    if (is_continuation(line[limit]))
      continue;
    if (chars == max_chars)
      break;
    ++chars;
  }
  if (limit >= line.size())
    return line;
  if (max_chars == 0)
    return {};
  // Room for the ellipsis: keep at most max_chars - 1 code points.
  auto keep = limit;
  do
    --keep;
  while (keep > 0 && is_continuation(line[keep]));
  // The last space within, unless that keeps less than half.
  auto space = line.rfind(' ', keep);
  std::size_t min_keep = 0;
  for (std::size_t counted = 0; min_keep < keep; ++min_keep) {
    if (is_continuation(line[min_keep]))
      continue;
    if (counted == (max_chars - 1) / 2)
      break;
    ++counted;
  }
  if (space != std::string::npos && space >= min_keep && space > 0)
    keep = space;
  line.resize(keep);
  while (!line.empty() && line.back() == ' ')
    line.pop_back();
  line += ellipsis;
  return line;
}

} // namespace parley
