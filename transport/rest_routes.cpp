#include "transport/rest_routes.hpp"

#include <array>
#include <charconv>

namespace parley::transport {

namespace {

/// One path template with its methods.
struct route_entry {
  const char* path;
  std::array<std::pair<const char*, rest_endpoint>, 3> methods;
  std::size_t method_count;
};

const std::vector<route_entry>& table() {
  using e = rest_endpoint;
  static const std::vector<route_entry> entries{
    {"/api/llm/health", {{{"GET", e::llm_health}}}, 1},
    {"/api/chat/send", {{{"POST", e::chat_send}}}, 1},
    {"/api/users",
     {{{"GET", e::list_users}, {"POST", e::create_user}}},
     2},
    {"/api/users/{id}",
     {{{"GET", e::get_user}, {"PUT", e::update_user},
       {"DELETE", e::delete_user}}},
     3},
    {"/api/sessions",
     {{{"GET", e::list_sessions}, {"POST", e::create_session}}},
     2},
    {"/api/sessions/{id}",
     {{{"GET", e::get_session}, {"PUT", e::update_session},
       {"DELETE", e::delete_session}}},
     3},
    {"/api/messages",
     {{{"GET", e::list_messages}, {"POST", e::chat_send}}},
     2},
    {"/api/settings", {{{"GET", e::list_settings}}}, 1},
    {"/api/settings/{key}",
     {{{"GET", e::get_setting}, {"PUT", e::put_setting}}},
     2},
    {"/api/handoffs", {{{"GET", e::list_handoffs}}}, 1},
    {"/api/sessions/{id}/agent-message", {{{"POST", e::agent_message}}}, 1},
    {"/api/sessions/{id}/release", {{{"POST", e::release_session}}}, 1},
    {"/api/knowledge/search", {{{"GET", e::knowledge_search}}}, 1},
    {"/api/knowledge/reload", {{{"POST", e::knowledge_reload}}}, 1},
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
  if (segment.empty() || segment.find('/') != std::string_view::npos)
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
      result.allow += entry.methods[i].first;
    }
    result.kind = rest_match_kind::method_not_allowed;
    for (std::size_t i = 0; i < entry.method_count; ++i) {
      if (method != entry.methods[i].first)
        continue;
      result.kind = rest_match_kind::matched;
      result.endpoint = entry.methods[i].second;
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

} // namespace parley::transport
