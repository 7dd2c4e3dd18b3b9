#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "storage/admin_records.hpp"

// Reading REST requests into typed values, with the 4xx answer for anything
// malformed. Pure: no Beast, no CAF.
namespace parley::transport::rest {

using query_map = std::map<std::string, std::string>;

struct rest_error {
  unsigned status = 400;
  std::string message;
};

/// A value, or the error that prevented reading it.
template <class T>
struct parsed {
  T value{};
  std::optional<rest_error> error;

  explicit operator bool() const {
    return !error;
  }
};

/// The body as a JSON object: 415 unless the content type is JSON, 400 for
/// malformed JSON or anything but an object.
parsed<nlohmann::json> parse_body(std::string_view content_type,
                                  std::string_view body);

/// `page` (>= 1, default 1) and `limit` (1..100, default `default_limit`).
parsed<storage::page_request> parse_page(const query_map& query,
                                         std::int64_t default_limit);

/// A query flag such as include_messages=true|1|yes (false otherwise).
bool parse_flag(const query_map& query, const std::string& name);

parsed<storage::user_query> parse_user_query(const query_map& query);
parsed<storage::new_user> parse_new_user(const nlohmann::json& body);
parsed<storage::user_patch> parse_user_patch(const nlohmann::json& body);

parsed<storage::session_query> parse_session_query(const query_map& query);
parsed<storage::session_patch> parse_session_patch(const nlohmann::json& body);

struct session_create {
  std::int64_t user_id = 0;
  std::string title;
};

parsed<session_create> parse_session_create(const nlohmann::json& body);

parsed<storage::message_query> parse_message_query(const query_map& query);

parsed<storage::setting_patch> parse_setting_patch(const nlohmann::json& body);

/// POST /api/chat/send and POST /api/messages.
struct chat_send {
  std::string message;
  std::string user_email;
  std::string user_name; // defaults to the part of the email before '@'
  std::int64_t session_id = 0; // 0 = create one
  std::string message_type;    // defaults to "text"
  std::string client_id;       // optional retry key
  std::string metadata;        // JSON object text, "{}" when absent
  std::string resume_token;    // required with session_id: proves ownership
};

parsed<chat_send> parse_chat_send(const nlohmann::json& body,
                                  std::size_t max_message_bytes);

/// POST /api/sessions/{id}/agent-message: {text, agent_name}.
struct agent_reply {
  std::string text;
  std::string agent_name; // "Support agent" when absent
};

parsed<agent_reply> parse_agent_reply(const nlohmann::json& body,
                                      std::size_t max_message_bytes);

/// GET /api/knowledge/search?q=&top_k= (top_k 1..5, default 3).
struct knowledge_query {
  std::string q;
  std::int32_t top_k = 3;
};

parsed<knowledge_query> parse_knowledge_query(const query_map& query);

/// GET /api/handoffs?limit= (1..100, default 50).
parsed<std::uint32_t> parse_handoff_limit(const query_map& query);

} // namespace parley::transport::rest
