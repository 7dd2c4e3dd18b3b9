#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/circuit_breaker.hpp"
#include "actors/interfaces.hpp"
#include "config/llm_config.hpp"
#include "transport/openai_protocol.hpp"

namespace parley {

namespace llm {
class llm_http_client;
class http_request_handle;
} // namespace llm

/// One chat-completions request in flight.
struct openai_pending {
  caf::typed_response_promise<reply_result> promise;
  session_actor requester; // gets the streamed pieces
  reply_request request;   // kept to send it again after a retryable failure
  std::shared_ptr<llm::http_request_handle> handle;
  int attempts = 0;
  std::int32_t status = 0;
  std::string retry_after;
  std::string body; // a non-streamed answer or an error body
  std::string text; // streamed so far
  std::string model;
  std::string finish_reason;
  std::int64_t tokens = 0;
  std::string stream_error; // an error reported inside the stream
  llm::openai::tool_call_assembler tool_calls; // streamed tool-call pieces
};

struct llm_openai_state {
  static inline const char* name = "llm_openai";

  llm_config config;
  supervisor_actor parent;
  responder_actor fallback;
  std::shared_ptr<llm::llm_http_client> client;
  std::optional<circuit_breaker> breaker;
  bool open = false; // the probe succeeded: answers may come from here
  std::uint64_t next_id = 0;
  std::unordered_map<std::string, openai_pending> pending; // by our id
  std::string probe_id;
  std::chrono::steady_clock::time_point probe_sent;
  std::int64_t last_latency_ms = -1;
  std::string last_error;

  ~llm_openai_state();
};

/// An OpenAI-compatible chat-completions server (OpenAI, Ollama, vLLM,
/// llama.cpp's server) as a responder. Answers stream as Server-Sent Events
/// whose text deltas go to the asking session. 429, 5xx, timeouts and lost
/// connections are retried (LLM_MAX_RETRIES, honouring Retry-After) as long
/// as nothing was streamed; 400/401/404 and content filters are not. The
/// failures that say the provider is down feed a circuit breaker: when it
/// opens the actor ends, the fallback takes over and the supervisor probes
/// again with backoff. It starts by asking GET {base}/models, and tells the
/// supervisor it may answer once that works.
llm_openai_actor::behavior_type llm_openai_fun(
  llm_openai_actor::stateful_pointer<llm_openai_state> self, llm_config config,
  boost::asio::any_io_executor executor, supervisor_actor parent,
  responder_actor fallback);

} // namespace parley
