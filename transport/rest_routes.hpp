#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// The REST API's routing table: method and path to endpoint, with the path
// parameters. Pure; docs/openapi.yaml lists the same paths (a test checks).
namespace parley::transport {

enum class rest_endpoint {
  llm_health,     // GET  /api/llm/health
  chat_send,      // POST /api/chat/send, POST /api/messages
  chat_config,    // GET  /api/chat/config
  list_users,     // GET  /api/users
  create_user,    // POST /api/users
  get_user,       // GET  /api/users/{id}
  update_user,    // PUT  /api/users/{id}
  delete_user,    // DELETE /api/users/{id}
  list_sessions,  // GET  /api/sessions
  create_session, // POST /api/sessions
  get_session,    // GET  /api/sessions/{id}
  update_session, // PUT  /api/sessions/{id}
  delete_session, // DELETE /api/sessions/{id}
  list_messages,  // GET  /api/messages
  list_settings,  // GET  /api/settings
  get_setting,    // GET  /api/settings/{key}
  put_setting,    // PUT  /api/settings/{key}
  list_handoffs,  // GET  /api/handoffs
  agent_message,  // POST /api/sessions/{id}/agent-message
  release_session, // POST /api/sessions/{id}/release
  knowledge_search, // GET  /api/knowledge/search
  knowledge_reload, // POST /api/knowledge/reload
  cluster,        // GET  /api/cluster
};

/// Who may call an endpoint. Everything is for staff (the admin token)
/// except what anonymous chat visitors need.
enum class rest_access {
  anyone, // the chat: POST /api/chat/send, its alias, GET /api/chat/config
  admin,  // Authorization: Bearer <admin token>
};

enum class rest_match_kind {
  matched,
  not_found,          // no such path
  method_not_allowed, // the path exists, the method does not
  bad_id,             // {id} is not a positive integer
};

struct rest_match {
  rest_match_kind kind = rest_match_kind::not_found;
  rest_endpoint endpoint = rest_endpoint::llm_health;
  rest_access access = rest_access::admin; // of `endpoint` (matched, bad_id)
  std::int64_t id = 0; // {id}
  std::string key;     // {key}, percent-decoded
  std::string allow;   // for method_not_allowed
};

/// Matches a decoded path (no query string) under /api.
rest_match match_rest(std::string_view method, std::string_view path);

/// The path templates the API serves, as OpenAPI writes them
/// ("/api/users/{id}"), in a stable order.
const std::vector<std::string>& rest_paths();

/// One method of one path, as the routing table has it.
struct rest_operation {
  std::string path;   // "/api/users/{id}"
  std::string method; // "GET"
  rest_endpoint endpoint;
  rest_access access;
};

/// Every operation the API serves, in the table's order: what tests and
/// docs iterate to cover each endpoint.
const std::vector<rest_operation>& rest_operations();

} // namespace parley::transport
