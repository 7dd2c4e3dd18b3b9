#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "transport/rest_requests.hpp"
#include "transport/rest_routes.hpp"
#include "transport/server_context.hpp"

namespace parley::transport {

struct rest_response {
  unsigned status = 200;
  std::string body; // JSON text
  /// For 429 and some 503: when to try again (the Retry-After header).
  std::chrono::milliseconds retry_after{0};
  /// Cache-Control, when not the default no-store.
  std::string cache_control{};
};

/// Receives the answer exactly once, on whatever thread produced it.
using rest_reply = std::function<void(rest_response)>;

/// Serves one matched /api request. Validation happens here, on the calling
/// thread; anything that needs the database goes to the actors through a
/// one-shot actor, whose answer arrives through `reply`. Never blocks.
void serve_rest(server_context& ctx, const rest_match& match,
                const rest::query_map& query, std::string_view content_type,
                std::string_view body, rest_reply reply);

} // namespace parley::transport
