#include "transport/rest_routes.hpp"

#include <array>
#include <charconv>

namespace parley::transport {

namespace {

/// One method of a path: its endpoint and who may call it.
struct route_method {
  const char* method;
  rest_endpoint endpoint;
  rest_access access;
};

/// One path template with its methods.
struct route_entry {
  const char* path;
  std::array<route_method, 3> methods;
  std::size_t method_count;
};

const std::vector<route_entry>& table() {
  using e = rest_endpoint;
  // Only the chat itself is open to anonymous visitors; who may read or
  // change anything else is staff, and has the admin token.
  constexpr auto anyone = rest_access::anyone;
  constexpr auto admin = rest_access::admin;
  static const std::vector<route_entry> entries{
    {"/api/llm/health", {{{"GET", e::llm_health, admin}}}, 1},
    {"/api/cluster", {{{"GET", e::cluster, admin}}}, 1},
    {"/api/chat/send", {{{"POST", e::chat_send, anyone}}}, 1},
    // What the browser's chat shows before the first message.
    {"/api/chat/config", {{{"GET", e::chat_config, anyone}}}, 1},
    {"/api/users",
     {{{"GET", e::list_users, admin}, {"POST", e::create_user, admin}}},
     2},
    {"/api/users/{id}",
     {{{"GET", e::get_user, admin}, {"PUT", e::update_user, admin},
       {"DELETE", e::delete_user, admin}}},
     3},
    {"/api/sessions",
     {{{"GET", e::list_sessions, admin},
       {"POST", e::create_session, admin}}},
     2},
    {"/api/sessions/{id}",
     {{{"GET", e::get_session, admin}, {"PUT", e::update_session, admin},
       {"DELETE", e::delete_session, admin}}},
     3},
    {"/api/messages",
     {{{"GET", e::list_messages, admin}, {"POST", e::chat_send, anyone}}},
     2},
    {"/api/settings", {{{"GET", e::list_settings, admin}}}, 1},
    {"/api/settings/{key}",
     {{{"GET", e::get_setting, admin}, {"PUT", e::put_setting, admin}}},
     2},
    {"/api/handoffs", {{{"GET", e::list_handoffs, admin}}}, 1},
    {"/api/sessions/{id}/agent-message",
     {{{"POST", e::agent_message, admin}}},
     1},
    {"/api/sessions/{id}/release", {{{"POST", e::release_session, admin}}},
     1},
    {"/api/knowledge/search", {{{"GET", e::knowledge_search, admin}}}, 1},
    {"/api/knowledge/reload", {{{"POST", e::knowledge_reload, admin}}}, 1},
  };
  return entries;
}

/// Matches `path` against a template; fills the {id} or {key} segment,
/// which may be followed by more path ("/api/sessions/{id}/release").
bool matches(std::string_view tmpl, std::string_view path,
             std::string& param) {
  auto brace = tmpl.find('{');
  if (brace == std::string_view::npos)
    return tmpl == path;
  auto prefix = tmpl.substr(0, brace);
  auto suffix = tmpl.substr(tmpl.find('}', brace) + 1);
  if (path.size() < prefix.size() + suffix.size()
      || path.substr(0, prefix.size()) != prefix
      || path.substr(path.size() - suffix.size()) != suffix)
    return false;
  auto segment = path.substr(prefix.size(),
                             path.size() - prefix.size() - suffix.size());
  // "." and ".." (also sent as %2e%2e) name no resource: a client or proxy
  // that normalizes the path would send the request somewhere else.
  if (segment.empty() || segment == "." || segment == ".."
      || segment.find('/') != std::string_view::npos)
    return false;
  param = std::string{segment};
  return true;
}

} // namespace

rest_match match_rest(std::string_view method, std::string_view path) {
  rest_match result;
  if (method == "HEAD")
    method = "GET";
  for (const auto& entry : table()) {
    std::string param;
    if (!matches(entry.path, path, param))
      continue;
    for (std::size_t i = 0; i < entry.method_count; ++i) {
      if (!result.allow.empty())
        result.allow += ", ";
      result.allow += entry.methods[i].method;
    }
    result.kind = rest_match_kind::method_not_allowed;
    for (std::size_t i = 0; i < entry.method_count; ++i) {
      if (method != entry.methods[i].method)
        continue;
      result.kind = rest_match_kind::matched;
      result.endpoint = entry.methods[i].endpoint;
      result.access = entry.methods[i].access;
    }
    if (result.kind != rest_match_kind::matched)
      return result;
    std::string_view tmpl{entry.path};
    if (tmpl.find("{id}") != std::string_view::npos) {
      auto [end, ec] = std::from_chars(param.data(),
                                       param.data() + param.size(), result.id);
      if (ec != std::errc{} || end != param.data() + param.size()
          || result.id <= 0)
        result.kind = rest_match_kind::bad_id;
    } else if (tmpl.find("{key}") != std::string_view::npos) {
      result.key = std::move(param);
    }
    return result;
  }
  return result;
}

const std::vector<std::string>& rest_paths() {
  static const std::vector<std::string> paths = [] {
    std::vector<std::string> result;
    for (const auto& entry : table())
      result.emplace_back(entry.path);
    return result;
  }();
  return paths;
}

const std::vector<rest_operation>& rest_operations() {
  static const std::vector<rest_operation> operations = [] {
    std::vector<rest_operation> result;
    for (const auto& entry : table())
      for (std::size_t i = 0; i < entry.method_count; ++i)
        result.push_back({entry.path, entry.methods[i].method,
                          entry.methods[i].endpoint,
                          entry.methods[i].access});
    return result;
  }();
  return operations;
}

} // namespace parley::transport
