#pragma once

#include <cstddef>
#include <string>
#include <string_view>

// Excerpts of Markdown text for people: what the knowledge search returns
// (REST and the agent's tool) and what the fallback answer quotes.
namespace parley::agent {

/// The ellipsis an excerpt ends with when text was dropped (U+2026).
inline constexpr std::string_view excerpt_ellipsis = "\xE2\x80\xA6";

/// `text` unchanged when it has at most `max_chars` code points, without
/// its trailing whitespace when only that is over. Otherwise a prefix of at
/// most `max_chars` code points, cut at the first of these that exists:
///
/// 1. the last sentence end (`.`, `!` or `?` before whitespace, after any
///    closing quotes, brackets or emphasis) or block end (a paragraph, a
///    list item, before a heading or a code fence) that keeps at least half
///    of `max_chars`; followed by " …";
/// 2. the last word boundary; followed by "…";
/// 3. the last code point boundary; followed by "…".
///
/// No cut falls inside a Markdown construct: emphasis (`**bold**`, `*em*`,
/// `_em_`, `~~struck~~`), a code span, a link or image (`[text](url)`), an
/// autolink (`<https://…>`) or a fenced code block, so that the excerpt
/// renders as the text did (only a construct too long for the limit is
/// cut, by rule 3). Trailing whitespace and a list marker left alone on the
/// last line are dropped. Never splits a UTF-8 character; `text` should be
/// valid UTF-8, and the result then is too.
std::string cut_excerpt(std::string_view text, std::size_t max_chars);

} // namespace parley::agent
