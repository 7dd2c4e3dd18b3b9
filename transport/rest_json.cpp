#include "transport/rest_json.hpp"

namespace parley::transport::rest {

namespace {

using nlohmann::json;

json null_if_empty(const std::string& text) {
  return text.empty() ? json(nullptr) : json(text);
}

json null_if_zero(std::int64_t id) {
  return id == 0 ? json(nullptr) : json(id);
}

/// Stored JSON text back as an object; "{}" for anything unreadable.
json object_from(const std::string& text) {
  auto value = json::parse(text, nullptr, false);
  return value.is_object() ? value : json::object();
}

} // namespace

json user_json(const storage::user_record& user) {
  return {
    {"id", user.id},
    {"name", user.name},
    {"email", user.email},
    {"avatar_url", null_if_empty(user.avatar_url)},
    {"status", user.status},
    {"preferences", object_from(user.preferences)},
    {"created_at", user.created_at},
    {"updated_at", user.updated_at},
  };
}

json session_json(const storage::session_listing& listing) {
  const auto& s = listing.session;
  return {
    {"id", s.id},
    {"user_id", null_if_zero(s.user_id)},
    {"title", s.title},
    {"status", s.status},
    {"channel", s.channel},
    {"message_count", listing.message_count},
    {"created_at", s.created_at},
    {"updated_at", s.updated_at},
  };
}

json message_json(const storage::message_record& m) {
  return {
    {"id", m.id},
    {"session_id", m.session_id},
    {"user_id", null_if_zero(m.user_id)},
    {"is_user", m.is_user},
    {"role", m.role},
    {"message", m.content},
    {"message_type", m.message_type},
    {"tokens_used", m.tokens_used},
    {"response_time", m.response_time},
    {"client_id", null_if_empty(m.client_id)},
    {"reply_to", null_if_zero(m.reply_to)},
    {"source", null_if_empty(m.source)},
    {"agent_name", null_if_empty(m.author)},
    {"created_at", m.created_at},
  };
}

json setting_json(const storage::setting_record& s) {
  return {
    {"id", s.id},
    {"key", s.key},
    {"value", s.value},
    {"description", s.description},
    {"category", s.category},
    {"created_at", s.created_at},
    {"updated_at", s.updated_at},
  };
}

json pagination_json(const storage::page_info& page) {
  return {
    {"page", page.page},
    {"limit", page.limit},
    {"total", page.total},
    {"pages", page.pages},
  };
}

std::string success_body(json data) {
  return dump(json{{"success", true}, {"data", std::move(data)}});
}

std::string list_body(json items, const storage::page_info& page) {
  return dump(json{{"success", true},
                   {"data", std::move(items)},
                   {"pagination", pagination_json(page)}});
}

std::string error_body(const std::string& message) {
  return dump(json{{"success", false}, {"error", message}});
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace parley::transport::rest
