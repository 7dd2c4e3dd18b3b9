#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley {

/// A browser origin, "scheme://host[:port]" (RFC 6454), as an Origin header
/// or ALLOWED_ORIGINS writes it. Scheme and host are lower case; `port` is
/// the explicit port or the scheme's default (0 for a scheme without one).
struct web_origin {
  std::string scheme;
  std::string host; // an IPv6 address keeps its brackets
  std::uint16_t port = 0;

  /// "scheme://host", plus ":port" unless it is the scheme's default: the
  /// form browsers send, so equal origins have equal text.
  std::string str() const;
};

/// The default port of http/ws (80) and https/wss (443); 0 otherwise.
std::uint16_t default_port_of(std::string_view scheme) noexcept;

/// Parses an origin; nothing for anything else (a path, user info, "null",
/// a bad port, spaces or control characters).
std::optional<web_origin> parse_web_origin(std::string_view text);

/// Parses "host[:port]" (a Host header) as an origin of `scheme`, whose
/// default port applies when none is given.
std::optional<web_origin> parse_host_port(std::string_view authority,
                                          std::string_view scheme);

} // namespace parley
