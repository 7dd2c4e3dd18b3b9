#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "transport/openai_protocol.hpp" // tool_call, malformed, parse_json

// The custom LLM WebSocket protocol of the seeds' Flask backend
// (docs in its README: "Your LLM WebSocket Protocol"), extended with request
// ids so that one persistent connection can carry concurrent requests, with
// streamed deltas, cancellation and tool results. Pure functions, no
// sockets.
//
// Parley sends:
//   {"id":"r1","message":"...","model":"...",
//    "metadata":{"sql_mode":false,"advanced_ai":false,"session_context":{},
//                "tool_results":[...]},            <- only when there are any
//    "settings":{"max_tokens":4000,"temperature":0.7,"stream":false}}
//   {"id":"r1","cancel":true}
// and accepts, per request id (a string, or an integer taken as its decimal
// text):
//   {"id":"r1","delta":"text"}                      a piece of a streamed reply
//   {"id":"r1","response":"...","tokens_used":150,"model":"...",
//    "finish_reason":"completed","metadata":{...}} the reply (also the legacy
//                   spellings "content" and "usage":{"total_tokens":N})
//   {"id":"r1","error":"..."}                       the request failed
namespace parley::llm::custom {

struct generation_settings {
  std::int64_t max_tokens = 4000;
  double temperature = 0.7; // not finite: not sent
  bool stream = false;
};

/// The outcome of a tool call, sent back in metadata.tool_results.
struct tool_result {
  std::string tool_call_id;
  std::string name;
  std::string content;
};

struct request {
  std::string id;
  std::string message;
  std::string model;
  bool sql_mode = false;
  bool advanced_ai = false;
  nlohmann::json session_context;        // null: sent as {}
  std::vector<tool_result> tool_results; // empty: not sent
  /// The tools offered, an OpenAI `tools` array as compact JSON text (as
  /// nlohmann dumps it; sent as given), and the one forced or
  /// "auto"/"none"/"required": metadata.tools and metadata.tool_choice,
  /// sent only when there are tools.
  std::string tools;
  std::string tool_choice;
  std::string system_prompt; // metadata.system_prompt when not empty
  generation_settings settings;
};

std::string build_request(const request& req);

/// The health probe: message "ping" with metadata.health_check = true.
std::string build_health_request(std::string_view id, std::string_view model,
                                 const generation_settings& settings = {});

/// Asks the server to stop working on request `id`.
std::string build_cancel(std::string_view id);

/// Longest request id accepted in a reply, in bytes (Parley's own are short).
constexpr std::size_t max_id_bytes = 128;

/// A piece of a streamed reply.
struct delta {
  std::string id;
  std::string text;
};

/// The reply to a request.
struct final_reply {
  std::string id;
  std::string response;
  std::int64_t tokens_used = 0;
  std::string model;
  std::string finish_reason = "completed";
  std::string metadata = "{}"; // the metadata object as JSON text
  std::vector<tool_call> tool_calls; // from metadata.tool_calls
};

/// The server reports a failure; `id` is empty when it names no request
/// (a connection-level error, e.g. about a frame it could not read).
struct error_reply {
  std::string id;
  std::string message;
};

using frame = std::variant<delta, final_reply, error_reply, malformed>;

/// Parses one text frame from the LLM server. A non-null, non-false `error`
/// makes it an error_reply (even beside a response); otherwise a `delta`
/// string makes it a delta; otherwise it is a final_reply, which needs
/// `response` (or `content`) as a string unless metadata.tool_calls has
/// calls. Null fields count as absent. Every other shape, and any id that is
/// not a non-empty string or integer of at most max_id_bytes, is malformed.
frame parse_frame(std::string_view text);

} // namespace parley::llm::custom
