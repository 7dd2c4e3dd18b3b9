#include "transport/http_router.hpp"

#include <charconv>

#include "config/url_encoding.hpp"

namespace parley::transport {

namespace {

/// Query strings are decoded leniently: a malformed escape stays as sent.
std::string decode_component(std::string_view text) {
  auto decoded = percent_decode(text, true);
  return decoded ? std::move(*decoded) : std::string{text};
}

bool parse_int(const std::string& text, std::int64_t& out) {
  if (text.empty())
    return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

/// Whether `path` is `prefix` or below it ("/ws", "/ws/x"; not "/wsx").
bool is_under(std::string_view path, std::string_view prefix) {
  return path.rfind(prefix, 0) == 0
         && (path.size() == prefix.size() || path[prefix.size()] == '/');
}

/// An escaped '/', '\' or NUL in the raw path: decoded, a separator would
/// look like one the client wrote, so such paths name no file.
bool hides_separator(std::string_view raw_path) {
  for (std::size_t i = 0; i + 2 < raw_path.size(); ++i) {
    if (raw_path[i] != '%')
      continue;
    auto hi = raw_path[i + 1];
    auto lo = static_cast<char>(raw_path[i + 2] | 0x20); // lower case
    if ((hi == '2' && lo == 'f') || (hi == '5' && lo == 'c')
        || (hi == '0' && lo == '0'))
      return true;
  }
  return false;
}

} // namespace

route parse_target(std::string_view target) {
  route result;
  auto qpos = target.find('?');
  result.path = decode_component(target.substr(0, qpos));
  if (qpos == std::string_view::npos)
    return result;
  auto query = target.substr(qpos + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{}
                                          : query.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto name = decode_component(pair.substr(0, eq));
    auto value = eq == std::string_view::npos ? std::string{}
                                              : decode_component(pair.substr(eq + 1));
    result.query[std::move(name)] = std::move(value);
  }
  return result;
}

route route_request(std::string_view method, std::string_view target,
                    bool is_websocket_upgrade) {
  auto result = parse_target(target);
  auto only_get = [&](route_kind kind) {
    if (method == "GET" || method == "HEAD") {
      result.kind = kind;
    } else {
      result.kind = route_kind::method_not_allowed;
      result.allow = "GET, HEAD";
    }
  };
  if (result.path == "/health") {
    only_get(route_kind::health);
  } else if (result.path.rfind("/api/", 0) == 0) {
    result.kind = route_kind::rest;
  } else if (result.path == "/ws") {
    only_get(is_websocket_upgrade ? route_kind::websocket
                                  : route_kind::upgrade_required);
  } else if (result.path.empty() || result.path.front() != '/'
             || is_under(result.path, "/api") || is_under(result.path, "/ws")
             || is_under(result.path, "/health")
             || hides_separator(target.substr(0, target.find('?')))) {
    result.kind = route_kind::not_found;
  } else {
    only_get(route_kind::static_file);
  }
  return result;
}

resume_params
parse_resume_params(const std::map<std::string, std::string>& query) {
  resume_params result;
  auto get = [&](const char* name) -> const std::string* {
    auto i = query.find(name);
    return i == query.end() ? nullptr : &i->second;
  };
  auto* id = get("session_id");
  if (id == nullptr || id->empty())
    return result; // a new session; other parameters do not matter
  if (!parse_int(*id, result.session_id) || result.session_id <= 0) {
    result.error = "session_id must be a positive integer";
    return result;
  }
  auto* token = get("resume_token");
  if (token == nullptr || token->empty()) {
    result.error = "resume_token is required to resume a session";
    return result;
  }
  result.resume_token = *token;
  if (auto* seq = get("last_seq"); seq != nullptr && !seq->empty()) {
    if (!parse_int(*seq, result.last_seq) || result.last_seq < 0) {
      result.error = "last_seq must be a non-negative integer";
      return result;
    }
  }
  return result;
}

} // namespace parley::transport
