#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley {

/// Decodes %XX escapes (and '+' as a space when `plus_is_space`, as HTML
/// forms and query strings write it). Returns nothing when an escape is
/// malformed, so callers decide whether that is an error.
std::optional<std::string> percent_decode(std::string_view text,
                                          bool plus_is_space = false);

/// Whether `text` is well-formed UTF-8 (no overlong forms, no surrogates,
/// nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

} // namespace parley
