#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace parley {

/// A button of the chat UI that sends `text` as the customer's message.
struct web_suggestion {
  std::string label;
  std::string text;
};

/// What the browser UI shows before the first message (config/web.json),
/// served as GET /api/chat/config. Plain data, checked when parsed.
struct web_config {
  std::string title;
  std::string greeting;
  std::vector<web_suggestion> suggestions;
};

/// Bounds of web.json's values, in bytes (and items).
inline constexpr std::size_t max_web_title_bytes = 120;
inline constexpr std::size_t max_web_greeting_bytes = 2000;
inline constexpr std::size_t max_web_suggestions = 12;
inline constexpr std::size_t max_web_label_bytes = 80;
inline constexpr std::size_t max_web_suggestion_bytes = 1000;

/// Parses and checks a web.json document: an object with a non-empty
/// "title", a "greeting" string and optional "suggestions" (objects with a
/// non-empty "label" and "text"); "comment" is allowed, other members are
/// not (a misspelt name would be ignored silently). Throws config_error
/// "<source>: <where>: <problem>" on the first problem.
web_config parse_web_config(std::string_view text, const std::string& source);

/// Reads and parses the file `path`; errors name it.
web_config read_web_config_file(const std::string& path);

} // namespace parley
