#include <nlohmann/json.hpp>

#include "config/url_encoding.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/targets.hpp"
#include "transport/http_router.hpp"
#include "transport/rest_requests.hpp"
#include "transport/rest_routes.hpp"

// Two kinds of input, told apart by the first byte:
//   "/api/users/7?page=2"     a request target (an optional second line is
//                             one more method to try);
//   "application/json\n{..}"  a Content-Type line, then a request body.
namespace parley::fuzz {

namespace {

using nlohmann::json;
namespace rest = parley::transport::rest;
using transport::rest_match_kind;

constexpr std::size_t max_message_bytes = 16 * 1024;

/// Whether a '/'-separated segment of `path` is "." or "..".
bool has_dot_segment(std::string_view path) {
  while (!path.empty()) {
    auto slash = path.find('/');
    auto segment = path.substr(0, slash);
    if (segment == "." || segment == "..")
      return true;
    if (slash == std::string_view::npos)
      break;
    path.remove_prefix(slash + 1);
  }
  return false;
}

template <class T>
void check_error(const rest::parsed<T>& result) {
  if (result)
    return;
  FUZZ_CHECK(result.error->status >= 400 && result.error->status < 500);
  FUZZ_CHECK(!result.error->message.empty());
}

void check_string(const std::string& value, std::size_t max_bytes) {
  FUZZ_CHECK(value.size() <= max_bytes);
  FUZZ_CHECK(value.find('\0') == std::string::npos);
  // Strings from parsed JSON are valid UTF-8; the database needs that.
  FUZZ_CHECK(is_valid_utf8(value));
}

void check_object_text(const std::string& text) {
  FUZZ_CHECK(json::parse(text, nullptr, false).is_object());
}

void fuzz_body(std::string_view content_type, std::string_view body) {
  auto parsed = rest::parse_body(content_type, body);
  check_error(parsed);
  if (!parsed)
    return;
  FUZZ_CHECK(parsed.value.is_object());
  const auto& doc = parsed.value;

  auto chat = rest::parse_chat_send(doc, max_message_bytes);
  check_error(chat);
  if (chat) {
    check_string(chat.value.message, max_message_bytes);
    FUZZ_CHECK(!chat.value.message.empty());
    check_string(chat.value.user_email, 255);
    FUZZ_CHECK(chat.value.user_email.find('@') != std::string::npos);
    check_string(chat.value.user_name, 255);
    FUZZ_CHECK(!chat.value.user_name.empty());
    FUZZ_CHECK(chat.value.session_id >= 0);
    FUZZ_CHECK(!chat.value.message_type.empty());
    check_string(chat.value.client_id, 128);
    check_object_text(chat.value.metadata);
  }

  auto user = rest::parse_new_user(doc);
  check_error(user);
  if (user) {
    check_string(user.value.name, 255);
    check_string(user.value.email, 255);
    check_string(user.value.avatar_url, 1024);
    if (!user.value.preferences.empty())
      check_object_text(user.value.preferences);
  }

  auto user_patch = rest::parse_user_patch(doc);
  check_error(user_patch);
  if (user_patch) {
    const auto& p = user_patch.value;
    if (p.set_status)
      FUZZ_CHECK(p.status == "active" || p.status == "inactive");
    if (p.set_preferences)
      check_object_text(p.preferences);
    if (p.set_name)
      check_string(p.name, 255);
  }

  auto session_patch = rest::parse_session_patch(doc);
  check_error(session_patch);
  if (session_patch && session_patch.value.set_status)
    FUZZ_CHECK(session_patch.value.status == "active"
               || session_patch.value.status == "inactive");

  auto session = rest::parse_session_create(doc);
  check_error(session);
  if (session) {
    FUZZ_CHECK(session.value.user_id > 0);
    check_string(session.value.title, 255);
  }

  auto setting = rest::parse_setting_patch(doc);
  check_error(setting);
  if (setting) {
    FUZZ_CHECK(setting.value.value.size() <= 64 * 1024);
    FUZZ_CHECK(setting.value.value.find('\0') == std::string::npos);
  }

  auto reply = rest::parse_agent_reply(doc, max_message_bytes);
  check_error(reply);
  if (reply) {
    check_string(reply.value.text, max_message_bytes);
    check_string(reply.value.agent_name, 255);
    FUZZ_CHECK(!reply.value.agent_name.empty());
  }
}

void fuzz_query(const rest::query_map& query) {
  check_error(rest::parse_page(query, 20));
  (void)rest::parse_flag(query, "include_messages");
  check_error(rest::parse_user_query(query));
  check_error(rest::parse_session_query(query));
  check_error(rest::parse_message_query(query));
  auto page = rest::parse_page(query, 20);
  if (page) {
    FUZZ_CHECK(page.value.page >= 1 && page.value.page <= 1'000'000'000);
    FUZZ_CHECK(page.value.limit >= 1 && page.value.limit <= 100);
  }
  auto knowledge = rest::parse_knowledge_query(query);
  check_error(knowledge);
  if (knowledge) {
    FUZZ_CHECK(knowledge.value.top_k >= 1 && knowledge.value.top_k <= 5);
    FUZZ_CHECK(knowledge.value.q.size() <= 1000);
    FUZZ_CHECK(is_valid_utf8(knowledge.value.q));
  }
  auto handoffs = rest::parse_handoff_limit(query);
  check_error(handoffs);
  if (handoffs)
    FUZZ_CHECK(handoffs.value >= 1 && handoffs.value <= 100);
  (void)transport::parse_resume_params(query);
}

void fuzz_target(std::string_view target, std::string_view extra_method) {
  // Decoding never makes text longer: "%41" is one byte, "+" stays one.
  for (bool plus : {false, true})
    if (auto decoded = percent_decode(target, plus))
      FUZZ_CHECK(decoded->size() <= target.size());
  auto routed = transport::route_request("GET", target, false);
  FUZZ_CHECK(routed.path.size() <= target.size());
  if (routed.kind != transport::route_kind::rest)
    return;
  for (std::string_view method :
       {std::string_view{"GET"}, std::string_view{"HEAD"},
        std::string_view{"POST"}, std::string_view{"PUT"},
        std::string_view{"DELETE"}, extra_method}) {
    auto match = transport::match_rest(method, routed.path);
    if (match.kind == rest_match_kind::method_not_allowed)
      FUZZ_CHECK(!match.allow.empty());
    if (match.kind != rest_match_kind::matched)
      continue;
    // A proxy would have resolved "/api/settings/.." to another resource:
    // such a path must not reach a handler under a name it does not have.
    FUZZ_CHECK(!has_dot_segment(routed.path));
    FUZZ_CHECK(match.key.find('/') == std::string::npos);
    FUZZ_CHECK(match.id >= 0);
  }
  fuzz_query(routed.query);
}

} // namespace

int fuzz_rest(const std::uint8_t* data, std::size_t size) {
  auto input = as_text(data, size);
  auto [head, rest_of_input] = first_line(input);
  if (!input.empty() && input.front() == '/')
    fuzz_target(head, first_line(rest_of_input).first);
  else
    fuzz_body(head, rest_of_input);
  return 0;
}

} // namespace parley::fuzz
