#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// UTF-8 checks for text that ends up in JSON: nlohmann's dump() throws on
// invalid UTF-8. Excerpts (cuts that keep text valid) are in excerpt.hpp.
namespace parley::agent {

/// The byte offset of the first ill-formed sequence in `text` (a stray
/// continuation byte, a truncated sequence, an overlong form, a surrogate or
/// a code point above U+10FFFF), or nullopt when all of `text` is valid.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

/// `text` without its ill-formed bytes; valid text comes back unchanged.
std::string drop_invalid_utf8(std::string_view text);

/// The number of code points in valid UTF-8 `text`.
std::size_t utf8_length(std::string_view text);

} // namespace parley::agent
