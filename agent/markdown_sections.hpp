#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace parley::agent {

/// One searchable piece of a Markdown document.
struct markdown_section {
  /// The `##` heading's text; for the introduction, the document's title.
  std::string heading;
  /// The Markdown below the heading up to the next section, without the
  /// heading line and without leading or trailing blank lines. `###` and
  /// deeper headings stay in here.
  std::string content;
  /// True for the text between the title and the first `##` heading.
  bool introduction = false;
};

struct markdown_document {
  std::string title;
  std::vector<markdown_section> sections; // in document order
};

/// Splits a Markdown document into sections at its `##` headings.
///
/// - The first `#` heading before any `##` one is the title; without one,
///   the title is `fallback_title`. A `#` heading after that starts a new
///   section, as a `##` one does (it cannot belong to the one before).
/// - The text before the first `##` heading (minus the title line) is kept as
///   the introduction section, headed by the title.
/// - Headings are ATX headings as CommonMark has them: up to three spaces of
///   indentation, then the `#`s, then a space or the end of the line; an
///   optional closing run of `#`s is dropped. Setext (underlined) headings
///   are not recognised.
/// - Lines inside fenced code blocks (``` or ~~~) are never headings.
/// - Sections with no content (only blank lines) are dropped.
/// - A UTF-8 byte order mark is skipped; CRLF line ends become LF.
///
/// Takes any bytes; the result is valid UTF-8 when the input is.
markdown_document split_markdown_sections(std::string_view text,
                                          std::string_view fallback_title);

} // namespace parley::agent
