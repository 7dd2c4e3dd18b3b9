#include "transport/rest_requests.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "config/url_encoding.hpp"

namespace parley::transport::rest {

namespace {

using nlohmann::json;

constexpr std::size_t max_name_bytes = 255;
constexpr std::size_t max_url_bytes = 1024;
constexpr std::size_t max_type_bytes = 32;
constexpr std::size_t max_client_id_bytes = 128;
constexpr int max_body_depth = 64;
// Parley's tokens have 64 hex digits; the limit only bounds the hashing.
constexpr std::size_t max_resume_token_bytes = 256;

template <class T>
parsed<T> fail(std::string message, unsigned status = 400) {
  parsed<T> result;
  result.error = rest_error{status, std::move(message)};
  return result;
}

std::optional<std::int64_t> to_int(const std::string& text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(),
                                   value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

bool blank(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isspace(c) != 0;
  });
}

/// Reads an optional string field; an error message when it has another
/// type or is too long.
std::optional<std::string> read_string(const json& body, const char* name,
                                       std::size_t max_bytes,
                                       std::string& out, bool& present) {
  present = false;
  auto i = body.find(name);
  if (i == body.end() || i->is_null())
    return std::nullopt;
  if (!i->is_string())
    return std::string{"'"} + name + "' must be a string";
  out = i->get<std::string>();
  // PostgreSQL cannot store NUL in text: refuse it on every backend alike.
  if (out.find('\0') != std::string::npos)
    return std::string{"'"} + name + "' must not contain NUL characters";
  if (out.size() > max_bytes)
    return std::string{"'"} + name + "' is longer than "
           + std::to_string(max_bytes) + " bytes";
  present = true;
  return std::nullopt;
}

/// Like read_string, but the field must be there and not blank.
std::optional<std::string> require_string(const json& body, const char* name,
                                          std::size_t max_bytes,
                                          std::string& out) {
  bool present = false;
  if (auto err = read_string(body, name, max_bytes, out, present))
    return err;
  if (!present || blank(out))
    return std::string{"'"} + name + "' is required";
  return std::nullopt;
}

std::optional<std::string> check_email(const std::string& email,
                                       const char* name) {
  auto at = email.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == email.size()
      || email.find_first_of(" \t\r\n") != std::string::npos)
    return std::string{"'"} + name + "' is not an email address";
  return std::nullopt;
}

/// Preferences and metadata are JSON objects, stored as their text.
std::optional<std::string> read_object(const json& body, const char* name,
                                       std::string& out, bool& present) {
  present = false;
  auto i = body.find(name);
  if (i == body.end() || i->is_null())
    return std::nullopt;
  if (!i->is_object())
    return std::string{"'"} + name + "' must be a JSON object";
  out = i->dump(-1, ' ', false, json::error_handler_t::replace);
  present = true;
  return std::nullopt;
}

std::optional<std::string> check_status(const std::string& status,
                                        const char* name) {
  if (status != "active" && status != "inactive")
    return std::string{"'"} + name + "' must be active or inactive";
  return std::nullopt;
}

/// An optional positive id in the query; 0 when absent.
std::optional<std::string> query_id(const query_map& query, const char* name,
                                    std::int64_t& out) {
  out = 0;
  auto i = query.find(name);
  if (i == query.end() || i->second.empty())
    return std::nullopt;
  auto value = to_int(i->second);
  if (!value || *value <= 0)
    return std::string{"'"} + name + "' must be a positive integer";
  out = *value;
  return std::nullopt;
}

} // namespace

