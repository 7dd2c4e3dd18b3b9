#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>

#include "actors/chat_state.hpp"
#include "storage/admin_records.hpp"
#include "storage/records.hpp"

// Every message type that actors exchange, declared once. Each has an
// inspect() in CAF 0.17's form so that it can cross a node boundary later;
// the type-ID block at the end names them for the actor system.
namespace parley {

class client_connection;

/// The transport's handle to one client socket. Local to a node: sessions
/// live on the gateway that holds the socket.
using connection_ptr = std::shared_ptr<client_connection>;

struct asker_state;

/// Work for an asker (actors/asker.hpp), run on it. Never leaves its node.
struct asker_job {
  std::function<void(caf::stateful_actor<asker_state>*)> run;
};

/// What a new WebSocket asks for: a new session (session_id 0) or resuming
/// one with its token, having seen every frame up to `last_seq`.
struct attach_request {
  std::int64_t session_id = 0;
  std::string resume_token;
  std::int64_t last_seq = 0;
};

/// A chat message from the client, already parsed by the transport.
struct client_message {
  std::string text;
  std::string client_id;
};

/// A frame the transport could not accept; the session answers with an error
/// frame (it owns the seq numbers).
struct protocol_error {
  std::string code;
  std::string message;
  std::int64_t retry_after_ms = 0; // rate limits: when to send again
  std::string client_id;           // of the refused message, if any
};

/// A tool call an LLM asked for; `arguments` is a JSON object as text.
struct tool_call_info {
  std::string id;
  std::string name;
  std::string arguments;
};

/// The result of one tool call, as the LLM gets it back.
struct tool_output {
  std::string tool_call_id;
  std::string name;
  std::string content; // JSON text
};

/// One round of the tool loop: what the LLM said and called, and the results.
struct tool_round {
  std::string text;
  std::vector<tool_call_info> calls;
  std::vector<tool_output> outputs;
};

/// A request for an answer to one user message.
struct reply_request {
  /// Unique per attempt within its session: deltas and cancels name it.
  std::uint64_t request_id = 0;
  std::int64_t session_id = 0;
  std::int64_t reply_to = 0;
  std::string text;
  std::string intent;
  std::string pending_slot;
  std::int32_t low_confidence_streak = 0;
  std::vector<chat_turn> history; // before this message, oldest first
  // What the agent adds for an LLM; empty for a plain answer.
  std::string system_prompt;
  std::string tools;       // an OpenAI `tools` JSON array; empty: none
  std::string tool_choice; // "", "auto", "none", "required" or a tool name
  std::vector<tool_round> rounds; // earlier rounds of this answer's tool loop
};

/// A responder's answer.
struct reply_result {
  std::string text;
  std::string source;        // "fallback", "llm", "agent", ...
  std::int32_t tokens_used = 0;
  std::string model;
  std::string finish_reason; // "completed", "tool_calls", ...
  std::vector<tool_call_info> tool_calls; // an LLM asking for tools
  // What the agent decided, for the session to keep (and store with the
  // answer): the conversation state after this answer.
  bool has_state = false;
  std::string intent;
  std::string pending_slot;
  std::int32_t low_confidence_streak = 0;
  std::string session_status; // "handoff" when a human takes over
};

/// A tool call to run for a session.
struct tool_invocation {
  std::int64_t session_id = 0;
  std::string call_id;
  std::string name;
  std::string arguments; // JSON object text
};

/// What a tool answered. A failed call (bad arguments, timeout, storage
/// down) is not an error message but ok=false with a JSON `error` the LLM
/// can read.
struct tool_outcome {
  std::string name;
  bool ok = false;
  std::string content; // JSON text
  std::int64_t duration_ms = 0;
};

/// A human agent's reply to a session (POST /api/sessions/{id}/agent-message).
struct agent_message {
  std::int64_t session_id = 0;
  std::string text;
  std::string agent_name;
};

/// Word between gateways, relayed by the workers, that a session changed
/// on another gateway: `changed` (a support agent's message, a release, a
/// new status, a REST message were stored there), `claimed` (its client
/// resumed there) or `removed` (it was deleted). A gateway with a live actor
/// of the session passes it on, so that its client hears at once.
struct session_news {
  std::int64_t session_id = 0;
  std::string kind;
};

/// A chat message that arrived over REST (POST /api/chat/send): answered
/// with the stored question and answer once both are committed. The session
/// checks `resume_token` against its stored hash first: only the holder of
/// the token may write to (and read answers from) a session.
struct chat_request {
  std::int64_t session_id = 0;
  std::int64_t user_id = 0;
  std::string text;
  std::string client_id;
  std::string message_type;
  std::string resume_token;
};

struct chat_exchange {
  storage::message_record message;
  storage::message_record reply;
};

/// One supervised actor, as the health endpoint shows it.
struct service_status {
  std::string name;
  std::string state; // "running", "restarting"
  std::int32_t restarts = 0;
  std::string last_error;
};

/// The LLM connection, as /api/llm/health shows it.
struct llm_status {
  std::string provider; // "none", "websocket", "openai"
  std::string state;    // "healthy", "connecting", "down", "fallback"
  bool connected = false;
  std::string url;      // redacted
  std::string model;
  std::int32_t restarts = 0;
  std::string last_error;
  std::int64_t last_latency_ms = -1;
  std::string circuit; // "closed", "open", "half_open"; empty: no LLM
};

/// A worker node as a gateway sees it (GET /api/cluster and /health).
struct node_status {
  std::string name;    // "worker-1", in the order of --workers
  std::string role;    // "worker"
  std::string address; // host:port of its node port
  std::string state;   // up, suspect, down, connecting
  std::uint64_t outstanding = 0; // this gateway's requests in flight on it
  std::uint64_t answered = 0;
  std::uint64_t failed = 0;
  std::uint32_t connections = 0;
  std::string last_error;
  std::string llm_state; // its LLM, from its last health answer
  bool database_ok = false;
};

struct health_report {
  llm_status llm;
  bool database_ok = false;
  std::string database_error;
  std::string database_backend;
  std::vector<service_status> services;
  std::uint64_t live_sessions = 0;
  std::string role = "all";
  std::vector<node_status> nodes; // a gateway's workers
};

// -- inspect overloads --------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, attach_request& x) {
  return f(caf::meta::type_name("attach_request"), x.session_id,
           x.resume_token, x.last_seq);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_message& x) {
  return f(caf::meta::type_name("client_message"), x.text, x.client_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, protocol_error& x) {
  return f(caf::meta::type_name("protocol_error"), x.code, x.message,
           x.retry_after_ms, x.client_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chat_turn& x) {
  return f(caf::meta::type_name("chat_turn"), x.role, x.text);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_call_info& x) {
  return f(caf::meta::type_name("tool_call_info"), x.id, x.name, x.arguments);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_output& x) {
  return f(caf::meta::type_name("tool_output"), x.tool_call_id, x.name,
           x.content);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_round& x) {
  return f(caf::meta::type_name("tool_round"), x.text, x.calls, x.outputs);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reply_request& x) {
  return f(caf::meta::type_name("reply_request"), x.request_id, x.session_id,
           x.reply_to, x.text, x.intent, x.pending_slot,
           x.low_confidence_streak, x.history, x.system_prompt, x.tools,
           x.tool_choice, x.rounds);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reply_result& x) {
  return f(caf::meta::type_name("reply_result"), x.text, x.source,
           x.tokens_used, x.model, x.finish_reason, x.tool_calls, x.has_state,
           x.intent, x.pending_slot, x.low_confidence_streak,
           x.session_status);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_invocation& x) {
  return f(caf::meta::type_name("tool_invocation"), x.session_id, x.call_id,
           x.name, x.arguments);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_outcome& x) {
  return f(caf::meta::type_name("tool_outcome"), x.name, x.ok, x.content,
           x.duration_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_news& x) {
  return f(caf::meta::type_name("session_news"), x.session_id, x.kind);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_message& x) {
  return f(caf::meta::type_name("agent_message"), x.session_id, x.text,
           x.agent_name);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chat_request& x) {
  return f(caf::meta::type_name("chat_request"), x.session_id, x.user_id,
           x.text, x.client_id, x.message_type, x.resume_token);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chat_exchange& x) {
  return f(caf::meta::type_name("chat_exchange"), x.message, x.reply);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, service_status& x) {
  return f(caf::meta::type_name("service_status"), x.name, x.state,
           x.restarts, x.last_error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, llm_status& x) {
  return f(caf::meta::type_name("llm_status"), x.provider, x.state,
           x.connected, x.url, x.model, x.restarts, x.last_error,
           x.last_latency_ms, x.circuit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  return f(caf::meta::type_name("node_status"), x.name, x.role, x.address,
           x.state, x.outstanding, x.answered, x.failed, x.connections,
           x.last_error, x.llm_state, x.database_ok);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, health_report& x) {
  return f(caf::meta::type_name("health_report"), x.llm, x.database_ok,
           x.database_error, x.database_backend, x.services, x.live_sessions,
           x.role, x.nodes);
}

} // namespace parley

namespace parley::storage {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_record& x) {
  return f(caf::meta::type_name("session_record"), x.id, x.user_id, x.title,
           x.status, x.channel, x.resume_token_hash, x.created_at,
           x.updated_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, message_record& x) {
  return f(caf::meta::type_name("message_record"), x.id, x.session_id,
           x.user_id, x.is_user, x.role, x.content, x.message_type,
           x.tokens_used, x.response_time, x.client_id, x.reply_to, x.seq,
           x.source, x.finish_reason, x.created_at, x.author);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, new_session& x) {
  return f(caf::meta::type_name("new_session"), x.user_id, x.title, x.channel,
           x.resume_token_hash);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, new_user_message& x) {
  return f(caf::meta::type_name("new_user_message"), x.session_id, x.user_id,
           x.client_id, x.content, x.message_type, x.seq, x.session_title);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_message_result& x) {
  return f(caf::meta::type_name("user_message_result"), x.message,
           x.duplicate, x.has_reply, x.reply);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        new_assistant_message& x) {
  return f(caf::meta::type_name("new_assistant_message"), x.session_id,
           x.user_id, x.reply_to, x.role, x.content, x.source, x.finish_reason,
           x.tokens_used, x.response_time, x.seq, x.author, x.agent_state,
           x.session_status);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, new_event& x) {
  return f(caf::meta::type_name("new_event"), x.session_id, x.event_type,
           x.payload);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_snapshot& x) {
  return f(caf::meta::type_name("session_snapshot"), x.session, x.max_seq,
           x.replay, x.unanswered, x.history, x.agent_state);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_record& x) {
  return f(caf::meta::type_name("order_record"), x.id, x.status, x.carrier,
           x.tracking, x.items, x.updated_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_record& x) {
  return f(caf::meta::type_name("user_record"), x.id, x.name, x.email,
           x.avatar_url, x.status, x.preferences, x.created_at, x.updated_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, new_user& x) {
  return f(caf::meta::type_name("new_user"), x.name, x.email, x.avatar_url,
           x.preferences);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_patch& x) {
  return f(caf::meta::type_name("user_patch"), x.set_name, x.name,
           x.set_email, x.email, x.set_avatar_url, x.avatar_url, x.set_status,
           x.status, x.set_preferences, x.preferences);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, page_request& x) {
  return f(caf::meta::type_name("page_request"), x.page, x.limit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, page_info& x) {
  return f(caf::meta::type_name("page_info"), x.page, x.limit, x.total,
           x.pages);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_query& x) {
  return f(caf::meta::type_name("user_query"), x.page, x.search);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_page& x) {
  return f(caf::meta::type_name("user_page"), x.items, x.page);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_listing& x) {
  return f(caf::meta::type_name("session_listing"), x.session,
           x.message_count);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_query& x) {
  return f(caf::meta::type_name("session_query"), x.page, x.user_id,
           x.status);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_page& x) {
  return f(caf::meta::type_name("session_page"), x.items, x.page);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_patch& x) {
  return f(caf::meta::type_name("session_patch"), x.set_title, x.title,
           x.set_status, x.status);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_details& x) {
  return f(caf::meta::type_name("session_details"), x.listing,
           x.with_messages, x.messages);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, message_query& x) {
  return f(caf::meta::type_name("message_query"), x.page, x.session_id,
           x.user_id, x.after_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, message_page& x) {
  return f(caf::meta::type_name("message_page"), x.items, x.page);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, setting_record& x) {
  return f(caf::meta::type_name("setting_record"), x.id, x.key, x.value,
           x.description, x.category, x.created_at, x.updated_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, setting_patch& x) {
  return f(caf::meta::type_name("setting_patch"), x.value, x.set_description,
           x.description);
}

} // namespace parley::storage

// connection_ptr never leaves its node; CAF may carry it locally.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::connection_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::asker_job)

// add_message_type() also registers std::vector<T> for each T listed here.
CAF_BEGIN_TYPE_ID_BLOCK(parley, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(parley, (parley::attach_request))
  CAF_ADD_TYPE_ID(parley, (parley::client_message))
  CAF_ADD_TYPE_ID(parley, (parley::protocol_error))
  CAF_ADD_TYPE_ID(parley, (parley::chat_turn))
  CAF_ADD_TYPE_ID(parley, (parley::tool_call_info))
  CAF_ADD_TYPE_ID(parley, (parley::tool_output))
  CAF_ADD_TYPE_ID(parley, (parley::tool_round))
  CAF_ADD_TYPE_ID(parley, (parley::reply_request))
  CAF_ADD_TYPE_ID(parley, (parley::reply_result))
  CAF_ADD_TYPE_ID(parley, (parley::tool_invocation))
  CAF_ADD_TYPE_ID(parley, (parley::tool_outcome))
  CAF_ADD_TYPE_ID(parley, (parley::agent_message))
  CAF_ADD_TYPE_ID(parley, (parley::chat_request))
  CAF_ADD_TYPE_ID(parley, (parley::chat_exchange))
  CAF_ADD_TYPE_ID(parley, (parley::service_status))
  CAF_ADD_TYPE_ID(parley, (parley::llm_status))
  CAF_ADD_TYPE_ID(parley, (parley::health_report))
  CAF_ADD_TYPE_ID(parley, (parley::node_status))
  CAF_ADD_TYPE_ID(parley, (parley::session_news))
  CAF_ADD_TYPE_ID(parley, (parley::storage::session_record))
  CAF_ADD_TYPE_ID(parley, (parley::storage::message_record))
  CAF_ADD_TYPE_ID(parley, (parley::storage::new_session))
  CAF_ADD_TYPE_ID(parley, (parley::storage::new_user_message))
  CAF_ADD_TYPE_ID(parley, (parley::storage::user_message_result))
  CAF_ADD_TYPE_ID(parley, (parley::storage::new_assistant_message))
  CAF_ADD_TYPE_ID(parley, (parley::storage::new_event))
  CAF_ADD_TYPE_ID(parley, (parley::storage::session_snapshot))
  CAF_ADD_TYPE_ID(parley, (parley::storage::user_record))
  CAF_ADD_TYPE_ID(parley, (parley::storage::new_user))
  CAF_ADD_TYPE_ID(parley, (parley::storage::user_patch))
  CAF_ADD_TYPE_ID(parley, (parley::storage::page_request))
  CAF_ADD_TYPE_ID(parley, (parley::storage::page_info))
  CAF_ADD_TYPE_ID(parley, (parley::storage::user_query))
  CAF_ADD_TYPE_ID(parley, (parley::storage::user_page))
  CAF_ADD_TYPE_ID(parley, (parley::storage::session_listing))
  CAF_ADD_TYPE_ID(parley, (parley::storage::session_query))
  CAF_ADD_TYPE_ID(parley, (parley::storage::session_page))
  CAF_ADD_TYPE_ID(parley, (parley::storage::session_patch))
  CAF_ADD_TYPE_ID(parley, (parley::storage::session_details))
  CAF_ADD_TYPE_ID(parley, (parley::storage::message_query))
  CAF_ADD_TYPE_ID(parley, (parley::storage::message_page))
  CAF_ADD_TYPE_ID(parley, (parley::storage::setting_record))
  CAF_ADD_TYPE_ID(parley, (parley::storage::setting_patch))
  CAF_ADD_TYPE_ID(parley, (parley::storage::order_record))

  CAF_ADD_ATOM(parley, parley, attach_atom, "attach")
  CAF_ADD_ATOM(parley, parley, detach_atom, "detach")
  CAF_ADD_ATOM(parley, parley, ping_atom, "ping")
  CAF_ADD_ATOM(parley, parley, drain_atom, "drain")
  CAF_ADD_ATOM(parley, parley, create_atom, "create")
  CAF_ADD_ATOM(parley, parley, load_atom, "load")
  CAF_ADD_ATOM(parley, parley, store_atom, "store")
  CAF_ADD_ATOM(parley, parley, event_atom, "event")
  CAF_ADD_ATOM(parley, parley, flush_atom, "flush")
  CAF_ADD_ATOM(parley, parley, generate_atom, "generate")
  CAF_ADD_ATOM(parley, parley, health_atom, "health")
  CAF_ADD_ATOM(parley, parley, register_atom, "register")
  CAF_ADD_ATOM(parley, parley, count_atom, "count")
  CAF_ADD_ATOM(parley, parley, restart_atom, "restart")
  CAF_ADD_ATOM(parley, parley, retry_atom, "retry")
  CAF_ADD_ATOM(parley, parley, linger_atom, "linger")
  CAF_ADD_ATOM(parley, parley, chat_atom, "chat")
  CAF_ADD_ATOM(parley, parley, delta_atom, "delta")
  CAF_ADD_ATOM(parley, parley, cancel_atom, "cancel")
  CAF_ADD_ATOM(parley, parley, llm_open_atom, "llm_open")
  CAF_ADD_ATOM(parley, parley, llm_frame_atom, "llm_frame")
  CAF_ADD_ATOM(parley, parley, llm_closed_atom, "llm_closed")
  CAF_ADD_ATOM(parley, parley, expire_atom, "expire")
  CAF_ADD_ATOM(parley, parley, probe_atom, "probe")
  CAF_ADD_ATOM(parley, parley, status_atom, "status")
  CAF_ADD_ATOM(parley, parley, http_head_atom, "http_head")
  CAF_ADD_ATOM(parley, parley, sse_atom, "sse")
  CAF_ADD_ATOM(parley, parley, body_atom, "body")
  CAF_ADD_ATOM(parley, parley, done_atom, "done")
  CAF_ADD_ATOM(parley, parley, users_atom, "users")
  CAF_ADD_ATOM(parley, parley, sessions_atom, "sessions")
  CAF_ADD_ATOM(parley, parley, messages_atom, "messages")
  CAF_ADD_ATOM(parley, parley, settings_atom, "settings")
  CAF_ADD_ATOM(parley, parley, list_atom, "list")
  CAF_ADD_ATOM(parley, parley, find_atom, "find")
  CAF_ADD_ATOM(parley, parley, update_atom, "update")
  CAF_ADD_ATOM(parley, parley, remove_atom, "remove")
  CAF_ADD_ATOM(parley, parley, resolve_atom, "resolve")
  CAF_ADD_ATOM(parley, parley, tool_atom, "tool")
  CAF_ADD_ATOM(parley, parley, search_atom, "search")
  CAF_ADD_ATOM(parley, parley, reload_atom, "reload")
  CAF_ADD_ATOM(parley, parley, orders_atom, "orders")
  CAF_ADD_ATOM(parley, parley, handoffs_atom, "handoffs")
  CAF_ADD_ATOM(parley, parley, agent_msg_atom, "agent_msg")
  CAF_ADD_ATOM(parley, parley, release_atom, "release")
  CAF_ADD_ATOM(parley, parley, tick_atom, "tick")
  CAF_ADD_ATOM(parley, parley, login_atom, "login")
  CAF_ADD_ATOM(parley, parley, cluster_atom, "cluster")
  CAF_ADD_ATOM(parley, parley, news_atom, "news")
  CAF_ADD_ATOM(parley, parley, publish_atom, "publish")
  CAF_ADD_ATOM(parley, parley, subscribe_atom, "subscribe")
  CAF_ADD_ATOM(parley, parley, refresh_atom, "refresh")
  CAF_ADD_ATOM(parley, parley, deadline_atom, "deadline")

CAF_END_TYPE_ID_BLOCK(parley)
