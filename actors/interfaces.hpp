#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"

// The typed handles of Parley's actors, in one place: who accepts what.
namespace parley {

/// One per conversation; fed by the transport, answers with frames.
using session_actor = caf::typed_actor<
  caf::reacts_to<attach_atom, connection_ptr, attach_request>,
  caf::reacts_to<detach_atom, std::uint64_t>,
  caf::reacts_to<client_message>,
  caf::reacts_to<ping_atom>,
  caf::reacts_to<protocol_error>,
  caf::reacts_to<drain_atom>,
  caf::reacts_to<retry_atom>,
  caf::reacts_to<linger_atom, std::uint64_t>,
  // Its own wake-up for the deadlines of its requests (timed_request.hpp).
  caf::reacts_to<deadline_atom>,
  caf::replies_to<chat_atom, chat_request>::with<chat_exchange>,
  // From the responder: a piece of the answer to request N, streamed.
  caf::reacts_to<delta_atom, std::uint64_t, std::string>,
  // From the client: stop the answer to message M.
  caf::reacts_to<cancel_atom, std::int64_t>,
  // From the support team (REST): a human agent's message, and handing the
  // conversation back to the bot. Both answer with the stored message.
  caf::replies_to<agent_msg_atom, agent_message>::with<
    storage::message_record>,
  caf::replies_to<release_atom, std::int64_t>::with<storage::message_record>,
  // From the support team (REST): the session is set to this status
  // ("active", "inactive"). A handoff ends with it: answers with the notice
  // stored for the customer, or a record with id 0 when there was none.
  caf::replies_to<status_atom, std::int64_t, std::string>::with<
    storage::message_record>,
  // Another gateway stored something for this session (false), or its
  // client resumed there (true): catch up from the database.
  caf::reacts_to<refresh_atom, bool>>;

/// Owns the database; answers each request after its transaction commits.
using persistence_actor = caf::typed_actor<
  caf::replies_to<create_atom, storage::new_session>::with<
    storage::session_record>,
  caf::replies_to<load_atom, std::int64_t, std::int64_t, std::uint32_t>::with<
    storage::session_snapshot>,
  caf::replies_to<store_atom, storage::new_user_message>::with<
    storage::user_message_result>,
  caf::replies_to<store_atom, storage::new_assistant_message>::with<
    storage::message_record>,
  caf::reacts_to<event_atom, storage::new_event>,
  caf::replies_to<health_atom>::with<std::string>,
  caf::reacts_to<flush_atom>,
  // The REST admin API.
  caf::replies_to<users_atom, list_atom, storage::user_query>::with<
    storage::user_page>,
  caf::replies_to<users_atom, find_atom, std::int64_t>::with<
    storage::user_record>,
  caf::replies_to<users_atom, create_atom, storage::new_user>::with<
    storage::user_record>,
  caf::replies_to<users_atom, update_atom, std::int64_t,
                  storage::user_patch>::with<storage::user_record>,
  caf::replies_to<users_atom, remove_atom, std::int64_t>::with<std::int64_t>,
  caf::replies_to<users_atom, resolve_atom, std::string, std::string>::with<
    storage::user_record>,
  caf::replies_to<sessions_atom, list_atom, storage::session_query>::with<
    storage::session_page>,
  caf::replies_to<sessions_atom, find_atom, std::int64_t, bool>::with<
    storage::session_details>,
  caf::replies_to<sessions_atom, update_atom, std::int64_t,
                  storage::session_patch>::with<storage::session_listing>,
  caf::replies_to<sessions_atom, remove_atom, std::int64_t>::with<
    std::int64_t>,
  caf::replies_to<messages_atom, list_atom, storage::message_query>::with<
    storage::message_page>,
  caf::replies_to<settings_atom, list_atom, std::string>::with<
    std::vector<storage::setting_record>>,
  caf::replies_to<settings_atom, find_atom, std::string>::with<
    storage::setting_record>,
  caf::replies_to<settings_atom, update_atom, std::string,
                  storage::setting_patch>::with<storage::setting_record>,
  // The support agent. An unknown order answers with an empty id.
  caf::replies_to<orders_atom, find_atom, std::string>::with<
    storage::order_record>,
  caf::replies_to<handoffs_atom, list_atom, std::uint32_t>::with<
    std::vector<storage::session_details>>>;

/// Anything that answers a user message: the fallback now, an LLM later.
/// A streaming responder sends `delta_atom, request_id, text` to the
/// requester before its final answer; `cancel_atom` asks it to stop a
/// request (best effort: the session does not wait for it).
using responder_actor = caf::typed_actor<
  caf::replies_to<generate_atom, reply_request>::with<reply_result>,
  caf::reacts_to<cancel_atom, std::uint64_t>>;

/// The support agent (the router): answers a user message by routing it,
/// asking for missing details, calling tools and composing the answer, with
/// the LLM when one is connected. Streamed pieces from the LLM pass through
/// it to the session.
using agent_actor = responder_actor::extend<
  caf::reacts_to<delta_atom, std::uint64_t, std::string>,
  caf::reacts_to<deadline_atom>>; // timed_request.hpp

/// Runs the agent's tools: arguments checked against the tool's schema, a
/// timeout per call, each call recorded as a chat_events row.
using tool_actor = caf::typed_actor<
  caf::replies_to<tool_atom, tool_invocation>::with<tool_outcome>,
  caf::reacts_to<deadline_atom>>; // timed_request.hpp

/// The knowledge base: search answers with the result as JSON text
/// ({query, top_k, matches}); reload re-indexes changed files at once and
/// answers with a summary; tick is its own periodic check of the folder.
using knowledge_actor = caf::typed_actor<
  caf::replies_to<search_atom, std::string, std::int32_t>::with<std::string>,
  caf::replies_to<reload_atom>::with<std::string>,
  caf::reacts_to<tick_atom>>;

/// A connection to an LLM, as the supervisor sees it: a responder that
/// reports its state.
using llm_actor = responder_actor::extend<
  caf::replies_to<status_atom>::with<llm_status>>;

/// The custom WebSocket LLM: also hears from its network client.
using llm_ws_actor = llm_actor::extend<
  caf::reacts_to<llm_open_atom>,
  caf::reacts_to<llm_frame_atom, std::string>,
  caf::reacts_to<llm_closed_atom, std::string>,
  caf::reacts_to<expire_atom>, // its wake-up for requests past LLM_TIMEOUT
  caf::reacts_to<probe_atom>>;

/// An OpenAI-compatible server: hears from its HTTP client, per request id.
using llm_openai_actor = llm_actor::extend<
  caf::reacts_to<http_head_atom, std::string, std::int32_t, std::string>,
  caf::reacts_to<sse_atom, std::string, std::string>,
  caf::reacts_to<body_atom, std::string, std::string>,
  caf::reacts_to<done_atom, std::string, std::string, bool>,
  caf::reacts_to<retry_atom, std::string>,
  caf::reacts_to<probe_atom>>;

/// Maps session ids to live session actors; spawns them for new sockets.
using session_registry_actor = caf::typed_actor<
  caf::reacts_to<attach_atom, connection_ptr, attach_request>,
  caf::reacts_to<register_atom, std::int64_t, session_actor>,
  caf::replies_to<count_atom>::with<std::uint64_t>,
  caf::replies_to<drain_atom>::with<std::uint64_t>,
  caf::replies_to<chat_atom, chat_request>::with<chat_exchange>,
  caf::replies_to<agent_msg_atom, agent_message>::with<
    storage::message_record>,
  caf::replies_to<release_atom, std::int64_t>::with<storage::message_record>,
  caf::replies_to<status_atom, std::int64_t, std::string>::with<
    storage::message_record>,
  caf::reacts_to<remove_atom, std::int64_t>,
  // From a session actor: tell the other gateways (a resume here).
  caf::reacts_to<publish_atom, session_news>,
  // From the gateway's worker pool: a session changed on another gateway.
  caf::reacts_to<news_atom, session_news>>;

/// Who hears of sessions changing on other gateways: a gateway's worker
/// pool, subscribed at each worker it connects to.
using news_listener_actor
  = caf::typed_actor<caf::reacts_to<news_atom, session_news>>;

/// A worker node's door, published on its node port: what gateways may ask
/// of the worker's agent, knowledge base and health. With a node secret, a
/// gateway logs in first and everything else refuses nodes that did not.
using worker_actor = caf::typed_actor<
  caf::replies_to<login_atom, std::string>::with<bool>,
  caf::replies_to<generate_atom, reply_request>::with<reply_result>,
  caf::reacts_to<cancel_atom, std::uint64_t>,
  caf::replies_to<health_atom>::with<health_report>,
  caf::replies_to<search_atom, std::string, std::int32_t>::with<std::string>,
  caf::replies_to<reload_atom>::with<std::string>,
  // Gateways meet through the workers: each subscribes (the sender is the
  // news_listener_actor), and news from one goes to every other.
  caf::reacts_to<subscribe_atom>,
  caf::reacts_to<news_atom, session_news>>;

/// A gateway's workers behind one handle: the agent and the knowledge base
/// its sessions and REST calls use, spread over the worker nodes.
using worker_pool_actor = agent_actor::extend_with<knowledge_actor>::extend_with<
  news_listener_actor>::extend<
  caf::replies_to<cluster_atom>::with<std::vector<node_status>>,
  // From this gateway's registry: tell the other gateways.
  caf::reacts_to<publish_atom, session_news>,
  // Timers: reconnect worker N, probe every worker's health.
  caf::reacts_to<restart_atom, std::uint64_t>,
  caf::reacts_to<probe_atom>>;

/// Owns the long-lived actors and restarts them when they die.
using supervisor_actor = caf::typed_actor<
  caf::replies_to<health_atom>::with<health_report>,
  caf::reacts_to<restart_atom, std::string>,
  // From the LLM actor: its connection is open, answers may go to it.
  caf::reacts_to<llm_open_atom>>;

} // namespace parley
