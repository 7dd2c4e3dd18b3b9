#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/any_io_executor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/circuit_breaker.hpp"
#include "actors/deadline_table.hpp"
#include "actors/interfaces.hpp"
#include "config/llm_config.hpp"

namespace parley {

namespace llm {
class llm_ws_client;
} // namespace llm

/// A request sent to the LLM and not answered yet.
struct llm_pending {
  caf::typed_response_promise<reply_result> promise;
  session_actor requester; // gets the streamed pieces
  reply_request request;   // to send again, or for the fallback
  std::string text;        // streamed so far
  int attempts = 1;
};

struct llm_ws_state {
  static inline const char* name = "llm_websocket";

  llm_config config;
  supervisor_actor parent;
  responder_actor fallback;
  std::shared_ptr<llm::llm_ws_client> client;
  bool open = false;
  std::uint64_t next_id = 0;
  std::unordered_map<std::string, llm_pending> pending; // by wire id
  /// When each pending request times out, checked when the earliest is
  /// due (expire_atom) rather than with a delayed message per request:
  /// CAF's clock holds each of those for the whole LLM_TIMEOUT.
  deadline_table<std::string, caf::actor_clock::time_point> deadlines;
  /// Requests beyond LLM_MAX_IN_FLIGHT, in arrival order, not sent yet: a
  /// burst of thousands of messages must not fill the connection's outgoing
  /// queue (ws_client_options::max_queued_frames), which ends the
  /// connection as if the LLM had stopped reading.
  std::deque<llm_pending> waiting;
  std::string health_id;
  std::chrono::steady_clock::time_point health_sent;
  std::int64_t last_latency_ms = -1;
  std::string last_error;
  std::optional<circuit_breaker> breaker; // request-level failures
  /// Tools arrays already found to be valid JSON (see send_wire).
  std::unordered_set<std::string> checked_tools;

  ~llm_ws_state();
};

/// The custom WebSocket LLM as a responder: one persistent connection
/// (llm::llm_ws_client on the server's io threads) shared by all sessions,
/// requests told apart by id, streamed pieces forwarded to the session that
/// asked. A request the LLM refuses with an error frame is sent again (up to
/// LLM_MAX_RETRIES times) while nothing of it streamed. A request the LLM
/// fails for good (errors, a timeout, the connection ending) before any of
/// its text was streamed is handed to the fallback, so
/// the user still gets an answer at once; one that had streamed fails, and
/// the session keeps that text. Requests that fail for good count toward a
/// circuit breaker (LLM_CIRCUIT_FAILURES): an LLM that stays connected but
/// answers nothing is treated as down. When the breaker opens or the
/// connection ends, the actor ends with an error, so that the supervisor switches to the fallback
/// and reconnects with backoff; a new actor makes a new connection.
llm_ws_actor::behavior_type
llm_ws_fun(llm_ws_actor::stateful_pointer<llm_ws_state> self, llm_config config,
           boost::asio::any_io_executor executor, supervisor_actor parent,
           responder_actor fallback);

} // namespace parley
