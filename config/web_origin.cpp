#include "config/web_origin.hpp"

#include <algorithm>
#include <cctype>

#include "config/option_values.hpp"

namespace parley {

namespace {

bool is_scheme_char(unsigned char c) {
  return std::isalnum(c) != 0 || c == '+' || c == '-' || c == '.';
}

/// Letters, digits and the few marks host names and IP literals use; no
/// user info ('@'), path, query or fragment, no percent escapes.
bool is_host_char(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_';
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5)
    return std::nullopt;
  auto value = detail::parse_whole(text);
  if (!value || *value == 0 || *value > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(*value);
}

} // namespace

std::uint16_t default_port_of(std::string_view scheme) noexcept {
  if (scheme == "http" || scheme == "ws")
    return 80;
  if (scheme == "https" || scheme == "wss")
    return 443;
  return 0;
}

std::string web_origin::str() const {
  auto result = scheme + "://" + host;
  if (port != 0 && port != default_port_of(scheme))
    result += ':' + std::to_string(port);
  return result;
}

std::optional<web_origin> parse_host_port(std::string_view authority,
                                          std::string_view scheme) {
  web_origin result;
  result.scheme = detail::to_lower(scheme);
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return std::nullopt;
    host = authority.substr(0, close + 1);
    auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return std::nullopt;
      port = rest.substr(1);
      if (port.empty())
        return std::nullopt;
    }
    auto inside = host.substr(1, host.size() - 2);
    if (inside.empty()
        || !std::all_of(inside.begin(), inside.end(), [](unsigned char c) {
             return std::isxdigit(c) != 0 || c == ':' || c == '.';
           }))
      return std::nullopt;
  } else {
    auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty())
        return std::nullopt;
    }
    if (host.empty()
        || !std::all_of(host.begin(), host.end(),
                        [](unsigned char c) { return is_host_char(c); }))
      return std::nullopt;
  }
  result.host = detail::to_lower(host);
  if (!port.empty()) {
    auto number = parse_port(port);
    if (!number)
      return std::nullopt;
    result.port = *number;
  } else {
    result.port = default_port_of(result.scheme);
  }
  return result;
}

std::optional<web_origin> parse_web_origin(std::string_view text) {
  auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0)
    return std::nullopt;
  auto scheme = text.substr(0, sep);
  if (std::isalpha(static_cast<unsigned char>(scheme.front())) == 0
      || !std::all_of(scheme.begin(), scheme.end(),
                      [](unsigned char c) { return is_scheme_char(c); }))
    return std::nullopt;
  return parse_host_port(text.substr(sep + 3), scheme);
}

} // namespace parley
