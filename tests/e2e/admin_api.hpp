#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "tests/support/ws_client.hpp"

// The admin token the end-to-end servers run with, and plain HTTP calls
// that carry it, for tests that are not built on rest_client.
namespace parley::test {

/// PARLEY_ADMIN_TOKEN of every server the e2e fixtures start.
inline constexpr const char* test_admin_token
  = "e2e-admin-token-0123456789abcdef";

/// The Authorization header with `token`.
inline http_headers bearer(const std::string& token = test_admin_token) {
  return {{"Authorization", "Bearer " + token}};
}

/// GET `target` with the admin token.
inline http_response admin_get(const std::string& host, std::uint16_t port,
                               const std::string& target,
                               std::chrono::milliseconds timeout
                               = ws_client::default_timeout) {
  return http_request(host, port, "GET", target, {}, bearer(), timeout);
}

} // namespace parley::test
