#include "agent/utf8_text.hpp"

#include <utf8proc.h>

namespace parley::agent {

namespace {

/// The length of the valid sequence at the start of `text`, or 0 when it is
/// ill-formed. `text` must not be empty.
std::size_t valid_sequence_length(std::string_view text) {
  auto byte = static_cast<unsigned char>(text.front());
  if (byte < 0x80)
    return 1;
  utf8proc_int32_t code_point = 0;
  auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(
                              text.data()),
                            static_cast<utf8proc_ssize_t>(text.size()),
                            &code_point);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

} // namespace

std::optional<std::size_t> find_invalid_utf8(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto n = valid_sequence_length(text.substr(pos));
    if (n == 0)
      return pos;
    pos += n;
  }
  return std::nullopt;
}

std::string drop_invalid_utf8(std::string_view text) {
  std::string result;
  result.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto n = valid_sequence_length(text.substr(pos));
    if (n == 0) {
      ++pos; // resynchronise on the next byte
      continue;
    }
    result.append(text.substr(pos, n));
    pos += n;
  }
  return result;
}

std::size_t utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (auto c : text)
    if (!is_continuation(c))
      ++count;
  return count;
}

} // namespace parley::agent
