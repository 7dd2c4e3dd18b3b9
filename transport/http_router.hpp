#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

// Which handler a request goes to, decided from its method and target alone.
// Pure: no Beast, no CAF; the http_session carries the decision out.
namespace parley::transport {

enum class route_kind {
  health,             // GET /health
  websocket,          // GET /ws with an upgrade
  upgrade_required,   // GET /ws without an upgrade
  method_not_allowed, // a known path, another method
  rest,               // under /api/: see rest_routes.hpp
  static_file,        // GET or HEAD elsewhere: the web UI (static_site)
  not_found,
};

struct route {
  route_kind kind = route_kind::not_found;
  std::string path;
  std::map<std::string, std::string> query;
  std::string allow; // for method_not_allowed: the methods the path takes
};

/// Splits "path?a=1&b=2", percent-decoding names and values ('+' is a space).
/// A repeated name keeps its last value.
route parse_target(std::string_view target);

/// Paths under /api/ go to the REST API whatever the method; /health and
/// /ws take GET and HEAD. Every other path is the web UI's: GET and HEAD
/// look it up, other methods are 405, except that no UI path lies under
/// /api, /ws or /health, and one that hides a separator in an escape
/// (%2F, %5C) or holds %00 is not_found before it is decoded.
route route_request(std::string_view method, std::string_view target,
                    bool is_websocket_upgrade);

/// The resume parameters of `/ws?session_id=&resume_token=&last_seq=`.
struct resume_params {
  std::int64_t session_id = 0; // 0 = new session
  std::string resume_token;
  std::int64_t last_seq = 0;
  std::string error; // set when the parameters are malformed
};

resume_params parse_resume_params(const std::map<std::string, std::string>& q);

} // namespace parley::transport