parsed<json> parse_body(std::string_view content_type, std::string_view body) {
  auto media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ')
    media.remove_suffix(1);
  std::string lower{media};
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower != "application/json")
    return fail<json>("the request body must be JSON (Content-Type: "
                      "application/json)",
                      415);
  // Parsing is iterative, but dumping and copying a value recurse: a body
  // of a million '[' would overflow the stack of the thread serving it.
  bool too_deep = false;
  auto bound = [&too_deep](int depth, json::parse_event_t, json&) {
    too_deep = too_deep || depth > max_body_depth;
    return !too_deep; // drops what is parsed after that
  };
  auto value = json::parse(body, bound, false);
  if (too_deep)
    return fail<json>("the request body nests deeper than "
                      + std::to_string(max_body_depth) + " levels");
  if (value.is_discarded())
    return fail<json>("the request body is not valid JSON");
  if (!value.is_object())
    return fail<json>("the request body must be a JSON object");
  parsed<json> result;
  result.value = std::move(value);
  return result;
}

parsed<storage::page_request> parse_page(const query_map& query,
                                         std::int64_t default_limit) {
  parsed<storage::page_request> result;
  result.value.limit = default_limit;
  if (auto i = query.find("page"); i != query.end() && !i->second.empty()) {
    auto page = to_int(i->second);
    if (!page || *page < 1)
      return fail<storage::page_request>("'page' must be an integer >= 1");
    result.value.page = *page;
  }
  if (auto i = query.find("limit"); i != query.end() && !i->second.empty()) {
    auto limit = to_int(i->second);
    if (!limit || *limit < 1 || *limit > 100)
      return fail<storage::page_request>(
        "'limit' must be an integer from 1 to 100");
    result.value.limit = *limit;
  }
  // Keep OFFSET arithmetic far from overflow.
  if (result.value.page > 1'000'000'000)
    return fail<storage::page_request>("'page' is too large");
  return result;
}

bool parse_flag(const query_map& query, const std::string& name) {
  auto i = query.find(name);
  if (i == query.end())
    return false;
  std::string value = i->second;
  std::transform(value.begin(), value.end(), value.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return value == "true" || value == "1" || value == "yes";
}

parsed<storage::user_query> parse_user_query(const query_map& query) {
  auto page = parse_page(query, 10);
  if (!page)
    return fail<storage::user_query>(page.error->message);
  parsed<storage::user_query> result;
  result.value.page = page.value;
  if (auto i = query.find("search"); i != query.end())
    result.value.search = i->second;
  if (result.value.search.size() > max_name_bytes)
    return fail<storage::user_query>("'search' is too long");
  return result;
}

parsed<storage::new_user> parse_new_user(const json& body) {
  parsed<storage::new_user> result;
  auto& user = result.value;
  bool present = false;
  if (auto err = require_string(body, "name", max_name_bytes, user.name))
    return fail<storage::new_user>(*err);
  if (auto err = require_string(body, "email", max_name_bytes, user.email))
    return fail<storage::new_user>(*err);
  if (auto err = check_email(user.email, "email"))
    return fail<storage::new_user>(*err);
  if (auto err = read_string(body, "avatar_url", max_url_bytes,
                             user.avatar_url, present))
    return fail<storage::new_user>(*err);
  if (auto err = read_object(body, "preferences", user.preferences, present))
    return fail<storage::new_user>(*err);
  return result;
}

parsed<storage::user_patch> parse_user_patch(const json& body) {
  parsed<storage::user_patch> result;
  auto& p = result.value;
  if (auto err = read_string(body, "name", max_name_bytes, p.name, p.set_name))
    return fail<storage::user_patch>(*err);
  if (p.set_name && blank(p.name))
    return fail<storage::user_patch>("'name' must not be empty");
  if (auto err = read_string(body, "email", max_name_bytes, p.email,
                             p.set_email))
    return fail<storage::user_patch>(*err);
  if (p.set_email)
    if (auto err = check_email(p.email, "email"))
      return fail<storage::user_patch>(*err);
  if (auto err = read_string(body, "avatar_url", max_url_bytes, p.avatar_url,
                             p.set_avatar_url))
    return fail<storage::user_patch>(*err);
  if (body.contains("avatar_url") && body["avatar_url"].is_null())
    p.set_avatar_url = true; // null clears it
  if (auto err = read_string(body, "status", max_type_bytes, p.status,
                             p.set_status))
    return fail<storage::user_patch>(*err);
  if (p.set_status)
    if (auto err = check_status(p.status, "status"))
      return fail<storage::user_patch>(*err);
  if (auto err = read_object(body, "preferences", p.preferences,
                             p.set_preferences))
    return fail<storage::user_patch>(*err);
  return result;
}

parsed<storage::session_query> parse_session_query(const query_map& query) {
  auto page = parse_page(query, 20);
  if (!page)
    return fail<storage::session_query>(page.error->message);
  parsed<storage::session_query> result;
  result.value.page = page.value;
  if (auto err = query_id(query, "user_id", result.value.user_id))
    return fail<storage::session_query>(*err);
  result.value.status = "all";
  if (auto i = query.find("status"); i != query.end() && !i->second.empty()) {
    // A filter may ask for every status a session has, "handoff" included
    // (set by the handoff itself, never by PUT).
    const auto& status = i->second;
    if (status != "active" && status != "inactive" && status != "handoff"
        && status != "all")
      return fail<storage::session_query>(
        "'status' must be active, inactive, handoff or all");
    result.value.status = status;
  }
  return result;
}

parsed<storage::session_patch> parse_session_patch(const json& body) {
  parsed<storage::session_patch> result;
  auto& p = result.value;
  if (auto err = read_string(body, "title", max_name_bytes, p.title,
                             p.set_title))
    return fail<storage::session_patch>(*err);
  if (auto err = read_string(body, "status", max_type_bytes, p.status,
                             p.set_status))
    return fail<storage::session_patch>(*err);
  if (p.set_status)
    if (auto err = check_status(p.status, "status"))
      return fail<storage::session_patch>(*err);
  return result;
}

parsed<session_create> parse_session_create(const json& body) {
  parsed<session_create> result;
  auto i = body.find("user_id");
  if (i == body.end() || !i->is_number_integer() || i->get<std::int64_t>() <= 0)
    return fail<session_create>("'user_id' must be a positive integer");
  result.value.user_id = i->get<std::int64_t>();
  bool present = false;
  if (auto err = read_string(body, "title", max_name_bytes, result.value.title,
                             present))
    return fail<session_create>(*err);
  return result;
}

parsed<storage::message_query> parse_message_query(const query_map& query) {
  auto page = parse_page(query, 50);
  if (!page)
    return fail<storage::message_query>(page.error->message);
  parsed<storage::message_query> result;
  result.value.page = page.value;
  if (auto err = query_id(query, "session_id", result.value.session_id))
    return fail<storage::message_query>(*err);
  if (auto err = query_id(query, "user_id", result.value.user_id))
    return fail<storage::message_query>(*err);
  // 0 is a valid start: a console polls with the last id it has, none yet.
  if (auto i = query.find("after_id"); i != query.end() && !i->second.empty()) {
    auto value = to_int(i->second);
    if (!value || *value < 0)
      return fail<storage::message_query>(
        "'after_id' must be a non-negative integer");
    result.value.after_id = *value;
  }
  return result;
}

parsed<storage::setting_patch> parse_setting_patch(const json& body) {
  parsed<storage::setting_patch> result;
  auto i = body.find("value");
  if (i == body.end() || i->is_null())
    return fail<storage::setting_patch>("'value' is required");
  // Settings are text; numbers and booleans are taken as their JSON text.
  if (i->is_string())
    result.value.value = i->get<std::string>();
  else if (i->is_boolean() || i->is_number())
    result.value.value = i->dump();
  else
    return fail<storage::setting_patch>(
      "'value' must be a string, number or boolean");
  if (result.value.value.find('\0') != std::string::npos)
    return fail<storage::setting_patch>(
      "'value' must not contain NUL characters");
  if (result.value.value.size() > 64 * 1024)
    return fail<storage::setting_patch>("'value' is longer than 65536 bytes");
  if (auto err = read_string(body, "description", 1024,
                             result.value.description,
                             result.value.set_description))
    return fail<storage::setting_patch>(*err);
  return result;
}

parsed<chat_send> parse_chat_send(const json& body,
                                  std::size_t max_message_bytes) {
  parsed<chat_send> result;
  auto& r = result.value;
  bool present = false;
  if (auto err = require_string(body, "message", max_message_bytes, r.message))
    return fail<chat_send>(*err);
  if (auto err = require_string(body, "user_email", max_name_bytes,
                                r.user_email))
    return fail<chat_send>(*err);
  if (auto err = check_email(r.user_email, "user_email"))
    return fail<chat_send>(*err);
  if (auto err = read_string(body, "user_name", max_name_bytes, r.user_name,
                             present))
    return fail<chat_send>(*err);
  if (!present || blank(r.user_name))
    r.user_name = r.user_email.substr(0, r.user_email.find('@'));
  if (auto i = body.find("session_id"); i != body.end() && !i->is_null()) {
    if (!i->is_number_integer() || i->get<std::int64_t>() <= 0)
      return fail<chat_send>("'session_id' must be a positive integer");
    r.session_id = i->get<std::int64_t>();
  }
  if (auto err = read_string(body, "message_type", max_type_bytes,
                             r.message_type, present))
    return fail<chat_send>(*err);
  if (!present || r.message_type.empty())
    r.message_type = "text";
  if (auto err = read_string(body, "client_id", max_client_id_bytes,
                             r.client_id, present))
    return fail<chat_send>(*err);
  if (auto err = read_object(body, "metadata", r.metadata, present))
    return fail<chat_send>(*err);
  if (!present)
    r.metadata = "{}";
  // Whether the token fits the session is the session's to say (403).
  if (auto err = read_string(body, "resume_token", max_resume_token_bytes,
                             r.resume_token, present))
    return fail<chat_send>(*err);
  return result;
}

parsed<agent_reply> parse_agent_reply(const json& body,
                                      std::size_t max_message_bytes) {
  parsed<agent_reply> result;
  auto& r = result.value;
  bool present = false;
  if (auto err = require_string(body, "text", max_message_bytes, r.text))
    return fail<agent_reply>(*err);
  if (blank(r.text))
    return fail<agent_reply>("'text' must not be blank");
  if (auto err = read_string(body, "agent_name", max_name_bytes, r.agent_name,
                             present))
    return fail<agent_reply>(*err);
  if (!present || blank(r.agent_name))
    r.agent_name = "Support agent";
  return result;
}

parsed<knowledge_query> parse_knowledge_query(const query_map& query) {
  parsed<knowledge_query> result;
  auto& r = result.value;
  auto q = query.find("q");
  if (q == query.end() || blank(q->second))
    return fail<knowledge_query>("'q' is required");
  if (q->second.size() > 1000)
    return fail<knowledge_query>("'q' has at most 1000 bytes");
  if (!is_valid_utf8(q->second))
    return fail<knowledge_query>("'q' is not valid UTF-8");
  r.q = q->second;
  if (auto k = query.find("top_k"); k != query.end() && !k->second.empty()) {
    auto value = to_int(k->second);
    if (!value || *value < 1 || *value > 5)
      return fail<knowledge_query>("'top_k' must be an integer from 1 to 5");
    r.top_k = static_cast<std::int32_t>(*value);
  }
  return result;
}

parsed<std::uint32_t> parse_handoff_limit(const query_map& query) {
  parsed<std::uint32_t> result;
  result.value = 50;
  if (auto i = query.find("limit"); i != query.end() && !i->second.empty()) {
    auto limit = to_int(i->second);
    if (!limit || *limit < 1 || *limit > 100)
      return fail<std::uint32_t>("'limit' must be an integer from 1 to 100");
    result.value = static_cast<std::uint32_t>(*limit);
  }
  return result;
}

} // namespace parley::transport::rest
