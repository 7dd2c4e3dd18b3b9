#include "tools/loadgen/frame_scanner.hpp"

#include <charconv>

namespace parley::loadgen {

namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// A cursor over the text; every step checks the end.
struct cursor {
  std::string_view text;
  std::size_t pos = 0;

  void skip_space() noexcept {
    while (pos < text.size() && is_space(text[pos]))
      ++pos;
  }

  bool at(char c) const noexcept {
    return pos < text.size() && text[pos] == c;
  }

  /// At an opening quote: moves past the closing one and returns what is
  /// between them.
  bool string(std::string_view& out) noexcept {
    if (!at('"'))
      return false;
    auto start = ++pos;
    while (pos < text.size()) {
      auto c = text[pos];
      if (c == '\\') {
        pos += 2; // the escaped character, whatever it is
        continue;
      }
      if (c == '"') {
        out = text.substr(start, pos - start);
        ++pos;
        return true;
      }
      ++pos;
    }
    return false;
  }

  /// At `{` or `[`: moves past the matching closer.
  bool nested(std::string_view& out) noexcept {
    auto start = pos;
    std::size_t depth = 0;
    while (pos < text.size()) {
      auto c = text[pos];
      if (c == '"') {
        std::string_view ignored;
        if (!string(ignored))
          return false;
        continue;
      }
      ++pos;
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          out = text.substr(start, pos - start);
          return true;
        }
      }
    }
    return false;
  }

  /// A number or literal: everything up to the next delimiter.
  bool scalar(std::string_view& out) noexcept {
    auto start = pos;
    while (pos < text.size() && text[pos] != ',' && text[pos] != '}'
           && text[pos] != ']' && !is_space(text[pos]))
      ++pos;
    if (pos == start)
      return false;
    out = text.substr(start, pos - start);
    return true;
  }
};

template <class Visit>
bool scan(std::string_view text, Visit&& visit) {
  cursor in{text};
  in.skip_space();
  if (!in.at('{'))
    return false;
  ++in.pos;
  in.skip_space();
  if (in.at('}')) {
    ++in.pos;
  } else {
    for (;;) {
      std::string_view key;
      in.skip_space();
      if (!in.string(key))
        return false;
      in.skip_space();
      if (!in.at(':'))
        return false;
      ++in.pos;
      in.skip_space();
      if (in.pos >= text.size())
        return false;
      std::string_view value;
      json_kind kind;
      auto c = text[in.pos];
      if (c == '"') {
        kind = json_kind::string;
        if (!in.string(value))
          return false;
      } else if (c == '{' || c == '[') {
        kind = c == '{' ? json_kind::object : json_kind::array;
        if (!in.nested(value))
          return false;
      } else {
        if (!in.scalar(value))
          return false;
        kind = (c == '-' || (c >= '0' && c <= '9')) ? json_kind::number
                                                     : json_kind::literal;
      }
      visit(key, value, kind);
      in.skip_space();
      if (in.at(',')) {
        ++in.pos;
        continue;
      }
      if (in.at('}')) {
        ++in.pos;
        break;
      }
      return false;
    }
  }
  in.skip_space();
  return in.pos == text.size();
}

} // namespace

bool scan_object(
  std::string_view text,
  const std::function<void(std::string_view, std::string_view, json_kind)>&
    visit) {
  return scan(text, visit);
}

std::optional<std::string_view>
find_member(std::string_view text, std::string_view key, json_kind* kind) {
  std::optional<std::string_view> found;
  json_kind found_kind = json_kind::literal;
  auto ok = scan(text, [&](std::string_view k, std::string_view v,
                           json_kind kd) {
    if (!found && k == key) {
      found = v;
      found_kind = kd;
    }
  });
  if (!ok)
    return std::nullopt;
  if (found && kind != nullptr)
    *kind = found_kind;
  return found;
}

std::optional<std::int64_t> parse_integer(std::string_view text) noexcept {
  std::int64_t value = 0;
  auto end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end || text.empty())
    return std::nullopt;
  return value;
}

bool scan_server_frame(std::string_view text, server_frame& out) {
  out = server_frame{};
  bool typed = false;
  auto ok = scan(text, [&](std::string_view key, std::string_view value,
                           json_kind kind) {
    // The keys the load generator reads; every other one is skipped.
    if (key == "type") {
      if (kind == json_kind::string) {
        out.type = value;
        typed = true;
      }
    } else if (key == "reply_to") {
      if (kind == json_kind::number)
        out.reply_to = parse_integer(value);
    } else if (key == "message_id") {
      if (kind == json_kind::number)
        out.message_id = parse_integer(value);
    } else if (key == "id") {
      if (kind == json_kind::string || kind == json_kind::number)
        out.id = value;
    } else if (key == "client_id") {
      if (kind == json_kind::string)
        out.client_id = value;
    } else if (key == "code") {
      if (kind == json_kind::string)
        out.code = value;
    }
  });
  return ok && typed;
}

} // namespace parley::loadgen
