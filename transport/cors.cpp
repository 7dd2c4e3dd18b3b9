#include "transport/cors.hpp"

namespace parley::transport {

header_fields cors_headers(const origin_policy& policy,
                           std::string_view origin, std::string_view host) {
  if (origin.empty() || !policy.allows(origin, host))
    return {};
  // The answer depends on the Origin: caches must keep them apart.
  return {{"Access-Control-Allow-Origin", std::string{origin}},
          {"Vary", "Origin"}};
}

preflight_answer answer_preflight(const origin_policy& policy,
                                  std::string_view origin,
                                  std::string_view host,
                                  std::string_view allow) {
  preflight_answer result;
  if (allow.empty()) {
    result.status = 404;
    result.error = "not found";
    return result;
  }
  if (origin.empty()) {
    result.headers.emplace_back("Allow", std::string{allow});
    return result;
  }
  result.headers = cors_headers(policy, origin, host);
  if (result.headers.empty()) {
    result.status = 403;
    result.error = "this origin may not use the API";
    return result;
  }
  result.headers.emplace_back("Access-Control-Allow-Methods",
                              std::string{allow});
  result.headers.emplace_back("Access-Control-Allow-Headers",
                              "Authorization, Content-Type");
  result.headers.emplace_back("Access-Control-Max-Age",
                              std::to_string(cors_max_age_seconds));
  return result;
}

} // namespace parley::transport
