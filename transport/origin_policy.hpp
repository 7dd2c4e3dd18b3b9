#pragma once

#include <string>
#include <string_view>
#include <vector>

// Which web pages may use the chat socket and the REST API from a browser,
// judged by the Origin header browsers send. Pure (no Beast): the same
// policy decides the WebSocket upgrade (cross-site WebSocket hijacking) and
// CORS.
namespace parley::transport {

class origin_policy {
public:
  /// Pages of the server's own host only.
  origin_policy() = default;

  /// Pages of the server's own host and of `allowed` (origins as
  /// web_origin::str() writes them); every page when `any`.
  origin_policy(std::vector<std::string> allowed, bool any);

  /// Whether a request with `origin` (its Origin header, not empty) that
  /// was sent to `host` (its Host header) comes from a page allowed here.
  /// Same host: the origin's host and port (the scheme's default when
  /// none is written) equal the Host header's. "null" and anything
  /// malformed are refused unless every origin is allowed.
  bool allows(std::string_view origin, std::string_view host) const;

  bool allows_any() const noexcept {
    return any_;
  }

  const std::vector<std::string>& allowed() const noexcept {
    return allowed_;
  }

private:
  std::vector<std::string> allowed_;
  bool any_ = false;
};

} // namespace parley::transport
