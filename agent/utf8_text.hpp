#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// UTF-8 checks and cuts for text that ends up in JSON: nlohmann's dump()
// throws on invalid UTF-8, and a cut in the middle of a character would make
// otherwise valid text invalid.
namespace parley::agent {

/// The byte offset of the first ill-formed sequence in `text` (a stray
/// continuation byte, a truncated sequence, an overlong form, a surrogate or
/// a code point above U+10FFFF), or nullopt when all of `text` is valid.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

/// `text` without its ill-formed bytes; valid text comes back unchanged.
std::string drop_invalid_utf8(std::string_view text);

/// The number of code points in valid UTF-8 `text`.
std::size_t utf8_length(std::string_view text);

/// `text` when it has at most `max_chars` code points; otherwise its first
/// `max_chars` code points or fewer, followed by "...". The cut falls at the
/// last whitespace of the final `word_slack` code points when there is one,
/// so a word is not split in half, and trailing whitespace is dropped before
/// the ellipsis. `text` must be valid UTF-8: the cut never splits a
/// character.
std::string truncate_utf8(std::string_view text, std::size_t max_chars,
                          std::size_t word_slack = 40);

} // namespace parley::agent
