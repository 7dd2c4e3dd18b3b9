#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/mock_llm/options.hpp"

// The mock's requests and replies of both protocols as pure functions (no
// Beast), so that the tests can check them directly and the socket code
// stays about timing only.

namespace parley::mock_llm {

/// Splits `text` into at most `count` non-empty pieces of about equal size
/// that concatenate to `text`. Never cuts inside a UTF-8 sequence, so each
/// piece is valid UTF-8 (and valid JSON text) on its own. Empty text gives
/// no pieces; text with fewer characters than `count` gives one piece per
/// character.
std::vector<std::string> split_chunks(std::string_view text, std::size_t count);

/// The mock's deterministic token count: whitespace-separated words.
std::uint64_t count_tokens(std::string_view text);

/// JSON text that never throws on odd input (invalid UTF-8 is replaced).
std::string dump(const nlohmann::json& value);

/// The result of one tool call that a request carries back (a call of an
/// earlier round that the client ran).
struct tool_output {
  std::string name;    // the tool's name; empty when the request does not say
  std::string content; // as sent; JSON that is not a string is dumped
};

/// What a request says about tools, in either protocol.
struct tool_context {
  std::vector<std::string> offered; // the names of the tools offered
  /// "auto" (also when absent), "none", "required", or the name of the one
  /// function the request forces.
  std::string choice = "auto";
  /// The results of earlier rounds, in order. openai: the `tool` messages
  /// after the last `user` message, named after the assistant's calls they
  /// answer (or their own `name`); websocket: metadata.tool_results.
  std::vector<tool_output> outputs;
};

/// The reply text for a user message (or for a tool's result, which the
/// reply then quotes): `--reply`, or `Echo: <user text>`.
std::string reply_text(const options& opts, std::string_view user_text,
                       const std::optional<std::string>& tool_result);

// -- custom WebSocket protocol ------------------------------------------------

/// One client frame of the custom protocol.
struct ws_request {
  nlohmann::json id;           // echoed in every reply; null when absent
  bool cancel = false;         // {"id":…,"cancel":true}
  bool health_check = false;   // metadata.health_check == true
  bool stream = false;         // settings.stream
  std::string message;
  std::string model;           // "mock-model" when the request has none
  nlohmann::json tool_results; // metadata.tool_results; null when absent
  tool_context tools;          // metadata.tools, tool_choice, tool_results
  nlohmann::json body;         // the whole frame, for /stats
  std::string error;           // non-empty: the frame is malformed
};

ws_request parse_ws_request(std::string_view text);

/// The text of metadata.tool_results: the `content` (or `result`) strings of
/// its entries joined by newlines, else the JSON itself.
std::string tool_results_text(const nlohmann::json& tool_results);

std::string ws_delta_frame(const nlohmann::json& id, std::string_view delta);

struct ws_final {
  nlohmann::json id;
  std::string text;
  std::uint64_t tokens_used = 0;
  std::string model;
  std::string finish_reason = "completed";
  nlohmann::json metadata = nlohmann::json::object();
};

/// The final frame; `legacy` names the fields `content` and
/// `usage.total_tokens` instead of `response` and `tokens_used`.
std::string ws_final_frame(const ws_final& reply, bool legacy);

/// `{"id":…,"error":message}`, plus `"code":status` when status != 0.
std::string ws_error_frame(const nlohmann::json& id, std::string_view message,
                           unsigned status = 0);

/// --garbage: what a chat request gets instead of a reply, none of it
/// readable: a text frame that is not JSON, then a JSON frame with the
/// request's id whose fields have the wrong types.
std::vector<std::string> ws_garbage_frames(const nlohmann::json& id);

/// The header of an unmasked (server-to-client) final text frame carrying
/// `payload_bytes`, as RFC 6455 lays it out; --truncate-frame writes it by
/// hand, followed by only part of the payload.
std::string ws_text_frame_header(std::uint64_t payload_bytes);

// -- OpenAI-compatible chat completions ---------------------------------------

/// A POST /v1/chat/completions body.
struct chat_request {
  std::string model;          // "mock-model" when the body has none
  bool stream = false;
  bool tools_offered = false; // a non-empty `tools` array
  std::string user_text;      // the last `user` message's text
  /// The content of a `tool` message after the last `user` message: the
  /// agent answered a tool call, so the reply is text quoting it.
  std::optional<std::string> tool_result;
  tool_context tools; // `tools`, `tool_choice`, the `tool` messages
  std::uint64_t prompt_tokens = 0;
  nlohmann::json body;
  std::string error; // non-empty: answer 400 with it
};

chat_request parse_chat_request(std::string_view body);

/// What every chunk (and the non-streamed answer) of one completion shares.
struct completion_ids {
  std::string id; // chatcmpl-mock-N
  std::int64_t created = 0;
  std::string model;
};

/// One Server-Sent Event carrying a chat.completion.chunk with one choice;
/// finish_reason null when empty.
std::string sse_chunk(const completion_ids& ids, const nlohmann::json& delta,
                      std::string_view finish_reason = {});

/// The usage chunk: no choices, the token counts.
std::string sse_usage_chunk(const completion_ids& ids,
                            std::uint64_t prompt_tokens,
                            std::uint64_t completion_tokens);

/// `data: [DONE]`, the end of a stream.
std::string sse_done();

/// --garbage: the events of a stream that carries nothing readable: data
/// that is not JSON, then a JSON object of the wrong shape.
std::vector<std::string> sse_garbage_events();

/// The streamed deltas of a tool call: the first names the tool (with empty
/// arguments), the others carry pieces of the arguments.
std::vector<nlohmann::json> tool_call_deltas(const std::string& call_id,
                                             const std::string& name,
                                             const std::string& arguments,
                                             std::size_t pieces);

/// A non-streamed chat.completion: text, or a tool call when `tool_name` is
/// not empty.
std::string completion_body(const completion_ids& ids, const std::string& text,
                            const std::string& call_id,
                            const std::string& tool_name,
                            const std::string& tool_arguments,
                            std::uint64_t prompt_tokens,
                            std::uint64_t completion_tokens);

/// OpenAI's error shape: {"error":{"message","type","param":null,"code"}}.
std::string openai_error_body(std::string_view message, std::string_view type,
                              std::string_view code);

} // namespace parley::mock_llm
