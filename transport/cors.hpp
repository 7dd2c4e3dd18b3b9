#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "transport/origin_policy.hpp"

// CORS for the REST API (https://fetch.spec.whatwg.org/#http-cors-protocol),
// as pure functions: which headers an answer carries, and the answer to a
// preflight. No credentials mode: the admin API takes a bearer token, not
// cookies, so Access-Control-Allow-Credentials is never sent.
namespace parley::transport {

using header_fields = std::vector<std::pair<std::string, std::string>>;

/// How long browsers may cache a preflight's answer (seconds).
inline constexpr int cors_max_age_seconds = 600;

/// The CORS headers of an answer to an /api request from `origin` (its
/// Origin header; empty when none) sent to `host`: the origin echoed with
/// `Vary: Origin` when the policy allows it, nothing otherwise.
header_fields cors_headers(const origin_policy& policy,
                           std::string_view origin, std::string_view host);

/// The answer to OPTIONS on an /api path.
struct preflight_answer {
  unsigned status = 204;
  header_fields headers;
  std::string error; // the message of a 403 or 404 body
};

/// `allow` lists the path's methods ("GET, POST"; empty: no such path, 404).
/// An allowed origin gets 204 with the CORS headers, the methods,
/// `Authorization, Content-Type` and the max age; a refused one 403 without
/// CORS headers; an OPTIONS without Origin (no browser asking) 204 with
/// Allow.
preflight_answer answer_preflight(const origin_policy& policy,
                                  std::string_view origin,
                                  std::string_view host,
                                  std::string_view allow);

} // namespace parley::transport
