#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace parley {

/// The most a title made from a message keeps, in code points, "…" included.
inline constexpr std::size_t max_title_chars = 60;

/// A session's title from its customer's first message, for lists of
/// sessions: the first line that is not blank, its whitespace (and control
/// characters) collapsed to single spaces. Longer than `max_chars` code
/// points, it is cut at the last word boundary (or, when that keeps less
/// than half, at a character boundary) and ends with "…", within
/// `max_chars` in all. Never splits a UTF-8 character. Pure, so it is
/// tested directly.
std::string title_from_message(std::string_view message,
                               std::size_t max_chars = max_title_chars);

} // namespace parley
