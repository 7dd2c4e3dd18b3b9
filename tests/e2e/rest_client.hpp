#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/admin_api.hpp"
#include "tests/support/ws_client.hpp"

// A small JSON-over-HTTP client for the REST contract tests, and the checks
// of the response envelope. Every check's failure message shows the request
// as sent and the response as received, so a failing contract test is also
// the bug report.
namespace parley::test {

/// One request and what came back.
struct rest_reply {
  std::string method;
  std::string target;
  std::string request_body;
  http_headers request_headers;
  unsigned status = 0;
  http_headers headers;
  std::string body;
  nlohmann::json json; // the body parsed; discarded when it is not JSON

  bool is_json() const {
    return !json.is_discarded();
  }

  /// The first response header named `name` (case-insensitive), or "".
  std::string header(std::string_view name) const;

  /// `json["data"]`; throws std::runtime_error (with describe()) when the
  /// body has no "data".
  const nlohmann::json& data() const;

  /// "POST /api/users <body> -> 201 <body>", bodies shortened.
  std::string describe() const;
};

/// Sends the admin token (test_admin_token unless told otherwise) as
/// `Authorization: Bearer` with every request, as staff tools do; tests of
/// the public endpoints and of refusals send none or a wrong one.
class rest_client {
public:
  static constexpr std::chrono::milliseconds default_timeout{10000};

  rest_client(std::string host, std::uint16_t port,
              std::string admin_token = test_admin_token)
    : host_(std::move(host)), port_(port), token_(std::move(admin_token)) {
    // nop
  }

  /// The token sent from now on; empty: no Authorization header.
  void set_admin_token(std::string token) {
    token_ = std::move(token);
  }

  const std::string& admin_token() const {
    return token_;
  }

  rest_reply get(const std::string& target);

  /// POST with `body` dumped as JSON and Content-Type: application/json.
  rest_reply post(const std::string& target, const nlohmann::json& body);

  rest_reply put(const std::string& target, const nlohmann::json& body);

  rest_reply del(const std::string& target);

  /// Anything else: `body` is sent as given, with exactly `headers` added
  /// (and the admin token unless `headers` has an Authorization).
  rest_reply send(const std::string& method, const std::string& target,
                  const std::string& body = {}, const http_headers& headers = {},
                  std::chrono::milliseconds timeout = default_timeout);

  /// POST/PUT with a raw body and Content-Type: application/json.
  rest_reply send_json_text(const std::string& method,
                            const std::string& target, const std::string& body);

private:
  std::string host_;
  std::uint16_t port_;
  std::string token_;
};

/// Status `status`, a JSON object body with `"success": true` and a "data"
/// member, and Content-Type application/json.
::testing::AssertionResult is_success(const rest_reply& reply, unsigned status);

/// Status `status`, a JSON object body with `"success": false`, a non-empty
/// string "error", no "data", and Content-Type application/json.
::testing::AssertionResult is_error(const rest_reply& reply, unsigned status);

/// Any 4xx with the error envelope: bad input is never answered with 2xx or
/// 5xx.
::testing::AssertionResult is_client_error(const rest_reply& reply);

/// `"pagination": {"page","limit","total","pages"}` with these values, and
/// "data" an array of min(limit, max(0, total - (page-1)*limit)) items.
::testing::AssertionResult has_pagination(const rest_reply& reply,
                                          std::int64_t page, std::int64_t limit,
                                          std::int64_t total,
                                          std::int64_t pages);

/// The same, when the total is not known in advance (a shared table): the
/// numbers must agree with each other and with the size of "data".
::testing::AssertionResult has_consistent_pagination(const rest_reply& reply,
                                                     std::int64_t page,
                                                     std::int64_t limit);

// Shapes of the API's objects: every documented member with its JSON type.

::testing::AssertionResult is_user_object(const nlohmann::json& user);
::testing::AssertionResult is_session_object(const nlohmann::json& session);
::testing::AssertionResult is_message_object(const nlohmann::json& message);
::testing::AssertionResult is_setting_object(const nlohmann::json& setting);

/// "?a=1&b=x" style query parts need escaping of reserved characters.
std::string url_encode(std::string_view text);

} // namespace parley::test
