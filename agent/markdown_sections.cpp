#include "agent/markdown_sections.hpp"

#include <cstddef>
#include <optional>

namespace parley::agent {

namespace {

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

std::string_view trim(std::string_view text) {
  auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return {};
  auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

/// Up to three spaces of indentation, as CommonMark allows before headings
/// and fences; nullopt for more (that would be an indented code block).
std::optional<std::size_t> indentation(std::string_view line) {
  std::size_t n = 0;
  while (n < line.size() && line[n] == ' ')
    ++n;
  if (n > 3)
    return std::nullopt;
  return n;
}

struct heading {
  int level = 0;
  std::string_view text;
};

std::optional<heading> parse_heading(std::string_view line) {
  auto indent = indentation(line);
  if (!indent)
    return std::nullopt;
  line.remove_prefix(*indent);
  std::size_t level = 0;
  while (level < line.size() && line[level] == '#')
    ++level;
  if (level == 0 || level > 6)
    return std::nullopt;
  if (level < line.size() && line[level] != ' ' && line[level] != '\t')
    return std::nullopt; // "#hashtag" is text
  auto text = trim(line.substr(level));
  // An optional closing sequence: "## Returns ##". It must be preceded by a
  // space, so "## C#" keeps its '#'.
  auto hashes = text.find_last_not_of('#');
  if (hashes == std::string_view::npos)
    text = {};
  else if (hashes + 1 < text.size()
           && (text[hashes] == ' ' || text[hashes] == '\t'))
    text = trim(text.substr(0, hashes));
  return heading{static_cast<int>(level), text};
}

struct fence {
  char marker = 0;
  std::size_t length = 0;
};

/// The opening fence of a code block on this line, if any.
std::optional<fence> parse_fence(std::string_view line) {
  auto indent = indentation(line);
  if (!indent)
    return std::nullopt;
  line.remove_prefix(*indent);
  if (line.empty() || (line[0] != '`' && line[0] != '~'))
    return std::nullopt;
  auto marker = line[0];
  std::size_t length = 0;
  while (length < line.size() && line[length] == marker)
    ++length;
  if (length < 3)
    return std::nullopt;
  // A backtick fence's info string cannot contain backticks (CommonMark),
  // otherwise "```code``` inline" would open a block.
  if (marker == '`' && line.substr(length).find('`') != std::string_view::npos)
    return std::nullopt;
  return fence{marker, length};
}

bool closes(const fence& open, std::string_view line) {
  auto indent = indentation(line);
  if (!indent)
    return false;
  line.remove_prefix(*indent);
  std::size_t length = 0;
  while (length < line.size() && line[length] == open.marker)
    ++length;
  return length >= open.length && is_blank(line.substr(length));
}

/// Collects the lines of one section, dropping blank lines at either end.
class section_builder {
public:
  void add(std::string_view line) {
    if (is_blank(line)) {
      if (!text_.empty())
        ++pending_blank_lines_;
      return;
    }
    if (!text_.empty()) {
      text_ += '\n';
      text_.append(pending_blank_lines_, '\n');
    }
    pending_blank_lines_ = 0;
    text_.append(line);
  }

  bool empty() const noexcept {
    return text_.empty();
  }

  std::string take() {
    pending_blank_lines_ = 0;
    return std::move(text_);
  }

private:
  std::string text_;
  std::size_t pending_blank_lines_ = 0;
};

} // namespace

markdown_document split_markdown_sections(std::string_view text,
                                          std::string_view fallback_title) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3);
  markdown_document document;
  bool has_title = false;
  bool in_sections = false; // a `##` heading has been seen
  std::optional<fence> open_fence;
  section_builder intro;
  section_builder current;
  std::string current_heading;
  auto finish_section = [&] {
    if (!current.empty())
      document.sections.push_back({std::move(current_heading), current.take(),
                                   false});
    current = section_builder{};
    current_heading.clear();
  };
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    auto& body = in_sections ? current : intro;
    if (open_fence) {
      if (closes(*open_fence, line))
        open_fence.reset();
      body.add(line);
      continue;
    }
    if (auto opened = parse_fence(line)) {
      open_fence = opened;
      body.add(line);
      continue;
    }
    auto parsed = parse_heading(line);
    if (parsed && parsed->level == 1 && !has_title && !in_sections) {
      if (!parsed->text.empty()) {
        document.title = std::string{parsed->text};
        has_title = true;
      }
      continue;
    }
    if (parsed && parsed->level <= 2) {
      if (in_sections)
        finish_section();
      in_sections = true;
      current_heading = std::string{parsed->text};
      continue;
    }
    body.add(line);
  }
  if (in_sections)
    finish_section();
  if (!has_title)
    document.title = std::string{fallback_title};
  for (auto& section : document.sections)
    if (section.heading.empty())
      section.heading = document.title;
  if (!intro.empty())
    document.sections.insert(document.sections.begin(),
                             {document.title, intro.take(), true});
  return document;
}

} // namespace parley::agent
