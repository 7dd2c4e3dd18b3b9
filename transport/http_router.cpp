#include "transport/http_router.hpp"

#include <charconv>

namespace parley::transport {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string result;
  result.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      result += ' ';
    } else if (c == '%' && i + 2 < text.size()
               && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      result += static_cast<char>(hex_value(text[i + 1]) * 16
                                  + hex_value(text[i + 2]));
      i += 2;
    } else {
      result += c;
    }
  }
  return result;
}

bool parse_int(const std::string& text, std::int64_t& out) {
  if (text.empty())
    return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

} // namespace

route parse_target(std::string_view target) {
  route result;
  auto qpos = target.find('?');
  result.path = percent_decode(target.substr(0, qpos));
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
    auto name = percent_decode(pair.substr(0, eq));
    auto value = eq == std::string_view::npos ? std::string{}
                                              : percent_decode(pair.substr(eq + 1));
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
  } else if (result.path == "/ws") {
    only_get(is_websocket_upgrade ? route_kind::websocket
                                  : route_kind::upgrade_required);
  } else {
    result.kind = route_kind::not_found;
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
