#include "config/dotenv.hpp"

#include "config/config_error.hpp"

namespace parley {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

bool is_key_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_key_char(char c) {
  return is_key_start(c) || (c >= '0' && c <= '9');
}

void skip_blanks(std::string_view& text) {
  while (!text.empty() && is_blank(text.front()))
    text.remove_prefix(1);
}

/// Parses one line; returns false for blank and comment lines. Error messages
/// name the key at most, never the value: it may be a secret.
bool parse_line(std::string_view line, size_t line_no, std::string& key,
                std::string& value) {
  auto fail = [line_no](const std::string& what) {
    throw config_error("line " + std::to_string(line_no) + ": " + what);
  };
  skip_blanks(line);
  if (line.empty() || line.front() == '#')
    return false;
  // `export KEY=value`, as shell scripts source it; `export=1` is a key.
  constexpr std::string_view export_kw = "export";
  if (line.substr(0, export_kw.size()) == export_kw
      && line.size() > export_kw.size() && is_blank(line[export_kw.size()])) {
    auto rest = line.substr(export_kw.size());
    skip_blanks(rest);
    if (!rest.empty() && is_key_start(rest.front()))
      line = rest;
  }
  if (!is_key_start(line.front()))
    fail("expected KEY=value (a key is letters, digits and '_', not "
         "starting with a digit)");
  size_t key_len = 1;
  while (key_len < line.size() && is_key_char(line[key_len]))
    ++key_len;
  key.assign(line.substr(0, key_len));
  line.remove_prefix(key_len);
  skip_blanks(line);
  if (line.empty() || line.front() != '=')
    fail("expected '=' after " + key);
  line.remove_prefix(1);
  bool blank_after_eq = !line.empty() && is_blank(line.front());
  skip_blanks(line);
  value.clear();
  if (!line.empty() && (line.front() == '"' || line.front() == '\'')) {
    char quote = line.front();
    line.remove_prefix(1);
    bool closed = false;
    while (!line.empty()) {
      char c = line.front();
      line.remove_prefix(1);
      if (c == quote) {
        closed = true;
        break;
      }
      if (c == '\\' && quote == '"' && !line.empty()) {
        char next = line.front();
        line.remove_prefix(1);
        switch (next) {
          case 'n':
            value += '\n';
            break;
          case 't':
            value += '\t';
            break;
          case 'r':
            value += '\r';
            break;
          case '"':
          case '\\':
            value += next;
            break;
          default:
            // Unknown escapes stay as written, like python-dotenv.
            value += '\\';
            value += next;
        }
        continue;
      }
      value += c;
    }
    if (!closed)
      fail(std::string{"unterminated "}
           + (quote == '"' ? "double" : "single") + "-quoted value for "
           + key);
    skip_blanks(line);
    if (!line.empty() && line.front() != '#')
      fail("unexpected text after the closing quote of " + key);
    return true;
  }
  // Unquoted: a '#' after whitespace starts a comment; "a#b" and "A=#b"
  // keep their '#'.
  size_t end = 0;
  for (; end < line.size(); ++end)
    if (line[end] == '#' && (end > 0 ? is_blank(line[end - 1]) : blank_after_eq))
      break;
  auto raw = line.substr(0, end);
  while (!raw.empty() && is_blank(raw.back()))
    raw.remove_suffix(1);
  value.assign(raw);
  return true;
}

} // namespace

env_map parse_dotenv(std::string_view text) {
  // An editor's UTF-8 byte order mark would otherwise be part of the key.
  constexpr std::string_view bom = "\xEF\xBB\xBF";
  if (text.substr(0, bom.size()) == bom)
    text.remove_prefix(bom.size());
  env_map result;
  size_t line_no = 0;
  std::string key;
  std::string value;
  while (!text.empty()) {
    ++line_no;
    auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') // CRLF files from Windows
      line.remove_suffix(1);
    if (parse_line(line, line_no, key, value))
      result[key] = value; // a later line wins, as when a shell sources it
  }
  return result;
}

} // namespace parley
